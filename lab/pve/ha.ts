// HA and replication commands and formats (proxmox.md F, D; pve-ha-manager):
//   PVE 8: `ha-manager groupadd <g> --nodes "pve1:2,…"` + `ha-manager add <sid> --state started --group <g>`
//   PVE 9: `ha-manager add <sid> --state started` + `ha-manager rules add node-affinity <r> --resources <sid> --nodes "…"`
//   GET /cluster/ha/resources → [{sid,state,group?,type,…}]; /cluster/ha/groups → [{group,nodes,…}];
//   GET /cluster/ha/rules → [{rule,type,resources,nodes,strict?,disable?,…}] (nodes encoded sorted "n:prio,…")
//   `ha-manager status` → "quorum OK" / "master <n> (…)" / "lrm <n> (…)" / "service <sid> (<node>, <state>)"
//   GET /cluster/ha/status/manager_status → {manager_status:{master_node,node_status,service_status},quorum,lrm_status}
//   GET /cluster/replication → [{id:"<vmid>-<n>",guest,target,schedule,jobnum,type:"local",…}]
import type { LabNames } from '../config/names.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (json: unknown): Obj[] => (Array.isArray(json) ? json.filter(isObj) : []);

/** Node priorities: the first node is preferred (2), the others are equal fall-backs (1). */
export function nodePriorities(n: LabNames): string {
  return n.nodes.map((x, i) => `${x.name}:${i === 0 ? 2 : 1}`).join(',');
}

/** Canonical form of a node list ("b:1,a:2" → "a:2,b:1"), as pve-ha-manager encodes it. */
export function canonicalNodes(s: string): string {
  return s.split(',').map((x) => x.trim()).filter(Boolean).sort().join(',');
}

export const haGroupAddArgv = (group: string, nodes: string) => ['ha-manager', 'groupadd', group, '--nodes', nodes];
export const haGroupSetArgv = (group: string, nodes: string) => ['ha-manager', 'groupset', group, '--nodes', nodes];
export const haAddArgv = (sid: string, group?: string) => ['ha-manager', 'add', sid, '--state', 'started', ...(group ? ['--group', group] : [])];
export const haSetArgv = (sid: string, group?: string) => ['ha-manager', 'set', sid, '--state', 'started', ...(group ? ['--group', group] : [])];
export const haRuleAddArgv = (rule: string, sid: string, nodes: string) => ['ha-manager', 'rules', 'add', 'node-affinity', rule, '--resources', sid, '--nodes', nodes];
export const haRuleSetArgv = (rule: string, sid: string, nodes: string) => ['ha-manager', 'rules', 'set', 'node-affinity', rule, '--resources', sid, '--nodes', nodes];
export const HA_STATUS_ARGV = ['ha-manager', 'status'] as const;

export function findHaResource(json: unknown, sid: string): { sid: string; state: string; group?: string } | undefined {
  const r = list(json).find((x) => x['sid'] === sid);
  if (!r) return undefined;
  const out: { sid: string; state: string; group?: string } = { sid, state: String(r['state'] ?? 'started') };
  if (typeof r['group'] === 'string') out.group = r['group'];
  return out;
}

export function findHaGroup(json: unknown, group: string): { nodes: string } | undefined {
  const g = list(json).find((x) => x['group'] === group);
  return g ? { nodes: canonicalNodes(String(g['nodes'] ?? '')) } : undefined;
}

export function findHaRule(json: unknown, rule: string): { type: string; resources: string; nodes: string; disabled: boolean } | undefined {
  const r = list(json).find((x) => x['rule'] === rule);
  if (!r) return undefined;
  return { type: String(r['type']), resources: canonicalNodes(String(r['resources'] ?? '')), nodes: canonicalNodes(String(r['nodes'] ?? '')), disabled: !!r['disable'] && r['disable'] !== '0' && r['disable'] !== 0 };
}

export interface HaStatusText {
  quorum?: string;
  master?: { node: string; detail: string };
  lrms: { node: string; detail: string }[];
  services: { sid: string; node: string; state: string }[];
}

/** Parses `ha-manager status` (one "<type> <status>" line per entry; CLI/ha_manager.pm). */
export function parseHaStatusText(text: string): HaStatusText {
  const out: HaStatusText = { lrms: [], services: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^quorum (.*)$/.exec(line))) out.quorum = m[1]!;
    else if ((m = /^master (\S+) \((.*)\)$/.exec(line))) out.master = { node: m[1]!, detail: m[2]! };
    else if ((m = /^lrm (\S+) \((.*)\)$/.exec(line))) out.lrms.push({ node: m[1]!, detail: m[2]! });
    else if ((m = /^service (\S+) \(([^,]+), (.*)\)$/.exec(line))) out.services.push({ sid: m[1]!, node: m[2]!, state: m[3]! });
  }
  return out;
}

// ---- replication (guest.storage = zfs) --------------------------------------------------------

export interface ReplicationJob {
  id: string;
  guest: number;
  target: string;
  schedule?: string;
}

export function replicationJobs(json: unknown, vmid: number): ReplicationJob[] {
  return list(json)
    .filter((j) => Number(j['guest']) === vmid)
    .map((j) => {
      const r: ReplicationJob = { id: String(j['id']), guest: vmid, target: String(j['target']) };
      if (typeof j['schedule'] === 'string') r.schedule = j['schedule'];
      return r;
    });
}

export const REPLICATION_SCHEDULE = '*/1';

// `pvesr create-local-job <vmid>-<n> <target> --schedule '*/1'` (job number n is free for this guest).
export function replicationCreateArgv(vmid: number, jobnum: number, target: string): string[] {
  return ['pvesr', 'create-local-job', `${vmid}-${jobnum}`, target, '--schedule', REPLICATION_SCHEDULE];
}

/** Nodes that still need a job: every node but the one the guest runs on, minus existing targets. */
export function missingReplicationTargets(jobs: readonly ReplicationJob[], nodes: readonly string[], current: string): string[] {
  return nodes.filter((n) => n !== current && !jobs.some((j) => j.target === n));
}

export function nextJobNumber(jobs: readonly ReplicationJob[]): number {
  const used = new Set(jobs.map((j) => Number(j.id.split('-')[1])));
  let i = 0;
  while (used.has(i)) i++;
  return i;
}
