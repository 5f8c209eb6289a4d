// Integration: the live effects of the stand-in's container model (live/effects.ts) run for real —
// their shell scripts in a private lab namespace standing in for a node VM (same dash/busybox/ip
// the node runs; the namespace's /var/lib and /var/tmp are private tmpfs, the "node disk"). The
// model drives them on a virtual clock through the real command layer: template written to and read
// from disk, a fresh CT refuses HTTP, Apache after apt-get serves Debian's page, tee'd bytes served
// exactly, vzdump leaves a real archive that a second CT is restored from, stop tears the CT down.
// Fast (no VMs); the full VM path is in standin-control-ha.test.ts.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import type { AgentClient } from '../standin/control/live/agent.js';
import { LiveEffects } from '../standin/control/live/effects.js';
import { APACHE_DEFAULT_PAGE } from '../standin/control/model/debian.js';
import { type Kit, kit } from '../standin/control/testkit.js';

const missing = ['/bin/busybox', '/usr/bin/curl', '/usr/bin/setpriv', '/usr/bin/unshare', '/usr/bin/nsenter'].find((p) => !existsSync(p));
const TPL = 'debian-12-standard_12.7-1_amd64.tar.zst';
const PAGE = '<!doctype html>\n<html><head><title>web1</title></head>\n<body><h1>web1</h1>\n<p>pvelab guest web1 of lab t1 — ünïcode, no final newline</p></body></html>';
const DUMP = '/var/tmp/pvelab-vzdump';

describe.skipIf(!!missing)(`stand-in live effects in a namespace ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let bin: string;
  let k: Kit;
  const sh = (script: string) => ns.exec(['sh', '-s'], { input: script, allowFail: true, env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` } });
  const get = (ip: string, path = '/') => ns.exec(['curl', '-s', '-m', '3', '-o', '-', '-w', '\n%{http_code}', `http://${ip}${path}`], { allowFail: true });
  const body = async (ip: string, path = '/') => {
    const r = await get(ip, path);
    return r.exitCode === 0 ? { code: r.stdout.slice(r.stdout.lastIndexOf('\n') + 1), body: r.stdout.slice(0, r.stdout.lastIndexOf('\n')) } : { curl: r.exitCode };
  };
  const pct = (vmid: number, ...argv: string[]) => ['pct', 'exec', String(vmid), '--', ...argv];

  beforeAll(async () => {
    bin = mkdtempSync(join(tmpdir(), 'standin-guest-bin-'));
    for (const a of ['httpd', 'ping']) symlinkSync('/bin/busybox', join(bin, a)); // the node's httpd and ping are busybox's
    ns = await startLabNs({ libvirt: false, label: 'standin-guest' });
    const r = await sh('set -e\nmount -t tmpfs nodevar /var/lib\nmount -t tmpfs nodetmp /var/tmp\nip link add vmbr0 type bridge\nip addr add 10.99.0.1/24 dev vmbr0\nip link set vmbr0 up\n');
    expect(r.exitCode, r.stderr).toBe(0);
    const agent = { run: (script: string) => sh(script) } as unknown as AgentClient;
    k = await kit({ nodes: 1 });
    k.m.effects = new LiveEffects(new Map([['pve1', agent]]), 'qemu:///nonexistent', new Map([['pve1', 'none']]));
  }, 120_000);
  afterAll(async () => {
    await ns?.down();
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  it('template on disk; fresh CT refuses HTTP; Apache serves the Debian page, then the tee\'d bytes exactly', async () => {
    await k.ok('pve1', 'pveam update');
    await k.ok('pve1', `pveam download local ${TPL}`);
    const ls = await sh('ls -l /var/lib/vz/template/cache/');
    expect(ls.stdout).toContain(TPL);
    expect((await k.ok('pve1', 'pveam list local')).stdout).toContain(`local:vztmpl/${TPL}`);
    await k.ok('pve1', `pct create 100 local:vztmpl/${TPL} --hostname web1 --rootfs local-lvm:4 --net0 name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=10.99.0.50/24,gw=10.99.0.1 --start 1`);
    expect((await sh('ip netns list; ip -n ct100 -br addr show eth0; ip -n ct100 -br link show eth0')).stdout).toMatch(/^ct100.*\neth0@\S+ +UP +10\.99\.0\.50\/24 .*\neth0@\S+ +UP +bc:24:11:aa:bb:cc /s);
    expect((await sh('ping -c1 -W2 10.99.0.50')).exitCode).toBe(0);
    expect(await body('10.99.0.50')).toEqual({ curl: 7 }); // connection refused: no web server yet
    await k.ok('pve1', pct(100, 'apt-get', 'update'));
    await k.ok('pve1', pct(100, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', 'apache2'));
    expect(await body('10.99.0.50')).toEqual({ code: '200', body: APACHE_DEFAULT_PAGE });
    expect((await k.ok('pve1', pct(100, 'tee', '/var/www/html/index.html'), PAGE)).stdout).toBe(PAGE);
    expect(await body('10.99.0.50')).toEqual({ code: '200', body: PAGE });
    expect(await body('10.99.0.50', '/index.html')).toEqual({ code: '200', body: PAGE });
    await k.ok('pve1', pct(100, 'tee', '/var/www/html/extra.txt'), 'x\n');
    expect(await body('10.99.0.50', '/extra.txt')).toEqual({ code: '200', body: 'x\n' });
  }, 120_000);

  it('vzdump leaves a real archive on the node disk; a CT restored from it serves the same page; stop removes the CT', async () => {
    expect((await k.run('pve1', ['vzdump', '100', '--mode', 'suspend', '--compress', 'zstd', '--dumpdir', DUMP])).stderr).toBe(`dumpdir '${DUMP}' does not exist\n`);
    await sh(`mkdir -p ${DUMP}`);
    await k.ok('pve1', ['vzdump', '100', '--mode', 'suspend', '--compress', 'zstd', '--dumpdir', DUMP]);
    const files = (await sh(`ls -1 ${DUMP}`)).stdout.trim().split('\n');
    const archive = files.find((f) => /^vzdump-lxc-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.tar\.zst$/.test(f));
    expect(archive, files.join(',')).toBeDefined();
    expect(files).toContain(archive!.replace(/\.tar\.zst$/, '.log'));
    expect((await sh(`head -c 4 ${DUMP}/${archive} | od -An -tx1`)).stdout.trim()).toBe('28 b5 2f fd'); // zstd frame magic
    await k.ok('pve1', `pct create 101 ${DUMP}/${archive} --hostname web2 --rootfs local-lvm:4 --net0 name=eth0,bridge=vmbr0,ip=10.99.0.51/24,gw=10.99.0.1 --start 1`);
    expect(await body('10.99.0.51')).toEqual({ code: '200', body: PAGE });
    expect(await body('10.99.0.51', '/extra.txt')).toEqual({ code: '200', body: 'x\n' });
    // CT 100 gets a new page; the restored CT 101 has its own rootfs and keeps the archived one
    await k.ok('pve1', pct(100, 'tee', '/var/www/html/index.html'), 'v2\n');
    expect(await body('10.99.0.50')).toEqual({ code: '200', body: 'v2\n' });
    expect(await body('10.99.0.51')).toEqual({ code: '200', body: PAGE });
    await k.ok('pve1', 'pct stop 101');
    expect((await sh('ip netns list')).stdout).not.toMatch(/^ct101\b/m);
    expect((await body('10.99.0.51')).curl).toBeGreaterThan(0);
    await k.ok('pve1', 'pct start 101');
    expect(await body('10.99.0.51')).toEqual({ code: '200', body: PAGE });
  }, 120_000);
});
