// Is the lab ready for a trial? One reading of the cluster (quorum, members online), the HA manager
// (service state and owner, node states) and the guest's page, and the waits the trial loop builds on
// it. A reading asks the nodes in the given order until one answers both Proxmox calls, so a node that
// is down or cut off costs one timeout, not the answer.
import type { LabNames } from '../config/names.js';
import { waitFor } from '../core/wait.js';
import type { Runner } from '../exec/runner.js';
import { isHealthyCluster, parseClusterStatus, type ClusterStatus } from '../pve/cluster.js';
import { Pvesh } from '../pve/pvesh.js';
import { parseManagerStatus } from './ha-parse.js';
import { probeOnce } from './probe-http.js';
import type { HaStatus } from './record.js';

export interface LabAccess {
  names: LabNames;
  runner(node: string): Runner;
  /** The guest page the trials probe. */
  url: string;
  /** Per Proxmox call while reading health (default 10 s). */
  callTimeoutMs?: number;
}

export interface Health {
  /** Node that answered. */
  via: string;
  cluster: ClusterStatus;
  ha: HaStatus;
  /** HTTP status of the guest page, or the error. */
  http: { status: number } | { error: string };
}

/** Reads cluster, HA and HTTP; `order` = nodes to ask, in order (default: all, lab order). */
export async function readHealth(a: LabAccess, order: readonly string[] = a.names.nodes.map((n) => n.name), signal?: AbortSignal): Promise<Health> {
  const timeoutMs = a.callTimeoutMs ?? 10_000;
  const errors: string[] = [];
  const httpP = probeOnce(new URL(a.url), 0, { timeoutMs: Math.min(timeoutMs, 3000) });
  for (const node of order) {
    if (signal?.aborted) break;
    try {
      const p = new Pvesh(a.runner(node));
      const o = { timeoutMs, ...(signal ? { signal } : {}) };
      const cluster = parseClusterStatus(await p.get('/cluster/status', undefined, o));
      const ha = parseManagerStatus(await p.get('/cluster/ha/status/manager_status', undefined, o));
      const s = await httpP;
      return { via: node, cluster, ha, http: s.ok || s.status ? { status: s.status ?? 0 } : { error: s.error ?? 'failed' } };
    } catch (err) {
      errors.push(`${node}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  await httpP;
  throw new Error(`no node answered (${errors.join('; ') || 'interrupted'})`);
}

/** Ready for a trial: quorate, every node a member and online (cluster and HA), service started, page 200. */
export function judge(h: Health, names: LabNames): { ok: boolean; owner: string | null; seen: string } {
  const sid = names.guest.haSid;
  const all = names.nodes.map((n) => n.name);
  const svc = h.ha.services[sid];
  const problems: string[] = [];
  if (!isHealthyCluster(h.cluster, names.pve.clusterName, all)) {
    const off = all.filter((n) => !h.cluster.nodes.some((m) => m.name === n && m.online));
    problems.push(h.cluster.cluster?.quorate ? `offline: ${off.join(', ')}` : 'cluster not quorate');
  }
  const notOnline = all.filter((n) => h.ha.nodes[n] !== 'online');
  if (notOnline.length) problems.push(`HA: ${notOnline.map((n) => `${n} ${h.ha.nodes[n] ?? 'not listed'}`).join(', ')}`);
  if (!svc) problems.push(`HA: ${sid} not listed`);
  else if (svc.state !== 'started') problems.push(`HA: ${sid} ${svc.state} on ${svc.node}`);
  if (!('status' in h.http) || h.http.status !== 200) problems.push(`page: ${'status' in h.http ? `HTTP ${h.http.status}` : h.http.error}`);
  const owner = svc?.state === 'started' ? svc.node : null;
  const seen = problems.length ? problems.join('; ') : `quorate, ${all.length}/${all.length} online, ${sid} started on ${owner}, page 200 (via ${h.via})`;
  return { ok: problems.length === 0, owner, seen };
}

export interface HealthWait {
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal | undefined;
  /** Progress line per reading. */
  onSeen?: (seen: string) => void;
}

/** Waits until judge() says ready; returns the service owner. Nodes in `prefer` are asked first. */
export function waitHealthy(a: LabAccess, w: HealthWait, what: string, prefer: readonly string[] = []): Promise<string> {
  const all = a.names.nodes.map((n) => n.name);
  const order = [...prefer.filter((n) => all.includes(n)), ...all.filter((n) => !prefer.includes(n))];
  return waitFor(
    async () => {
      const j = judge(await readHealth(a, order, w.signal), a.names);
      w.onSeen?.(j.seen);
      return j.ok && j.owner ? { done: true, value: j.owner } : { done: false, seen: j.seen };
    },
    { what, timeoutMs: w.timeoutMs, intervalMs: w.intervalMs, signal: w.signal, hint: '`pvelab status` shows the lab; `ha-manager status` on a node shows the HA view' },
  );
}

/** Waits until the node answers over SSH again (after a power-on, a resume or a self-fence reset). */
export function waitNodeBack(runner: Runner, w: HealthWait): Promise<void> {
  return waitFor(
    async () => {
      await runner.run(['true'], { timeoutMs: Math.min(10_000, w.timeoutMs) });
      return { done: true, value: undefined };
    },
    { what: `${runner.where} to answer over SSH`, timeoutMs: w.timeoutMs, intervalMs: w.intervalMs, signal: w.signal, hint: `\`pvelab status\` shows whether ${runner.where} runs; its serial log is in the lab state dir` },
  );
}
