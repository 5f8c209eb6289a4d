// Integration: three TCG stand-in nodes (part 1 installs, this part's overlay) under libvirt in a
// private namespace, with the control plane (startStandinCluster) at time scale 0.1. Over SSH like
// pvelab: form a cluster, shared LVM on the (modelled) SAN LUN, a container under HA that serves
// nothing until Apache is installed with pct exec (apt-get), then the page pvelab writes with
// `pct exec -- tee`; vzdump leaves an archive a second CT is restored from; then cut the owning
// node's link with virsh and see the same page again, from another node VM.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { sleep, waitFor } from '../helpers/run.js';
import { STANDIN_OVERLAY, type StandinCluster, standinChannelXml, startStandinCluster } from '../standin/control/live/standin.js';
import { virsh } from '../standin/control/live/virsh.js';
import { answer, answerMedia, buildStandin, makeKey, missingPrereq, nsBridge, prepareIso, qcow2, startVm } from '../standin/harness.js';

const missing = missingPrereq() ?? ['/usr/bin/virsh', '/usr/sbin/libvirtd', '/usr/bin/curl'].find((p) => !existsSync(p));
const PW = 'standin-pw-1';
const NODES = [1, 2, 3].map((i) => ({ name: `pve${i}`, ip: `10.99.0.1${i}`, mac: `52:54:00:5e:01:1${i}`, domain: `sc-pve${i}` }));
const CT_IP = '10.99.0.50';
const CT2_IP = '10.99.0.51';
const PAGE = '<!doctype html>\n<html><head><title>web1</title></head>\n<body><h1>web1</h1>\n<p>pvelab guest web1 (ct:100) of lab t1</p></body></html>\n';
const DUMP = '/var/tmp/pvelab-vzdump';

describe.skipIf(!!missing)(`stand-in control plane on TCG nodes ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let key: string;
  let sc: StandinCluster | undefined;
  const ssh = (ip: string, cmd: string, input = '') => ns.exec(['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `root@${ip}`, cmd], { input, allowFail: true, timeoutMs: 120_000 });
  const ok = async (ip: string, cmd: string, input = '') => {
    const r = await ssh(ip, cmd, input);
    if (r.exitCode !== 0) throw new Error(`${cmd} on ${ip}: exit ${r.exitCode}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const page = async (ip = CT_IP) => (await ns.exec(['curl', '-s', '-m', '2', `http://${ip}/`], { allowFail: true })).stdout;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'standin-control-'));
    key = join(dir, 'key');
    await makeKey(key);
    ns = await startLabNs({ libvirt: true, label: 'standin-control' });
    await nsBridge(ns);
  });
  afterAll(async () => {
    await sc?.stop();
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs three nodes from the stand-in ISO built with the control overlay', async () => {
    const stock = await buildStandin('9.2', STANDIN_OVERLAY);
    const iso = join(dir, 'part.iso');
    await prepareIso(stock, iso, 'partition');
    const pub = await makeKey(key);
    await Promise.all(NODES.map(async (n) => {
      await answerMedia(join(dir, `${n.name}-ais.iso`), answer({ fqdn: `${n.name}.lab.example`, ip: n.ip, mac: n.mac, sshKey: pub, rebootMode: 'power-off', password: PW }));
      await qcow2(join(dir, `${n.name}.qcow2`), '2G');
      const vm = await startVm(ns, { name: `i${n.name}`, dir, mac: n.mac, disks: [join(dir, `${n.name}.qcow2`)], cdroms: [iso, join(dir, `${n.name}-ais.iso`)], cdFirst: true, noReboot: true });
      try {
        await vm.waitSerial(/INFO: Installation done\./, 600_000);
        expect(await Promise.race([vm.exited, sleep(120_000).then(() => 'still running')])).toBe(0);
      } finally {
        await vm.stop();
      }
    }));
  }, 20 * 60_000);

  it('boots them under libvirt with the control channels; pvecm forms a quorate cluster over SSH', async () => {
    for (const n of NODES) {
      const xml = `<domain type='qemu'><name>${n.domain}</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${join(dir, `${n.name}.qcow2`)}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='bridge'><source bridge='br0'/><mac address='${n.mac}'/><model type='virtio'/></interface>
    <serial type='file'><source path='${join(dir, `${n.name}.serial.log`)}'/><target port='0'/></serial>
    ${standinChannelXml(dir, n.name)}
    <memballoon model='none'/>
  </devices></domain>`;
      writeFileSync(join(dir, `${n.domain}.xml`), xml);
      const d = await virsh(ns.uri, ['define', join(dir, `${n.domain}.xml`)]);
      expect(d.code, d.stderr).toBe(0);
      expect((await virsh(ns.uri, ['start', n.domain])).code).toBe(0);
    }
    sc = await startStandinCluster({
      ns: { uri: ns.uri, dir }, release: '9.2', scale: 0.1,
      nodes: NODES.map((n) => ({ ...n, gateway: '10.99.0.1', password: PW })),
      san: [{ portal: '10.99.0.1:3260', target: 'iqn.2026-01.lab.test:shared', tid: 1, luns: [{ lun: 1, size: 4 * 2 ** 30 }] }],
    });
    await sc.waitNodesUp(10 * 60_000);
    await waitFor('ssh on all nodes', async () => ((await Promise.all(NODES.map((n) => ssh(n.ip, 'true')))).every((r) => r.exitCode === 0) ? true : undefined), 120_000, 1000);
    expect(await ok(NODES[0]!.ip, 'pveversion')).toMatch(/^pve-manager\/9\.2\.\d+\/[0-9a-f]{16} \(running kernel: /);
    await ok(NODES[0]!.ip, 'pvecm create lab');
    const info = JSON.parse(await ok(NODES[0]!.ip, 'pvesh get /cluster/config/join --output-format json'));
    const fp = info.nodelist.find((x: { name: string }) => x.name === 'pve1').pve_fp;
    for (const n of NODES.slice(1)) {
      const out = await ok(n.ip, `pvecm add ${NODES[0]!.ip} --fingerprint ${fp}`, `${PW}\n`);
      expect(out).toContain(`successfully added node '${n.name}' to cluster.`);
    }
    const st = JSON.parse(await ok(NODES[2]!.ip, 'pvesh get /cluster/status --output-format json'));
    expect(st[0]).toMatchObject({ type: 'cluster', name: 'lab', nodes: 3, quorate: 1 });
  }, 15 * 60_000);

  it('puts a container under HA; it serves nothing until Apache is installed, then the page written with tee; vzdump + restore', async () => {
    const a = NODES[0]!.ip;
    await ok(a, 'pvesm add iscsi san0 --portal 10.99.0.1 --target iqn.2026-01.lab.test:shared --content none');
    const lun = (await ok(a, 'pvesm list san0')).split('\n')[1]!.split(/\s+/)[0]!;
    await ok(a, `pvesm add lvm vg-san --vgname vg_san --base ${lun} --shared 1 --content images,rootdir`);
    await ok(a, 'pveam update');
    await ok(a, 'pveam download local debian-12-standard_12.7-1_amd64.tar.zst');
    await ok(a, `pct create 100 local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst --hostname web1 --rootfs vg-san:4 --net0 name=eth0,bridge=vmbr0,ip=${CT_IP}/24,gw=10.99.0.1`);
    await ok(a, 'ha-manager add ct:100 --state started');
    const ms = await waitFor('CT 100 running under HA', async () => {
      const st = JSON.parse(await ok(a, 'pvesh get /cluster/ha/status/manager_status --output-format json')).manager_status;
      return st.service_status?.['ct:100']?.running === 1 ? st : undefined;
    }, 120_000, 1000);
    const owner = NODES.find((n) => n.name === ms.service_status['ct:100'].node)!;
    await waitFor('pct exec into CT 100', async () => ((await ssh(owner.ip, 'pct exec 100 -- true')).exitCode === 0 ? true : undefined), 60_000, 1000);
    expect((await ns.exec(['busybox', 'ping', '-c', '1', '-W', '2', CT_IP], { allowFail: true })).exitCode).toBe(0);
    expect((await ns.exec(['curl', '-s', '-m', '2', `http://${CT_IP}/`], { allowFail: true })).exitCode).toBe(7); // refused: no Apache yet
    expect(await ssh(owner.ip, "pct exec 100 -- dpkg-query -W -f='${Status}' apache2")).toMatchObject({ exitCode: 1, stderr: 'dpkg-query: no packages found matching apache2\n' });
    await ok(owner.ip, 'pct exec 100 -- apt-get update');
    await ok(owner.ip, 'pct exec 100 -- env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends apache2');
    expect(await page()).toContain('<title>Apache2 Debian Default Page: It works</title>');
    expect(await ok(owner.ip, 'pct exec 100 -- tee /var/www/html/index.html', PAGE)).toBe(PAGE);
    expect(await page()).toBe(PAGE);
    await ok(owner.ip, `mkdir -p ${DUMP} && vzdump 100 --mode suspend --compress zstd --dumpdir ${DUMP}`);
    const archive = (await ok(owner.ip, `ls -1 ${DUMP}`)).split('\n').find((f) => /^vzdump-lxc-100-.*\.tar\.zst$/.test(f));
    expect(archive).toBeDefined();
    await ok(owner.ip, `pct create 101 ${DUMP}/${archive} --hostname web2 --rootfs local-lvm:4 --net0 name=eth0,bridge=vmbr0,ip=${CT2_IP}/24,gw=10.99.0.1 --start 1`);
    expect(await waitFor('restored CT 101 HTTP answer', async () => ((await page(CT2_IP)) || undefined), 60_000, 500)).toBe(PAGE);
    expect(await page()).toBe(PAGE);
  }, 10 * 60_000);

  it('cutting the owner\'s link makes the CT unreachable, then it serves the same page from another node', async () => {
    const a = NODES[0]!.ip;
    const ms = JSON.parse(await ok(a, 'pvesh get /cluster/ha/status/manager_status --output-format json')).manager_status;
    const owner = NODES.find((n) => n.name === ms.service_status['ct:100'].node)!;
    expect(await ok(owner.ip, 'ip netns list')).toMatch(/^ct100\b/m);
    const bootBefore = (await ok(owner.ip, 'cat /proc/sys/kernel/random/boot_id')).trim();
    const cut = Date.now();
    expect((await virsh(ns.uri, ['domif-setlink', owner.domain, owner.mac, 'down'])).code).toBe(0);
    await waitFor('CT unreachable after the cut', async () => ((await page()) === '' ? true : undefined), 30_000, 250);
    const back = await waitFor('CT 100 answering again', async () => ((await page()) || undefined), 5 * 60_000, 500);
    const healedAfter = (Date.now() - cut) / 1000;
    console.log(`CT 100 answered again ${healedAfter.toFixed(1)} s after the link cut (scale 0.1)`);
    expect(back).toBe(PAGE);
    const other = NODES.filter((n) => n !== owner);
    const ms2 = JSON.parse(await ok(other[0]!.ip, 'pvesh get /cluster/ha/status/manager_status --output-format json')).manager_status;
    const target = NODES.find((n) => n.name === ms2.service_status['ct:100'].node)!;
    expect(target).not.toBe(owner);
    expect(await ok(target.ip, 'ip netns list')).toMatch(/^ct100\b/m);
    const neigh = (await ns.exec(['ip', 'neigh', 'show', CT_IP])).stdout;
    const conf = await ok(target.ip, 'pct config 100');
    expect(neigh.toUpperCase()).toContain(/hwaddr=([0-9A-F:]{17})/.exec(conf)![1]);
    const journal = await ok(ms2.master_node === owner.name ? target.ip : NODES.find((n) => n.name === ms2.master_node)!.ip, 'journalctl -u pve-ha-crm -o short-iso');
    expect(journal).toMatch(new RegExp(`recover service 'ct:100' from fenced node '${owner.name}' to node '${target.name}'`));
    // the watchdog reset the isolated node for real; still cut off, it answers like an isolated node
    await waitFor('isolated node rebooted', async () => (sc!.bootId(owner.name) && sc!.bootId(owner.name) !== bootBefore ? true : undefined), 5 * 60_000, 500);
    const iso = await sc!.runOnNode(owner.name, 'pvecm status; echo "rc=$?"; ip netns list; pvesh get /cluster/ha/status/current --output-format json');
    expect(iso.stdout).toContain('Quorate:          No\n');
    expect(iso.stdout).toContain('rc=2\n');
    expect(iso.stdout).not.toMatch(/^ct100/m);
    expect(iso.stdout).toContain(`"status":"No quorum on node '${owner.name}'!"`);
    await virsh(ns.uri, ['domif-setlink', owner.domain, owner.mac, 'up']);
    await waitFor('reset node reachable again', async () => ((await ssh(owner.ip, 'true')).exitCode === 0 ? true : undefined), 120_000, 1000);
    // link back: it rejoins the quorate partition (pvecm status exits 0 again)
    expect(await waitFor('reset node quorate again', async () => ((await ssh(owner.ip, 'pvecm status')).exitCode === 0 ? true : undefined), 120_000, 1000)).toBe(true);
    await waitFor('reset node quorate again', async () => ((await ssh(owner.ip, 'pvecm status')).exitCode === 0 ? true : undefined), 120_000, 1000);
  }, 20 * 60_000);
});
