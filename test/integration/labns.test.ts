// Integration: the lab namespace harness (test/helpers/labns.ts).
// 1. A TCG busybox guest on a libvirt network inside a private namespace answers HTTP, probed from this
//    (root-ns) process through the uplink; down() then leaves no process, namespace, veth, route, mount or dir.
// 2. Killing the process that holds a namespace (SIGKILL or SIGTERM) leaves no namespace process behind;
//    after SIGKILL the registry sweep removes the scratch dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildBusyboxGuest, guestDomainXml, type GuestImage, waitForFile, waitForHttp } from '../helpers/guest.js';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { nsHolders, nsId, readRecords, sweepStale } from '../helpers/nsreg.js';
import { run, waitFor } from '../helpers/run.js';

const rootMounts = () => readFileSync('/proc/self/mountinfo', 'utf8');
const describeProc = (pid: number) => {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(st)?.[1];
    return `${pid} ${get('Name')} ${get('State')} ppid=${get('PPid')} nspid=${get('NSpid')}`;
  } catch {
    return `${pid} (gone)`;
  }
};
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

describe('lab namespace with its own libvirtd', () => {
  let ns: LabNs | undefined;
  let image: GuestImage;
  beforeAll(async () => {
    image = await buildBusyboxGuest();
    ns = await startLabNs({ label: 'labns-test' });
  });
  afterAll(() => ns?.down());

  test('a TCG guest inside answers HTTP from the test process, and down() leaves nothing behind', async () => {
    if (!ns) throw new Error('namespace did not start');
    const net = await ns.allocSubnet();
    const virsh = (...args: string[]) => run(['virsh', '-c', ns!.uri, '-q', ...args]);
    writeFileSync(join(ns.dir, 'net.xml'), `<network><name>lab</name><forward mode='open'/>
      <bridge name='labbr0' stp='off' delay='0'/><ip address='${net.gateway}' netmask='255.255.255.0'/></network>`);
    await virsh('net-define', join(ns.dir, 'net.xml'));
    await virsh('net-start', 'lab');
    const name = 'labns-g1';
    const consoleLog = join(ns.dir, `${name}.console`);
    writeFileSync(join(ns.dir, 'g1.xml'),
      guestDomainXml({ name, image, ip: `${net.base}.10/24`, gateway: net.gateway, network: 'lab', consoleLog }));
    await virsh('define', join(ns.dir, 'g1.xml'));
    await virsh('start', name);
    await ns.uplink(net.cidr);
    const link = await ns.link();

    const body = await waitForHttp(`http://${net.base}.10/`, `hello from ${name}`, 5 * 60_000);
    expect(body.trim()).toBe(`hello from ${name}`);
    expect(await waitForFile(consoleLog, 'LAB-READY')).toMatch(/LAB-READY \d/);

    // What exists while the namespace is up (so the "gone" checks below are not vacuous).
    const ids = { net: nsId(ns.pid, 'net')!, mnt: nsId(ns.pid, 'mnt')!, pid: nsId(ns.pid, 'pid')! };
    expect(ids.net).not.toBe(nsId(process.pid, 'net'));
    const inside = nsHolders(ids.net).map(comm);
    expect(inside).toEqual(expect.arrayContaining(['libvirtd', 'virtlogd']));
    expect(inside.some((c) => c.startsWith('qemu-system'))).toBe(true);
    expect((await ns.exec(['ip', '-o', 'link', 'show', 'type', 'bridge'])).stdout).toContain('labbr0');
    expect((await run(['ip', '-o', 'link', 'show', 'type', 'bridge'])).stdout).not.toContain('labbr0');
    expect(readFileSync(`/proc/${ns.pid}/mountinfo`, 'utf8')).toContain(`${ns.dir}/etc`);
    expect((await run(['ip', 'route', 'show', net.cidr])).stdout).toContain(link.hostIf);
    const dir = ns.dir;

    await ns.down();
    await ns.down(); // idempotent

    for (const id of Object.values(ids)) expect(nsHolders(id).map(describeProc), `holders of ${id}`).toEqual([]);
    expect((await run(['ip', 'link', 'show', link.hostIf], { allowFail: true })).exitCode).not.toBe(0);
    expect((await run(['ip', 'route', 'show', net.cidr])).stdout.trim()).toBe('');
    expect((await run(['ip', '-o', 'link', 'show', 'type', 'bridge'])).stdout).not.toContain('labbr0');
    expect(rootMounts()).not.toContain(dir);
    expect(existsSync(dir)).toBe(false);
    expect(readRecords().some((r) => r.dir === dir)).toBe(false);
    ns = undefined;
  });
});

// The holder is a plain node process running the real helper code, transpiled from TypeScript.
function transpileHelpers(): string {
  const out = mkdtempSync(join(tmpdir(), 'pvelab-holder-'));
  const helpers = fileURLToPath(new URL('../helpers/', import.meta.url));
  for (const f of ['labns', 'nsreg', 'run', 'netalloc']) {
    const src = readFileSync(join(helpers, `${f}.ts`), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    writeFileSync(join(out, `${f}.js`), js);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  writeFileSync(join(out, 'holder.js'), `import { startLabNs } from './labns.js';
const ns = await startLabNs({ label: 'holder' });
ns.spawn(['sleep', '1000'], { stdio: 'ignore' });
console.log(JSON.stringify({ pid: ns.pid, dir: ns.dir }));
setInterval(() => {}, 1000);
`);
  return out;
}

describe('namespace dies with its holder process', () => {
  let dir: string;
  let reg: string; // private registry: concurrent test runs' sweeps cannot race with the checks below
  let holder: ChildProcess | undefined;
  beforeAll(() => {
    dir = transpileHelpers();
    reg = join(dir, 'registry');
  });
  afterAll(() => {
    holder?.kill('SIGKILL');
    sweepStale(reg);
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(['SIGKILL', 'SIGTERM'] as const)('holder killed with %s', async (signal) => {
    const h = spawn(process.execPath, [join(dir, 'holder.js')], {
      env: { ...process.env, PVELAB_NS_REGISTRY: reg, PVELAB_NS_INIT: fileURLToPath(new URL('../helpers/ns-init.sh', import.meta.url)) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    holder = h;
    const exited = new Promise<string | null>((r) => h.once('exit', (_c, sig) => r(sig)));
    let line = '';
    h.stdout!.setEncoding('utf8').on('data', (d: string) => (line += d));
    const info = await waitFor('holder to report its namespace', () => {
      const l = line.split('\n')[0];
      return line.includes('\n') && l ? (JSON.parse(l) as { pid: number; dir: string }) : undefined;
    }, 120_000);
    const ids = [nsId(info.pid, 'net')!, nsId(info.pid, 'mnt')!, nsId(info.pid, 'pid')!];
    const inside = nsHolders(ids[0]!).map(comm);
    expect(inside).toEqual(expect.arrayContaining(['libvirtd', 'virtlogd', 'sleep']));
    expect(readRecords(reg).some((r) => r.dir === info.dir && r.holderPid === h.pid)).toBe(true);

    h.kill(signal);
    expect(await exited).toBe(signal);
    await waitFor('namespace processes to be gone', () => (ids.every((id) => nsHolders(id).length === 0) ? true : undefined), 60_000);

    if (signal === 'SIGKILL') {
      // Nobody could clean up the scratch dir: the registry sweep (vitest globalSetup) does.
      expect(existsSync(info.dir)).toBe(true);
      expect(sweepStale(reg).map((r) => r.dir)).toContain(info.dir);
    }
    expect(existsSync(info.dir)).toBe(false);
    expect(readRecords(reg)).toEqual([]);
    holder = undefined;
  });
});
