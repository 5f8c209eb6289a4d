// Stand-in model, inside the container (virtual clock): a fresh Debian standard CT has no Apache
// and serves nothing; apt-get (online/offline, apt 2.6 exit codes), dpkg-query, tee/cat round trip;
// vzdump writes a real tar.zst on the node that `pct create` restores (packages + page), also as an
// uploaded template; pct exec on a stopped CT; the page survives HA recovery on shared storage and
// does not travel with a node-local volume (replica taken before Apache was installed).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APACHE_DEFAULT_PAGE } from '../standin/control/model/debian.js';
import type { MemoryEffects } from '../standin/control/model/pure-effects.js';
import { rootfsFromArchive } from '../standin/control/model/rootfs.js';
import { tarDecode, zstdDecode } from '../standin/control/model/tarzst.js';
import { type Kit, TPL, formCluster, kit, managerStatus, sharedLvm, standardTemplate } from '../standin/control/testkit.js';

const NET = (ip: string) => `--net0 name=eth0,bridge=vmbr0,ip=${ip}/24,gw=10.99.0.1`;
const PAGE = '<!doctype html>\n<html><head><title>web1</title></head>\n<body><h1>web1</h1>\n<p>pvelab guest web1 (ct:100) of lab t1 — ünïcode</p></body></html>\n';
const DUMP = '/var/tmp/pvelab-vzdump';
const exec = (vmid: number, ...argv: string[]) => ['pct', 'exec', String(vmid), '--', ...argv];
const STATUS = (vmid: number) => exec(vmid, 'dpkg-query', '-W', '-f=${Status}', 'apache2');
const INSTALL = (vmid: number) => exec(vmid, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', 'apache2');

const fx = (k: Kit) => k.m.effects as MemoryEffects;
const served = (k: Kit, vmid: number) => fx(k).served.get(vmid);

/** cluster, shared LVM on the SAN LUN, the standard template on pve1 */
async function lab(): Promise<Kit> {
  const k = await kit();
  await formCluster(k);
  await sharedLvm(k);
  await standardTemplate(k);
  return k;
}

async function webCt(k: Kit, vmid = 100, node = 'pve1', rootfs = 'vg-san:4'): Promise<void> {
  await k.ok(node, `pct create ${vmid} local:vztmpl/${TPL} --hostname web${vmid - 99} --rootfs ${rootfs} ${NET(`10.99.0.${vmid - 50}`)} --start 1`);
}

async function apache(k: Kit, vmid: number, node = 'pve1'): Promise<void> {
  await k.ok(node, exec(vmid, 'apt-get', 'update'));
  await k.ok(node, INSTALL(vmid));
  expect((await k.ok(node, exec(vmid, 'tee', '/var/www/html/index.html'), PAGE)).stdout).toBe(PAGE);
}

describe('stand-in container contents', () => {
  it('a fresh standard CT has no Apache and serves nothing; apt-get install makes it serve the Debian page, tee replaces it byte for byte', async () => {
    const k = await lab();
    await webCt(k);
    expect(await k.run('pve1', exec(100, 'true'))).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(await k.run('pve1', STATUS(100))).toEqual({ stdout: '', stderr: 'dpkg-query: no packages found matching apache2\n', exitCode: 1 });
    expect(await k.run('pve1', exec(100, 'cat', '/var/www/html/index.html'))).toMatchObject({ exitCode: 1, stderr: 'cat: /var/www/html/index.html: No such file or directory\n' });
    expect(served(k, 100)).toEqual({ node: 'pve1', serve: undefined });
    expect((await k.run('pve1', exec(100, 'tee', '/var/www/html/index.html'), PAGE)).stderr).toBe('tee: /var/www/html/index.html: No such file or directory\n');
    // no package lists yet (templates ship without them): apt cannot locate the package
    const early = await k.run('pve1', INSTALL(100));
    expect(early).toEqual({ exitCode: 100, stdout: 'Reading package lists...\nBuilding dependency tree...\nReading state information...\n', stderr: 'E: Unable to locate package apache2\n' });
    const upd = await k.run('pve1', exec(100, 'apt-get', 'update'));
    expect(upd.exitCode).toBe(0);
    expect(upd.stdout).toMatch(/^Get:1 http:\/\/deb\.debian\.org\/debian bookworm InRelease \[.*\]\n/);
    expect(upd.stdout).toMatch(/\nReading package lists\.\.\.\n$/);
    expect((await k.ok('pve1', exec(100, 'apt-get', 'update'))).stdout).toMatch(/^Hit:1 http:\/\/deb\.debian\.org\/debian bookworm InRelease\n/);
    const t0 = k.clock.now();
    const inst = await k.ok('pve1', INSTALL(100));
    expect(k.clock.now() - t0).toBeGreaterThanOrEqual(k.m.t.aptInstall);
    expect(inst.stdout).toContain('The following NEW packages will be installed:\n  apache2 apache2-bin apache2-data apache2-utils');
    expect(inst.stdout).toContain('Recommended packages:\n  ssl-cert\n');
    expect(inst.stdout).toContain('Setting up apache2 (2.4.71-1~deb12u1) ...\n');
    expect(inst.stdout).toContain('Created symlink /etc/systemd/system/multi-user.target.wants/apache2.service → /lib/systemd/system/apache2.service.\n');
    expect(await k.run('pve1', STATUS(100))).toEqual({ stdout: 'install ok installed', stderr: '', exitCode: 0 });
    expect((await k.ok('pve1', exec(100, 'dpkg-query', '-W', 'apache2-bin'))).stdout).toBe('apache2-bin\t2.4.71-1~deb12u1\n');
    expect((await k.ok('pve1', exec(100, 'cat', '/var/www/html/index.html'))).stdout).toBe(APACHE_DEFAULT_PAGE);
    expect(APACHE_DEFAULT_PAGE).toContain('<title>Apache2 Debian Default Page: It works</title>');
    expect(served(k, 100)?.serve?.docroot).toEqual(new Map([['index.html', APACHE_DEFAULT_PAGE]]));
    expect((await k.ok('pve1', exec(100, 'tee', '/var/www/html/index.html'), PAGE)).stdout).toBe(PAGE);
    expect((await k.ok('pve1', exec(100, 'cat', '/var/www/html/index.html'))).stdout).toBe(PAGE);
    expect(served(k, 100)?.serve?.docroot.get('index.html')).toBe(PAGE);
    const again = await k.ok('pve1', INSTALL(100));
    expect(again.stdout).toContain('apache2 is already the newest version (2.4.71-1~deb12u1).\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n');
    expect((await k.ok('pve1', exec(100, 'cat', '/var/www/html/index.html'))).stdout).toBe(PAGE);
    // the page lives on the rootfs: a restart serves it again
    await k.ok('pve1', 'pct stop 100');
    expect(served(k, 100)).toBeUndefined();
    await k.ok('pve1', 'pct start 100');
    expect(served(k, 100)?.serve?.docroot.get('index.html')).toBe(PAGE);
  });

  it('pct exec: stopped CT, unknown programs, sh -c lists, apt prompt without -y', async () => {
    const k = await lab();
    await k.ok('pve1', `pct create 100 local:vztmpl/${TPL} --hostname web1 --rootfs vg-san:4 ${NET('10.99.0.50')}`);
    expect(await k.run('pve1', exec(100, 'true'))).toEqual({ stdout: '', stderr: "container '100' not running!\n", exitCode: 255 });
    expect((await k.run('pve2', exec(100, 'true'))).stderr).toBe("Configuration file 'nodes/pve2/lxc/100.conf' does not exist\n");
    await k.ok('pve1', 'pct start 100');
    const nf = await k.run('pve1', exec(100, 'nginx', '-t'));
    expect(nf.exitCode).toBe(127);
    expect(nf.stderr.split('\n')[0]).toBe('lxc-attach: 100: ../src/lxc/attach.c: lxc_attach_run_command: 1845 No such file or directory - Failed to exec "nginx"');
    expect((await k.ok('pve1', exec(100, 'hostname'))).stdout).toBe('web1\n');
    const sh = await k.run('pve1', exec(100, 'bash', '-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y apache2 && false || echo-missing'));
    expect(sh.exitCode).toBe(127);
    expect(sh.stdout).toContain('Setting up ssl-cert (1.1.2) ...\n'); // recommends installed without --no-install-recommends
    expect((await k.run('pve1', exec(100, 'sh', '-c', 'cat /etc/hostname | wc -l'))).exitCode).toBe(2);
    await k.ok('pve1', `pct create 101 local:vztmpl/${TPL} --rootfs vg-san:4 ${NET('10.99.0.51')} --start 1`);
    await k.ok('pve1', exec(101, 'apt-get', 'update'));
    const ask = await k.run('pve1', exec(101, 'apt-get', 'install', 'apache2'));
    expect(ask.exitCode).toBe(1);
    expect(ask.stdout).toMatch(/Do you want to continue\? \[Y\/n\] Abort\.\n$/);
    expect(await k.run('pve1', STATUS(101))).toMatchObject({ exitCode: 1 });
    expect((await k.run('pve1', exec(101, 'apt-get', 'install', 'apache2'), 'y\n')).exitCode).toBe(0);
    expect((await k.ok('pve1', exec(101, 'systemctl', 'is-active', 'apache2'))).stdout).toBe('active\n');
  });

  it('offline lab: apt-get update warns and exits 0 (100 with --error-on=any), installs fail; pveam update fails', async () => {
    const k = await lab();
    await webCt(k, 100);
    await webCt(k, 101);
    await k.ok('pve1', exec(101, 'apt-get', 'update')); // lists fetched while online
    k.m.internet = false;
    const upd = await k.run('pve1', exec(100, 'apt-get', 'update'));
    expect(upd.exitCode).toBe(0);
    expect(upd.stdout).toBe([
      'Err:1 http://deb.debian.org/debian bookworm InRelease', "  Temporary failure resolving 'deb.debian.org'",
      'Err:2 http://deb.debian.org/debian bookworm-updates InRelease', "  Temporary failure resolving 'deb.debian.org'",
      'Err:3 http://security.debian.org bookworm-security InRelease', "  Temporary failure resolving 'security.debian.org'",
      'Reading package lists...', '',
    ].join('\n'));
    expect(upd.stderr).toBe([
      "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'",
      "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm-updates/InRelease  Temporary failure resolving 'deb.debian.org'",
      "W: Failed to fetch http://security.debian.org/dists/bookworm-security/InRelease  Temporary failure resolving 'security.debian.org'",
      'W: Some index files failed to download. They have been ignored, or old ones used instead.', '',
    ].join('\n'));
    const strict = await k.run('pve1', exec(100, 'apt-get', 'update', '--error-on=any'));
    expect(strict.exitCode).toBe(100);
    expect(strict.stderr).toMatch(/^E: Failed to fetch http:\/\/deb\.debian\.org\/debian\/dists\/bookworm\/InRelease {2}Temporary failure resolving 'deb\.debian\.org'\n/);
    expect(await k.run('pve1', INSTALL(100))).toMatchObject({ exitCode: 100, stderr: 'E: Unable to locate package apache2\n' });
    const fetch = await k.run('pve1', INSTALL(101));
    expect(fetch.exitCode).toBe(100);
    expect(fetch.stderr).toContain("E: Failed to fetch http://deb.debian.org/debian/pool/main/a/apache2/apache2_2.4.71-1~deb12u1_amd64.deb  Temporary failure resolving 'deb.debian.org'\n");
    expect(fetch.stderr).toMatch(/E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing\?\n$/);
    expect(await k.run('pve1', STATUS(101))).toMatchObject({ exitCode: 1 });
    expect(served(k, 101)?.serve).toBeUndefined();
    expect(await k.run('pve2', 'pveam update')).toEqual({ stdout: '', stderr: 'update failed - see /var/log/pveam.log for details\n', exitCode: 0 });
    // back online: the same CT installs
    k.m.internet = true;
    await k.ok('pve1', INSTALL(101));
    expect(served(k, 101)?.serve).toBeDefined();
  });

  it('vzdump writes a tar.zst on the node; pct create restores packages and page from it (uploaded template or path), offline too', async () => {
    const k = await lab();
    await webCt(k);
    await apache(k, 100);
    const argv = ['vzdump', '100', '--mode', 'suspend', '--compress', 'zstd', '--dumpdir', DUMP];
    expect(await k.run('pve1', argv)).toEqual({ stdout: '', stderr: `dumpdir '${DUMP}' does not exist\n`, exitCode: 255 });
    fx(k).mkdir('pve1', DUMP);
    const r = await k.ok('pve1', argv);
    const files = (await k.m.effects.listNodeDir('pve1', DUMP))!.map((f) => f.name);
    expect(files).toHaveLength(2);
    const archive = files.find((f) => f.endsWith('.tar.zst'))!;
    expect(archive).toMatch(/^vzdump-lxc-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.tar\.zst$/);
    expect(files).toContain(archive.replace(/\.tar\.zst$/, '.log'));
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`INFO: starting new backup job: vzdump 100 --mode suspend --compress zstd --dumpdir ${DUMP}`);
    expect(lines.slice(1, 9).map((l) => l.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'T'))).toEqual([
      'INFO: Starting Backup of VM 100 (lxc)', 'INFO: Backup started at T', 'INFO: status = running', 'INFO: backup mode: suspend',
      'INFO: ionice priority: 7', 'INFO: CT Name: web1', "INFO: including mount point rootfs ('/') in backup",
      `INFO: starting first sync /proc/${/\/proc\/(\d+)\//.exec(r.stdout)![1]}/root/ to ${DUMP}/${archive.replace(/\.tar\.zst$/, '.tmp')}`,
    ]);
    expect(r.stdout).toContain(`INFO: creating vzdump archive '${DUMP}/${archive}'\n`);
    expect(r.stdout).toMatch(/INFO: archive file size: \d+KB\nINFO: Finished Backup of VM 100 \(00:00:0\d\)\nINFO: Backup finished at [\d-]+ [\d:]+\nINFO: Backup job finished successfully\n$/);
    expect(k.m.guests.isRunning('pve1', 100)).toBe(true); // suspend mode: the CT keeps running
    const data = (await k.m.effects.readNodeFile('pve1', `${DUMP}/${archive}`))!;
    const entries = tarDecode(zstdDecode(data));
    expect(entries[0]!.path).toBe('./etc/vzdump/pct.conf');
    expect(entries[0]!.data!.toString()).toContain('hostname: web1\n');
    expect(rootfsFromArchive(data).fs.files.get('/var/www/html/index.html')).toBe(PAGE);
    // offline class: the archive uploaded to another node's template cache, created from there
    k.m.internet = false;
    const tpl = `pvelab-apache_${TPL}`;
    fx(k).put('pve2', `/var/lib/vz/template/cache/${tpl}`, data);
    const content = await k.json('pve2', 'pvesh get /nodes/pve2/storage/local/content --content vztmpl');
    expect(content).toEqual([{ volid: `local:vztmpl/${tpl}`, format: 'tzst', content: 'vztmpl', size: data.length }]);
    const c = await k.ok('pve2', `pct create 200 local:vztmpl/${tpl} --hostname web2 --rootfs vg-san:4 ${NET('10.99.0.60')} --start 1`);
    expect(c.stdout).toContain(`extracting archive '/var/lib/vz/template/cache/${tpl}'\nTotal bytes read: `);
    expect(await k.run('pve2', STATUS(200))).toMatchObject({ exitCode: 0, stdout: 'install ok installed' });
    expect((await k.ok('pve2', exec(200, 'cat', '/var/www/html/index.html'))).stdout).toBe(PAGE);
    expect(served(k, 200)).toEqual({ node: 'pve2', serve: { docroot: new Map([['index.html', PAGE]]) } });
    expect((await k.ok('pve2', 'pct config 200')).stdout).toContain('ostype: debian\n');
    // the dump path itself works too
    await k.ok('pve1', `pct create 201 ${DUMP}/${archive} --rootfs vg-san:4 --start 1`);
    expect((await k.ok('pve1', exec(201, 'cat', '/var/www/html/index.html'))).stdout).toBe(PAGE);
    expect((await k.run('pve1', `pct create 202 ${DUMP}/nosuch.tar.zst --rootfs vg-san:4`)).stderr).toBe(`unable to create CT 202 - can't find file '${DUMP}/nosuch.tar.zst'\n`);
    // vzdump of a guest elsewhere is skipped silently; unknown IDs fail the job
    expect(await k.run('pve2', ['vzdump', '100', '--dumpdir', DUMP])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    const bad = await k.run('pve1', ['vzdump', '999', '--dumpdir', DUMP]);
    expect(bad.exitCode).toBe(255);
    expect(bad.stdout).toContain("ERROR: Backup of VM 999 failed - unable to find VM '999'\n");
    expect(bad.stderr).toBe('job errors\n');
  });

  it.skipIf(!existsSync('/usr/bin/zstd'))(`vzdump archives are valid zstd + tar for the real tools${existsSync('/usr/bin/zstd') ? '' : ' (skipped: /usr/bin/zstd missing)'}`, async () => {
    const k = await lab();
    await webCt(k);
    await apache(k, 100);
    fx(k).mkdir('pve1', DUMP);
    await k.ok('pve1', ['vzdump', '100', '--mode', 'suspend', '--compress', 'zstd', '--dumpdir', DUMP]);
    const f = (await k.m.effects.listNodeDir('pve1', DUMP))!.find((x) => x.name.endsWith('.tar.zst'))!;
    const data = (await k.m.effects.readNodeFile('pve1', `${DUMP}/${f.name}`))!;
    const tar = execFileSync('zstd', ['-dc'], { input: data });
    const list = execFileSync('tar', ['-tf', '-'], { input: tar }).toString().split('\n');
    expect(list[0]).toBe('./etc/vzdump/pct.conf');
    expect(list).toContain('./var/www/html/index.html');
    expect(list).toContain('./sbin/');
    expect(execFileSync('tar', ['-xOf', '-', './var/www/html/index.html'], { input: tar }).toString()).toBe(PAGE);
  });

  it('shared storage: after HA recovery on another node the CT serves the same page; node-local replica keeps the state of its last sync', async () => {
    const k = await lab();
    await webCt(k);
    await k.ok('pve1', 'ha-manager add ct:100 --state started');
    await apache(k, 100);
    await k.clock.until(() => managerStatus(k, 'pve1').service_status?.['ct:100']?.running === 1, 120);
    k.m.powerOff('pve1');
    await k.clock.until(() => ['pve2', 'pve3'].some((n) => k.m.guests.isRunning(n, 100)), 600);
    const now = ['pve2', 'pve3'].find((n) => k.m.guests.isRunning(n, 100))!;
    expect(served(k, 100)).toEqual({ node: now, serve: { docroot: new Map([['index.html', PAGE]]) } });
    expect((await k.ok(now, exec(100, 'cat', '/var/www/html/index.html'))).stdout).toBe(PAGE);

    // node-local: zfspool replicated before Apache went in; the recovered CT has no Apache
    const z = await lab();
    for (const n of ['pve1', 'pve2', 'pve3']) await z.ok(n, 'zpool create tank /dev/vdb');
    await z.ok('pve1', 'pvesm add zfspool tank --pool tank --content images,rootdir');
    await webCt(z, 100, 'pve1', 'tank:4');
    await z.ok('pve1', 'pvesr create-local-job 100-0 pve2 --schedule */1');
    await z.ok('pve1', 'pvesr create-local-job 100-1 pve3 --schedule */1');
    await apache(z, 100);
    await z.ok('pve1', 'ha-manager add ct:100 --state started');
    await z.clock.until(() => managerStatus(z, 'pve1').service_status?.['ct:100']?.running === 1, 120);
    z.m.powerOff('pve1');
    await z.clock.until(() => ['pve2', 'pve3'].some((n) => z.m.guests.isRunning(n, 100)), 600);
    const on = ['pve2', 'pve3'].find((n) => z.m.guests.isRunning(n, 100))!;
    expect(await z.run(on, STATUS(100))).toMatchObject({ exitCode: 1, stderr: 'dpkg-query: no packages found matching apache2\n' });
    expect(served(z, 100)).toEqual({ node: on, serve: undefined });
  });
});
