// corosync.conf as PVE writes it (pve-cluster Corosync.pm create_conf + write_conf: sections and
// keys sorted, 2-space indent, blank line after each top-level section; config_version bumped on
// every write), the join info of GET /cluster/config/join (values are strings, as parsed from the
// text), and corosync-quorumtool -siH / -l output (corosync tools/corosync-quorumtool.c).
import { createHash } from 'node:crypto';
import type { ClusterModel } from './cluster.js';
import type { CorosyncConf } from './cfs.js';
import { cDate } from './perl.js';

export function renderCorosyncConf(c: CorosyncConf): string {
  const nodes = [...c.nodes].sort((a, b) => (a.name < b.name ? -1 : 1));
  let s = 'logging {\n  debug: off\n  to_syslog: yes\n}\n\nnodelist {\n';
  for (const n of nodes) s += `  node {\n    name: ${n.name}\n    nodeid: ${n.nodeid}\n    quorum_votes: ${n.votes}\n    ring0_addr: ${n.ring0}\n  }\n`;
  s += '}\n\nquorum {\n  provider: corosync_votequorum\n}\n\n';
  s += `totem {\n  cluster_name: ${c.clusterName}\n  config_version: ${c.configVersion}\n  interface {\n    linknumber: 0\n  }\n`;
  s += `  ip_version: ipv4-6\n  link_mode: ${c.linkMode}\n  secauth: ${c.secauth ? 'on' : 'off'}\n  token_coefficient: ${c.tokenCoefficient}\n  version: 2\n}\n\n`;
  return s;
}

export function joinInfo(m: ClusterModel, c: CorosyncConf, preferred: string): Record<string, unknown> {
  return {
    nodelist: c.nodes.map((n) => ({
      name: n.name, nodeid: String(n.nodeid), quorum_votes: String(n.votes), ring0_addr: n.ring0,
      pve_addr: m.node(n.name).ip, pve_fp: m.world.fingerprint(n.name),
    })),
    preferred_node: preferred,
    totem: {
      cluster_name: c.clusterName, config_version: String(c.configVersion), interface: { 0: { linknumber: '0' } },
      ip_version: 'ipv4-6', link_mode: c.linkMode, secauth: c.secauth ? 'on' : 'off', token_coefficient: String(c.tokenCoefficient), version: '2',
    },
    config_digest: createHash('sha1').update(renderCorosyncConf(c)).digest('hex'),
  };
}

/** pvecm status: totem header (pvecm.pm `printf "%-17s %s"`) + corosync-quorumtool -siH. */
export function pvecmStatus(m: ClusterModel, node: string, c: CorosyncConf): { out: string; quorate: boolean } {
  const pad = (k: string, v: string | number) => `${`${k}:`.padEnd(17)} ${v}\n`;
  let s = 'Cluster information\n-------------------\n';
  s += pad('Name', c.clusterName) + pad('Config Version', c.configVersion) + pad('Transport', 'knet') + pad('Secure auth', c.secauth ? 'on' : 'off') + '\n';
  const members = m.members();
  const part = m.world.partitionOf(node);
  const me = members.get(node)!;
  const ids = part.map((p) => members.get(p)!.nodeid);
  const quorate = m.world.quorate(node);
  const expected = m.world.expectedVotes();
  s += 'Quorum information\n------------------\n';
  s += `Date:             ${cDate(m.clock.now())}\n`;
  s += `Quorum provider:  corosync_votequorum\nNodes:            ${part.length}\n`;
  s += `Node ID:          0x${me.nodeid.toString(16).padStart(8, '0')}\n`;
  s += `Ring ID:          ${Math.min(...ids).toString(16)}.${m.world.ringSeq.toString(16)}\n`;
  s += `Quorate:          ${quorate ? 'Yes' : 'No'}\n\n`;
  s += 'Votequorum information\n----------------------\n';
  s += `Expected votes:   ${expected}\nHighest expected: ${expected}\nTotal votes:      ${m.world.votes(part)}\n`;
  s += `Quorum:           ${m.world.quorumNeeded()} ${quorate ? ' ' : 'Activity blocked'}\n`;
  s += `Flags:            ${quorate ? 'Quorate ' : ''}\n`;
  s += membership(m, node, part, true);
  return { out: s, quorate };
}

/** display_nodes_data: -H (hex ids) and -i (addresses) for `pvecm status`, names for `pvecm nodes`. */
export function membership(m: ClusterModel, node: string, part: string[], statusStyle: boolean): string {
  const members = m.members();
  const col = (v: string) => `${v.padStart(10)} `;
  let s = '\nMembership information\n----------------------\n' + col('Nodeid') + col('Votes') + 'Name\n';
  const rows = [...part].sort((a, b) => {
    const ia = m.node(a).ip.split('.').map(Number);
    const ib = m.node(b).ip.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (ia[i] !== ib[i]) return ia[i]! - ib[i]!;
    return 0;
  });
  for (const p of rows) {
    const mb = members.get(p)!;
    const id = statusStyle ? `0x${mb.nodeid.toString(16).padStart(8, '0')} ` : col(String(mb.nodeid));
    s += `${id}${col(String(mb.votes))}${statusStyle ? m.node(p).ip : p}${p === node ? ' (local)' : ''}\n`;
  }
  return s;
}
