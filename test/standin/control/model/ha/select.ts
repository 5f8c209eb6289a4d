// Node choice for HA services (pve-ha-manager Manager.pm select_service_node, 'basic' CRS scheduler
// = number of services per node, Usage/Basic.pm), with node affinity compiled from PVE 9 rules or
// PVE 8 groups (groups become non-strict/strict node-affinity rules in memory, Groups.pm
// migrate_groups_to_rules; non-strict rules add the other nodes at priority -1) and resource
// affinity (positive: follow the majority node, negative: avoid nodes used by the others).
import type { Db } from '../cfs.js';

export interface Sd {
  state: string;
  node: string;
  uid?: string;
  target?: string;
  running?: number;
  failed_nodes?: string[];
  maintenance_node?: string;
  cmd?: string[];
  timeout?: number;
}

export interface Compiled {
  nodeAffinity: Map<string, Record<string, number>>; // sid -> node -> priority
  together: Map<string, Set<string>>;
  separate: Map<string, Set<string>>;
}

export function parseNodeList(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of s.split(/[,;\s]+/).filter(Boolean)) {
    const [n, p] = e.split(':');
    out[n!] = p === undefined ? 0 : Number(p);
  }
  return out;
}

export function compileRules(db: Pick<Db, 'haRules' | 'haGroups' | 'haResources'>, nodes: string[]): Compiled {
  const c: Compiled = { nodeAffinity: new Map(), together: new Map(), separate: new Map() };
  const addNa = (sids: string[], list: Record<string, number>, strict: boolean) => {
    const eff = { ...list };
    if (!strict) for (const n of nodes) if (eff[n] === undefined) eff[n] = -1;
    for (const sid of sids) c.nodeAffinity.set(sid, eff);
  };
  for (const [gid, g] of db.haGroups) {
    const sids = [...db.haResources].filter(([, r]) => r.opts.group === gid).map(([sid]) => sid);
    if (sids.length) addNa(sids, parseNodeList(g.opts.nodes ?? ''), g.opts.restricted === '1');
  }
  for (const [, r] of db.haRules) {
    if (r.opts.disable === '1') continue;
    const sids = (r.opts.resources ?? '').split(',').filter(Boolean);
    if (r.type === 'node-affinity') addNa(sids, parseNodeList(r.opts.nodes ?? ''), r.opts.strict === '1');
    if (r.type === 'resource-affinity') {
      const map = r.opts.affinity === 'negative' ? c.separate : c.together;
      for (const sid of sids) {
        const set = map.get(sid) ?? new Set<string>();
        for (const o of sids) if (o !== sid) set.add(o);
        map.set(sid, set);
      }
    }
  }
  return c;
}

/** Usage.pm get_used_service_nodes */
export function usedNodes(online: Set<string>, sd: Sd): [string | undefined, string | undefined] {
  if (sd.state === 'stopped' || sd.state === 'request_start') return [undefined, undefined];
  let cur: string | undefined;
  let tgt: string | undefined;
  if (['started', 'request_stop', 'fence', 'freeze', 'error', 'recovery', 'migrate', 'relocate'].includes(sd.state)) {
    if (online.has(sd.node)) cur = sd.node;
  }
  if (['migrate', 'relocate', 'request_start_balance'].includes(sd.state) && sd.target && online.has(sd.target)) tgt = sd.target;
  return [cur, tgt];
}

/** Basic usage: node -> set of sids counted there. */
export function basicUsage(online: string[], ss: Record<string, Sd>): Map<string, Set<string>> {
  const on = new Set(online);
  const usage = new Map(online.map((n) => [n, new Set<string>()]));
  for (const sid of Object.keys(ss).sort()) {
    const [cur, tgt] = usedNodes(on, ss[sid]!);
    if (cur) usage.get(cur)?.add(sid);
    if (tgt) usage.get(tgt)?.add(sid);
  }
  return usage;
}

export type Preference = 'none' | 'best-score' | 'try-next';

export function selectServiceNode(
  c: Compiled, usage: Map<string, Set<string>>, sid: string, failback: number, ss: Record<string, Sd>, pref: Preference,
): string | undefined {
  const sd = ss[sid]!;
  const current = sd.node;
  const online = new Set(usage.keys());
  const na = c.nodeAffinity.get(sid);
  let allowed: Set<string>;
  let pri: Set<string>;
  if (!na) {
    allowed = new Set(online);
    pri = new Set(online);
  } else {
    allowed = new Set(Object.keys(na).filter((n) => online.has(n)));
    const top = Math.max(...[...allowed].map((n) => na[n]!));
    pri = new Set([...allowed].filter((n) => na[n] === top));
  }
  if (!pri.size) return undefined;
  const together = new Map<string, number>();
  const separate = new Set<string>();
  for (const o of c.together.get(sid) ?? []) {
    const [cur, tgt] = ss[o] ? usedNodes(online, ss[o]!) : [undefined, undefined];
    const n = tgt ?? cur;
    if (n) together.set(n, (together.get(n) ?? 0) + 1);
  }
  for (const o of c.separate.get(sid) ?? []) {
    const [cur, tgt] = ss[o] ? usedNodes(online, ss[o]!) : [undefined, undefined];
    if (cur) separate.add(cur);
    if (tgt) separate.add(tgt);
  }
  const allowedHere = (n: string) => together.has(n) || !separate.has(n);
  if (pref === 'none' && !failback && allowed.has(current) && allowedHere(current)) return current;
  if (pref === 'try-next') for (const n of sd.failed_nodes ?? []) pri.delete(n);
  for (const n of separate) pri.delete(n);
  const tog = [...together.keys()].filter((n) => pri.has(n)).sort().sort((a, b) => together.get(b)! - together.get(a)!);
  if (tog.length) for (const n of [...pri]) if (n !== tog[0]) pri.delete(n);
  if (sd.maintenance_node && pri.has(sd.maintenance_node)) return sd.maintenance_node;
  if (pref === 'none' && pri.has(current)) return current;
  const score = (n: string) => usage.get(n)?.size ?? 0;
  const nodes = [...pri].sort((a, b) => score(a) - score(b) || (a < b ? -1 : a > b ? 1 : 0));
  if (!nodes.length) return undefined;
  if (pref === 'try-next') {
    const found = nodes.indexOf(current);
    return found >= 0 && found < nodes.length - 1 ? nodes[found + 1] : nodes[0];
  }
  return nodes[0];
}
