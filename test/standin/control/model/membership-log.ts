// Journal lines of a membership change on each affected running node, in corosync's and pmxcfs'
// wording (corosync votequorum "[QUORUM] Members[n]: ...", "This node is within the primary
// component and will provide service." / "...non-primary component and will NOT provide any
// services."; pmxcfs "[status] notice: node has quorum" / "node lost quorum").
import type { ClusterModel } from './cluster.js';

const lastQuorate = new WeakMap<ClusterModel, Map<string, boolean>>();

export function logMembership(m: ClusterModel, changed: string[]): void {
  let prev = lastQuorate.get(m);
  if (!prev) lastQuorate.set(m, (prev = new Map()));
  const members = m.members();
  for (const name of changed) {
    const n = m.world.nodes.get(name);
    if (!n?.up || !members.has(name)) continue;
    const part = m.world.partitionOf(name);
    const ids = part.map((p) => members.get(p)?.nodeid ?? 0).sort((a, b) => a - b);
    const q = m.world.quorate(name);
    m.log(name, 'corosync', 5, `[QUORUM] Sync members[${ids.length}]: ${ids.join(' ')}`, 'corosync');
    m.log(name, 'corosync', 5, `[QUORUM] Members[${ids.length}]: ${ids.join(' ')}`, 'corosync');
    m.log(name, 'corosync', 5, q
      ? '[QUORUM] This node is within the primary component and will provide service.'
      : '[QUORUM] This node is within the non-primary component and will NOT provide any services.', 'corosync');
    m.log(name, 'corosync', 5, '[MAIN  ] Completed service synchronization, ready to provide service.', 'corosync');
    m.log(name, 'pve-cluster', 5, `[dcdb] notice: members: ${ids.map((id) => `${id}/${m.pid(part.find((p) => members.get(p)?.nodeid === id)!, 'pve-cluster')}`).join(', ')}`, 'pmxcfs');
    if (prev.get(name) !== q) m.log(name, 'pve-cluster', 5, q ? '[status] notice: node has quorum' : '[status] notice: node lost quorum', 'pmxcfs');
    prev.set(name, q);
  }
}
