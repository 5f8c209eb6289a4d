// Text rendering of `pvelab status`: one line per part, unknown parts with their reason.
import type { LabStatus, Part } from './collect.js';

function line<T>(title: string, p: Part<T>, show: (v: T) => string): string {
  return p.ok ? `✓ ${title.padEnd(10)} ${show(p.value)}` : `? ${title.padEnd(10)} unknown: ${p.reason}`;
}

export function renderStatus(s: LabStatus): string {
  return [
    `lab ${s.lab}`,
    line('network', s.network, (n) => `${n.name} ${n.active ? 'active' : 'INACTIVE'} (${n.bridge ?? '-'}, ${n.cidr})`),
    line('nodes', s.domains, (d) => (d.length ? d.map((x) => `${x.node} ${x.state}`).join(', ') : 'no node VMs')),
    line('target', s.target, (t) => (t ? `${t.iqn} tid ${t.tid}, ${t.luns} LUN(s), ACL ${t.acl.join(' ')}, ${t.connections} connection(s)` : 'no iSCSI target')),
    line('session', s.session, (x) => (x === null ? 'none (not needed for this layout, or not logged in)' : `${x.portal} ${x.iqn}`)),
    line('lvm', s.volumeGroup, (v) => (v === null ? 'none' : `${v.vg}: ${v.lvs.join(', ') || 'no LVs'}`)),
    line('cluster', s.cluster, (c) => `${c.name} ${c.quorate ? 'quorate' : 'NOT quorate'}; ${c.nodes.map((n) => `${n.name} ${n.online ? 'online' : 'OFFLINE'}`).join(', ')}`),
    line('storages', s.storages, (x) => x.map((y) => `${y.id} (${y.type}${y.shared ? ', shared' : ''})`).join(', ')),
    line('ha', s.ha, (h) => (h ? `${h.sid} ${h.state}${h.node ? ` on ${h.node}` : ''}` : 'no HA resource')),
    line('guest', s.guest, (g) => `${g.url} → ${g.status} "${g.body.split('\n')[0]}"`),
  ].join('\n');
}
