// HA configuration files and their API-side checks (pve-ha-manager API2/HA/{Resources,Groups,Rules}.pm,
// HA/Config.pm): /etc/pve/ha/resources.cfg, groups.cfg (PVE 8; PVE 9 refuses once migrated),
// rules.cfg (PVE 9). Section config text: "<type>: <id>", comment first, required keys sorted,
// optional keys sorted (pve-common SectionConfig write_config); group node lists keep insertion
// order upstream (Perl hash order), here they are written as given.
import type { ClusterModel } from '../cluster.js';
import type { Db, SectionCfg } from '../cfs.js';
import { die } from '../perl.js';
import type { Release } from '../release.js';

const REQUIRED: Record<string, string[]> = { ct: [], vm: [], group: ['nodes'], 'node-affinity': ['nodes', 'resources'], 'resource-affinity': ['affinity', 'resources'] };

/** HA resources (max_restart, max_relocate integer; failback boolean), groups, rules: numbers in the API (cfs.ts typedOpts) */
export const HA_NUMERIC: ReadonlySet<string> = new Set(['max_restart', 'max_relocate', 'failback', 'restricted', 'nofailback', 'strict', 'disable']);

export function renderSections(cfg: SectionCfg, idOf: (id: string) => string = (id) => id): string {
  let out = '';
  for (const [id, { type, opts }] of cfg) {
    out += `${type}: ${idOf(id)}\n`;
    if (opts.comment) out += `\tcomment ${opts.comment}\n`;
    if (opts.disable === '1') out += '\tdisable\n';
    const req = [...(REQUIRED[type] ?? [])].sort();
    const rest = Object.keys(opts).filter((k) => !req.includes(k) && k !== 'comment' && k !== 'disable' && k !== 'type').sort();
    for (const k of [...req, ...rest]) if (opts[k] !== undefined) out += `\t${k} ${opts[k]}\n`;
    out += '\n';
  }
  return out;
}

export const renderResources = (db: Db) => renderSections(db.haResources, (sid) => sid.slice(sid.indexOf(':') + 1));

/** PVE 9 groups API gate (Config.pm have_groups_been_migrated): no groups left = migrated. */
export function groupsMigrated(rel: Release, db: Db): boolean {
  return rel.haRules && db.haGroups.size === 0;
}

/** HA/Config.pm parse_sid: "100" -> type from the VM list; "ct:100" as is. */
export function parseSid(db: Db, sid: string): { sid: string; type: string; name: string } {
  let m = /^(\d+)$/.exec(sid);
  if (m) {
    const g = db.guests.get(Number(m[1]));
    if (!g) throw die(`unable to detect SID from VMID - VM/CT ${m[1]} does not exist`);
    const type = g.type === 'lxc' ? 'ct' : 'vm';
    return { sid: `${type}:${m[1]}`, type, name: m[1]! };
  }
  m = /^(\S+):(\S+)$/.exec(sid);
  if (!m) throw die(`unable to parse service id '${sid}'`);
  return { sid, type: m[1]!, name: m[2]! };
}

/** Resources.pm create (after check_cfs_quorum): plugin checks, group gate, duplicate id. */
export function addResource(m: ClusterModel, node: string, sidIn: string, p: Record<string, string>): void {
  const db = m.view(node).db;
  const { sid, type, name } = parseSid(db, sidIn);
  if (p.group !== undefined && groupsMigrated(m.release(node), db)) throw die("invalid parameter 'group': ha groups have been migrated to rules");
  if (type !== 'ct' && type !== 'vm') throw die(`unknown resource type '${type}'`);
  if (!/^[1-9][0-9]+$/.test(name)) throw die('invalid VMID');
  const g = db.guests.get(Number(name));
  if (!g) throw die(`resource '${sid}' does not exist in cluster`);
  if (type === 'ct' && g.type !== 'lxc') throw die(`resource '${sid}' - guest with ID ${name} is not a container`);
  if (type === 'vm' && g.type !== 'qemu') throw die(`resource '${sid}' - guest with ID ${name} is not a VM`);
  if (db.haResources.has(sid)) throw die(`create resource failed: resource ID '${sid}' already defined`);
  const opts: Record<string, string> = {};
  for (const k of ['comment', 'failback', 'group', 'max_relocate', 'max_restart', 'state']) if (p[k] !== undefined) opts[k] = p[k]!;
  db.haResources.set(sid, { type, opts });
}

export function addGroup(m: ClusterModel, node: string, group: string, p: Record<string, string>): void {
  const db = m.view(node).db;
  if (groupsMigrated(m.release(node), db)) throw die('cannot create group: ha groups have been migrated to rules');
  if (!m.view(node).writable) throw die('cluster not ready - no quorum?');
  if (db.haGroups.has(group)) throw die(`create ha group failed: ha group ID '${group}' already defined`);
  const opts: Record<string, string> = {};
  for (const k of ['comment', 'nodes', 'nofailback', 'restricted']) if (p[k] !== undefined) opts[k] = p[k]!;
  db.haGroups.set(group, { type: 'group', opts });
}

/** Rules.pm create: quorum, migration gate, duplicate, resources/nodes existence. */
export function addRule(m: ClusterModel, node: string, type: string, rule: string, p: Record<string, string>): void {
  const db = m.view(node).db;
  if (!m.view(node).writable) throw die('cluster not ready - no quorum?');
  if (!groupsMigrated(m.release(node), db)) throw die('cannot create ha rule: ha groups have not been migrated yet');
  const fail = (msg: string) => die(`create ha rule failed: ${msg}`);
  if (db.haRules.has(rule)) throw fail(`HA rule '${rule}' already defined`);
  const resources = (p.resources ?? '').split(/[,;\s]+/).filter(Boolean);
  if (!resources.length) throw fail('no resources were specified');
  const unmanaged = resources.filter((r) => !db.haResources.has(r)).sort();
  if (unmanaged.length) throw fail(`cannot use unmanaged resource(s) ${unmanaged.join(', ')}.`);
  if (type === 'node-affinity') {
    const nodes = (p.nodes ?? '').split(/[,;\s]+/).filter(Boolean).map((n) => n.split(':')[0]!);
    if (!nodes.length) throw fail('no nodes were specified');
    const members = m.members();
    const missing = nodes.filter((n) => n !== node && !members.has(n)).sort();
    if (missing.length) throw fail(`cannot use non-existent node(s) ${missing.join(', ')}.`);
  }
  const opts: Record<string, string> = { resources: [...resources].sort().join(',') };
  for (const k of ['affinity', 'comment', 'disable', 'nodes', 'strict']) if (p[k] !== undefined) opts[k] = p[k]!;
  db.haRules.set(rule, { type, opts });
}
