// `pvelab status`: every part of the lab read at once, each within a deadline. A part that does not
// answer in time is reported as unknown with the reason, never waited for: the goal is an answer in
// well under a second with the lab up, even when a node is down.
import type { Lab, LabNames } from '../config/names.js';
import type { Services } from '../core/step.js';
import { ownedDomains, ownedNetworks } from '../libvirt/owned.js';
import { Pvesh } from '../pve/pvesh.js';
import { parseClusterStatus } from '../pve/cluster.js';

export type Part<T> = { ok: true; value: T; ms: number } | { ok: false; reason: string; ms: number };

export interface LabStatus {
  lab: string;
  network: Part<{ name: string; active: boolean; bridge?: string | undefined; cidr: string }>;
  domains: Part<{ name: string; node: string; state: string }[]>;
  target: Part<{ iqn: string; tid: number; luns: number; acl: string[]; connections: number } | null>;
  session: Part<{ portal: string; iqn: string } | null>;
  volumeGroup: Part<{ vg: string; lvs: string[] } | null>;
  cluster: Part<{ name: string; quorate: boolean; nodes: { name: string; online: boolean }[] }>;
  storages: Part<{ id: string; type: string; shared: boolean }[]>;
  ha: Part<{ sid: string; state: string; node: string | undefined } | null>;
  guest: Part<{ url: string; status: number; body: string }>;
}

/** Runs `fn` with a deadline; a late or failed answer becomes an unknown part with the reason. */
export async function part<T>(deadlineMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<Part<T>> {
  const t0 = performance.now();
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Part<T>>((resolve) => {
    timer = setTimeout(() => {
      ac.abort();
      resolve({ ok: false, reason: `no answer within ${deadlineMs} ms`, ms: performance.now() - t0 });
    }, deadlineMs);
  });
  const work = fn(ac.signal).then(
    (value): Part<T> => ({ ok: true, value, ms: performance.now() - t0 }),
    (err: unknown): Part<T> => ({ ok: false, reason: err instanceof Error ? err.message.split('\n')[0]! : String(err), ms: performance.now() - t0 }),
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CollectOptions {
  deadlineMs?: number;
  /** GET the guest page (default: node's fetch). */
  fetchGuest?: (url: string, signal: AbortSignal) => Promise<{ status: number; body: string }>;
}

const defaultFetch = async (url: string, signal: AbortSignal) => {
  const r = await fetch(url, { signal, headers: { connection: 'close' } });
  return { status: r.status, body: (await r.text()).trim().slice(0, 200) };
};

export async function collectStatus(lab: Lab, names: LabNames, s: Partial<Services>, opts: CollectOptions = {}): Promise<LabStatus> {
  const d = opts.deadlineMs ?? 250;
  const lv = () => {
    if (!s.libvirt) throw new Error('libvirt not reachable');
    return s.libvirt;
  };
  // Ask the nodes in order until one answers: the first node may be the one that is down.
  const pvesh = async <T>(path: string, signal: AbortSignal): Promise<T> => {
    if (!s.nodes) throw new Error('no SSH access to the nodes');
    let last: unknown;
    for (const n of names.nodes) {
      if (signal.aborted) break;
      try {
        return (await new Pvesh(s.nodes.runner(n.name)).get(path)) as T;
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new Error('no node answered');
  };
  // The nodes and the guest are only asked when a node VM of this lab is running: a lab that is not
  // up gets no SSH or HTTP traffic at all.
  const domains = await part(d, async () => (await ownedDomains(lv(), lab.name)).map((x) => ({ name: x.name, node: x.mark?.node ?? '?', state: x.state })));
  const running = domains.ok && domains.value.some((x) => x.state === 'running');
  const gated = <T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<Part<T>> =>
    running ? part(ms, fn) : Promise.resolve({ ok: false, reason: domains.ok ? 'no node VM is running' : 'node VMs unknown', ms: 0 });
  const [network, target, session, volumeGroup, cluster, storages, ha, guest] = await Promise.all([
    part(d, async () => {
      const n = (await ownedNetworks(lv(), lab.name))[0];
      if (!n) throw new Error(`network ${names.network.name} not defined`);
      return { name: n.name, active: n.active, bridge: n.bridge, cidr: names.network.cidr };
    }),
    part(d, async () => {
      if (!s.tgt) throw new Error('tgt driver unavailable');
      const t = (await s.tgt.targets()).find((x) => x.iqn === names.iscsi.iqn);
      return t ? { iqn: t.iqn, tid: t.tid, luns: t.luns.filter((l) => l.lun > 0).length, acl: t.aclAddresses, connections: t.nexus.length } : null;
    }),
    part(d, async () => {
      if (lab.storage.layout !== 'lvm') return null;
      if (!s.iscsiadm) throw new Error('iscsiadm driver unavailable');
      const x = (await s.iscsiadm.sessions()).find((y) => y.iqn === names.iscsi.iqn);
      return x ? { portal: `${x.portal}:${x.port}`, iqn: x.iqn } : null;
    }),
    part(d, async () => {
      if (lab.storage.layout !== 'lvm') return null;
      if (!s.lvm) throw new Error('lvm driver unavailable');
      const vg = (await s.lvm.vgs(names.lvm.vg)).find((v) => v.tags.includes(names.lvm.tag));
      return vg ? { vg: vg.name, lvs: (await s.lvm.lvs(vg.name)).filter((l) => l.tags.includes(names.lvm.tag)).map((l) => l.name) } : null;
    }),
    gated(d * 3, async (sig) => {
      const c = parseClusterStatus(await pvesh<unknown>('/cluster/status', sig));
      if (!c.cluster) throw new Error('the nodes are not in a cluster yet');
      return { name: c.cluster.name, quorate: c.cluster.quorate, nodes: c.nodes.map((n) => ({ name: n.name, online: n.online })) };
    }),
    gated(d * 3, async (sig) => (await pvesh<{ storage: string; type: string; shared?: number }[]>('/storage', sig)).map((x) => ({ id: x.storage, type: x.type, shared: x.shared === 1 }))),
    gated(d * 3, async (sig) => {
      const rows = await pvesh<{ id: string; sid?: string; state?: string; node?: string }[]>('/cluster/ha/status/current', sig);
      const r = rows.find((x) => x.sid === names.guest.haSid || x.id === `service:${names.guest.haSid}`);
      return r ? { sid: names.guest.haSid, state: r.state ?? 'unknown', node: r.node } : null;
    }),
    gated(d, async (sig) => {
      const url = `http://${names.guest.ip}/`;
      return { url, ...(await (opts.fetchGuest ?? defaultFetch)(url, sig)) };
    }),
  ]);
  return { lab: lab.name, network, domains, target, session, volumeGroup, cluster, storages, ha, guest };
}
