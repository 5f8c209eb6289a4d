// Cluster commands and the formats they answer with (proxmox.md C):
//   GET /cluster/status      → [{type:"cluster",name,nodes,quorate,version}?, {type:"node",name,nodeid,ip,local,online}…]
//                              (a standalone node answers with its own node entry only, nodeid 0)
//   GET /cluster/config/join → {nodelist:[{name,nodeid,pve_addr,pve_fp,ring0_addr,quorum_votes}],preferred_node,totem,config_digest}
//   `pvecm status`           → corosync-quorumtool text ("Quorate: Yes", membership rows)
import { LabError } from '../core/errors.js';
import { truthy } from './pvesh.js';

export interface ClusterNode {
  name: string;
  nodeid: number;
  ip?: string;
  online: boolean;
  local: boolean;
}

export interface ClusterStatus {
  /** Absent on a node that belongs to no cluster. */
  cluster?: { name: string; quorate: boolean; nodes: number; version: number };
  nodes: ClusterNode[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseClusterStatus(json: unknown): ClusterStatus {
  if (!Array.isArray(json)) throw new LabError(`unexpected /cluster/status answer: ${JSON.stringify(json).slice(0, 120)}`);
  const out: ClusterStatus = { nodes: [] };
  for (const e of json.filter(isObj)) {
    if (e['type'] === 'cluster') {
      out.cluster = { name: String(e['name'] ?? ''), quorate: truthy(e['quorate']), nodes: Number(e['nodes'] ?? 0), version: Number(e['version'] ?? 0) };
    } else if (e['type'] === 'node') {
      const n: ClusterNode = { name: String(e['name']), nodeid: Number(e['nodeid'] ?? 0), online: truthy(e['online']), local: truthy(e['local']) };
      if (typeof e['ip'] === 'string') n.ip = e['ip'];
      out.nodes.push(n);
    }
  }
  out.nodes.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/** One line for progress/timeout messages: "quorate, 2/3 online (pve3 offline)". */
export function describeClusterStatus(s: ClusterStatus, expected: readonly string[]): string {
  if (!s.cluster) return 'no cluster';
  const online = s.nodes.filter((n) => n.online).map((n) => n.name);
  const missing = expected.filter((n) => !online.includes(n));
  return `${s.cluster.name} ${s.cluster.quorate ? 'quorate' : 'NOT quorate'}, ${expected.length - missing.length}/${expected.length} online${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`;
}

/** The cluster is named `name`, quorate, and every expected node is a member and online. */
export function isHealthyCluster(s: ClusterStatus, name: string, expected: readonly string[]): boolean {
  if (!s.cluster || s.cluster.name !== name || !s.cluster.quorate) return false;
  return expected.every((n) => s.nodes.some((m) => m.name === n && m.online));
}

export interface JoinInfo {
  preferredNode?: string;
  nodes: { name: string; nodeid: number; addr?: string; fingerprint?: string }[];
}

export function parseJoinInfo(json: unknown): JoinInfo {
  if (!isObj(json) || !Array.isArray(json['nodelist'])) throw new LabError(`unexpected /cluster/config/join answer: ${JSON.stringify(json).slice(0, 120)}`);
  const info: JoinInfo = { nodes: [] };
  if (typeof json['preferred_node'] === 'string') info.preferredNode = json['preferred_node'];
  for (const n of json['nodelist'].filter(isObj)) {
    const e: JoinInfo['nodes'][number] = { name: String(n['name']), nodeid: Number(n['nodeid'] ?? 0) };
    const addr = n['pve_addr'] ?? n['ring0_addr'];
    if (typeof addr === 'string') e.addr = addr;
    if (typeof n['pve_fp'] === 'string') e.fingerprint = n['pve_fp'];
    info.nodes.push(e);
  }
  return info;
}

const FP = /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/;

/** SHA-256 fingerprint of `node`'s API certificate, as `pvecm add --fingerprint` wants it. */
export function joinFingerprint(info: JoinInfo, node: string): string {
  const fp = info.nodes.find((n) => n.name === node)?.fingerprint;
  if (!fp || !FP.test(fp)) throw new LabError(`no valid certificate fingerprint for ${node} in the cluster join information (got ${JSON.stringify(fp ?? null)})`);
  return fp.toUpperCase();
}

export interface PvecmStatus {
  name?: string;
  quorate: boolean;
  nodes?: number;
  expectedVotes?: number;
  totalVotes?: number;
  members: { nodeid: number; votes: number; name: string; local: boolean }[];
}

/** Parses `pvecm status` (real output underlines with "---", pve-docs with "~~~"). */
export function parsePvecmStatus(text: string): PvecmStatus {
  const field = (k: string) => new RegExp(`^${k}:\\s+(.*?)\\s*$`, 'm').exec(text)?.[1];
  const num = (k: string) => {
    const v = field(k);
    return v === undefined ? undefined : Number(v);
  };
  const out: PvecmStatus = { quorate: field('Quorate') === 'Yes', members: [] };
  const name = field('Name');
  if (name !== undefined) out.name = name;
  for (const [k, key] of [['Nodes', 'nodes'], ['Expected votes', 'expectedVotes'], ['Total votes', 'totalVotes']] as const) {
    const v = num(k);
    if (v !== undefined) out[key] = v;
  }
  const section = text.split(/^Membership information\s*$/m)[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^\s*(0x[0-9a-fA-F]+|\d+)\s+(\d+)\s+(\S+)(\s+\(local\))?\s*$/.exec(line);
    if (m) out.members.push({ nodeid: Number(m[1]), votes: Number(m[2]), name: m[3]!, local: !!m[4] });
  }
  return out;
}

// ---- commands ---------------------------------------------------------------------------------

/** Creates the cluster on the first node, corosync link0 on its lab address. */
export function clusterCreateArgv(clusterName: string, link0: string): string[] {
  return ['pvecm', 'create', clusterName, '--link0', link0];
}

/**
 * Joins the current node to the cluster of `peerIp`. The root password goes on stdin (pvecm reads one
 * line from a non-TTY stdin, pve-common PTY.pm); the fingerprint avoids the yes/no prompt.
 */
export function clusterJoinArgv(peerIp: string, ownIp: string, fingerprint: string): string[] {
  return ['pvecm', 'add', peerIp, '--link0', ownIp, '--fingerprint', fingerprint];
}

export function clusterJoinInput(rootPassword: string): string {
  return `${rootPassword}\n`;
}
