// Test kit for the stand-in model (unit tests): a virtual-clock cluster of N powered, booted nodes
// and a command runner. Not used by the live stand-in.
import { type CmdResult, handle } from './cmd/handle.js';
import { VirtualClock } from './model/clock.js';
import { ClusterModel, type ModelNode, type ModelOptions } from './model/cluster.js';
import type { IscsiTarget } from './model/local.js';
import type { Timing } from './model/timing.js';

export const PASSWORD = 'lab-secret-1';
export const SAN: IscsiTarget[] = [{ portal: '10.99.0.1:3260', target: 'iqn.2026-01.lab.test:shared', tid: 1, luns: [{ lun: 1, size: 8 * 2 ** 30 }] }];

export interface Kit {
  m: ClusterModel;
  clock: VirtualClock;
  run(node: string, cmd: string | string[], stdin?: string): Promise<CmdResult>;
  /** run and fail the test on non-zero exit */
  ok(node: string, cmd: string | string[], stdin?: string): Promise<CmdResult>;
  json<T = any>(node: string, cmd: string): Promise<T>;
}

/** whitespace split with '…' quoting (test commands only) */
export function words(s: string): string[] {
  return [...s.matchAll(/'([^']*)'|(\S+)/g)].map((x) => x[1] ?? x[2]!);
}

export async function kit(o: { nodes?: number; names?: string[]; release?: string; timing?: Timing; nodeOpts?: Partial<ModelNode>; model?: Partial<ModelOptions> } = {}): Promise<Kit> {
  const clock = new VirtualClock();
  const nodes: ModelNode[] = Array.from({ length: o.names?.length ?? o.nodes ?? 3 }, (_, i) => ({
    name: o.names?.[i] ?? `pve${i + 1}`, ip: `10.99.0.${11 + i}`, gateway: '10.99.0.1', password: PASSWORD, disks: { vdb: 16 * 2 ** 30 }, ...o.nodeOpts,
  }));
  const m = new ClusterModel({ clock, release: o.release ?? '9.2', nodes, timing: o.timing, san: SAN, ...o.model });
  for (const n of nodes) m.powerOn(n.name);
  await clock.advance(m.t.boot + 1);
  const run = (node: string, cmd: string | string[], stdin = '') => {
    const argv = typeof cmd === 'string' ? words(cmd) : cmd;
    const p = handle(m, node, argv, stdin);
    return settle(clock, p);
  };
  const ok = async (node: string, cmd: string | string[], stdin = '') => {
    const r = await run(node, cmd, stdin);
    if (r.exitCode !== 0) throw new Error(`${String(cmd)} on ${node} exited ${r.exitCode}\n${r.stderr}${r.stdout}`);
    return r;
  };
  const json = async (node: string, cmd: string) => JSON.parse((await ok(node, `${cmd} --output-format json`)).stdout);
  return { m, clock, run, ok, json };
}

/** drive the virtual clock until the promise settles (commands may sleep in model time) */
export async function settle<T>(clock: VirtualClock, p: Promise<T>, maxSeconds = 3600): Promise<T> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await clock.advance(0);
  for (let t = 0; !done && t < maxSeconds; t += 0.25) await clock.advance(0.25);
  return p;
}

/** pvecm create on pve1, then every other node joins with fingerprint + password on stdin */
export async function formCluster(k: Kit, name = 'lab'): Promise<void> {
  const nodes = [...k.m.world.nodes.keys()];
  await k.ok(nodes[0]!, `pvecm create ${name}`);
  for (const n of nodes.slice(1)) {
    const info = await k.json(nodes[0]!, 'pvesh get /cluster/config/join');
    const fp = info.nodelist.find((x: { name: string }) => x.name === nodes[0]).pve_fp;
    const r = await k.ok(n, `pvecm add ${k.m.node(nodes[0]!).ip} --fingerprint ${fp}`, `${PASSWORD}\n`);
    if (!r.stdout.includes(`successfully added node '${n}' to cluster.`)) throw new Error(`join of ${n} failed:\n${r.stderr}${r.stdout}`);
  }
}

/** The Debian standard template the stand-in's pveam offers. */
export const TPL = 'debian-12-standard_12.7-1_amd64.tar.zst';

/** As pvelab's storage steps do, on `node`: iSCSI storage san0 on the SAN target, shared LVM vg-san on its LUN. */
export async function sharedLvm(k: Kit, node = 'pve1'): Promise<void> {
  await k.ok(node, 'pvesm add iscsi san0 --portal 10.99.0.1 --target iqn.2026-01.lab.test:shared --content none');
  const lun = (await k.ok(node, 'pvesm list san0')).stdout.split('\n')[1]!.split(/\s+/)[0]!;
  await k.ok(node, `pvesm add lvm vg-san --vgname vg_san --base ${lun} --shared 1 --content images,rootdir`);
}

/** `pveam update` and the standard template into `local` of `node`. */
export async function standardTemplate(k: Kit, node = 'pve1'): Promise<void> {
  await k.ok(node, 'pveam update');
  await k.ok(node, `pveam download local ${TPL}`);
}

/** manager_status as `node` sees it in /etc/pve. */
export function managerStatus(k: Kit, node: string): any {
  return k.m.view(node).db.managerStatus;
}
