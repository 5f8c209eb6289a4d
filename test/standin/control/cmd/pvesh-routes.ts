// API paths pvesh can reach on a stand-in node, with the same result shapes as the PVE API
// (pve-manager API2/Cluster.pm get_status, API2.pm version, pve-cluster API2/ClusterConfig.pm,
// pve-ha-manager API2/HA/Status.pm, pve-storage API2/Storage/Status.pm, pve-container API2/LXC.pm).
import { joinInfo } from '../model/corosync.js';
import { HA_NUMERIC, addGroup, addResource, addRule, groupsMigrated } from '../model/ha/config.js';
import { haManagerStatus, haStatusCurrent } from '../model/ha/status.js';
import { PveError, die, paramError } from '../model/perl.js';
import { storageInfo, volumes } from '../model/storage-ops.js';
import { STORAGE_NUMERIC } from '../model/storage.js';
import { typedOpts } from '../model/cfs.js';
import type { Prop } from './args.js';
import { assertCanCreate, createWorker, joinWorker } from './cluster-join.js';
import type { Ctx } from './io.js';
import { CREATE_PROPS, JOIN_PROPS } from './pvecm.js';
import { ALL_PROPS, pvesm } from './pvesm.js';
import { CREATE, pct } from './pct.js';
import { DISK_ROUTES } from './pvesh-disks.js';
import { pveam } from './pveam.js';
import { syncWorker } from './worker.js';

export interface Route {
  method: string;
  re: RegExp;
  props?: Record<string, Prop>;
  run(ctx: Ctx, p: Record<string, string>, g: Record<string, string>): Promise<unknown> | unknown;
}

const N = '(?<node>[^/]+)';
const opt = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { optional: true }])) as Record<string, Prop>;

/** run another CLI in-process and map a non-zero exit to a die with its stderr */
async function viaCli(ctx: Ctx, fn: (c: Ctx, a: string[]) => Promise<number>, argv: string[]): Promise<void> {
  let err = '';
  const rc = await fn({ ...ctx, out: () => {}, err: (s) => void (err += s) }, argv);
  if (rc !== 0) throw new PveError(err || 'command failed\n');
}

const toArgv = (p: Record<string, string>, skip: string[]) => Object.entries(p).filter(([k]) => !skip.includes(k) && k !== 'api_path' && k !== 'output-format').flatMap(([k, v]) => [`--${k}`, v]);

export const ROUTES: Route[] = [
  { method: 'GET', re: /^\/version$/, run: ({ m, node }) => ({ release: m.release(node).release, repoid: m.release(node).repoid, version: m.release(node).manager }) },
  {
    method: 'GET', re: /^\/cluster\/status$/, run: ({ m, node }) => {
      const c = m.view(node).db.corosync;
      if (!c || !m.cfs.isMember(node)) {
        return [{ type: 'node', id: `node/${node}`, name: node, ip: m.node(node).ip, local: 1, nodeid: 0, online: 1, level: '' }];
      }
      const res: Array<Record<string, unknown>> = [{ type: 'cluster', id: 'cluster', nodes: c.nodes.length, version: c.configVersion, name: c.clusterName, quorate: m.world.quorate(node) ? 1 : 0 }];
      for (const n of c.nodes) res.push({ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: n.nodeid, local: n.name === node ? 1 : 0, online: m.world.online(node, n.name) || n.name === node ? 1 : 0, ip: m.node(n.name).ip, level: '' });
      return res;
    },
  },
  {
    method: 'GET', re: /^\/cluster\/config\/join$/, props: opt('node'), run: ({ m, node }, p) => {
      const c = m.view(node).db.corosync;
      if (!c || !m.cfs.isMember(node)) throw new PveError('node is not in a cluster, no join info available! at /usr/share/perl5/PVE/API2/ClusterConfig.pm line 585.\n', 424);
      const want = p.node ?? node;
      if (!c.nodes.some((n) => n.name === want)) throw die(`unknown node '${want}'`);
      return joinInfo(m, c, want);
    },
  },
  { method: 'GET', re: /^\/cluster\/config\/nodes$/, run: ({ m, node }) => (m.view(node).db.corosync?.nodes ?? []).map((n) => ({ name: n.name, node: n.name, nodeid: String(n.nodeid), quorum_votes: String(n.votes), ring0_addr: n.ring0 })) },
  {
    method: 'POST', re: /^\/cluster\/config$/, props: CREATE_PROPS, run: async (ctx, p) => {
      assertCanCreate(ctx);
      return (await syncWorker(ctx, 'clustercreate', p.clustername!, (w) => createWorker(ctx, p, w))).upid;
    },
  },
  {
    method: 'POST', re: /^\/cluster\/config\/join$/, props: { ...JOIN_PROPS, fingerprint: { ...JOIN_PROPS.fingerprint!, optional: false }, password: { maxLength: 128 } },
    run: async (ctx, p) => (await syncWorker(ctx, 'clusterjoin', '', (w) => joinWorker(ctx, p, w))).upid,
  },
  { method: 'GET', re: /^\/cluster\/ha\/status\/current$/, run: ({ m, node }) => haStatusCurrent(m, node) },
  { method: 'GET', re: /^\/cluster\/ha\/status\/manager_status$/, run: ({ m, node }) => haManagerStatus(m, node) },
  { method: 'GET', re: /^\/cluster\/ha\/resources$/, props: opt('type'), run: ({ m, node }) => [...m.view(node).db.haResources].map(([sid, { type, opts }]) => ({ sid, type, digest: 'x', ...typedOpts(opts, HA_NUMERIC) })) },
  {
    method: 'POST', re: /^\/cluster\/ha\/resources$/, props: { sid: {}, ...opt('state', 'max_restart', 'max_relocate', 'failback', 'group', 'comment', 'type') },
    run: ({ m, node }, p) => {
      if (!m.view(node).writable) throw die('cluster not ready - no quorum?');
      addResource(m, node, p.sid!, p);
      return null;
    },
  },
  {
    method: 'GET', re: /^\/cluster\/ha\/groups$/, run: ({ m, node }) => {
      if (groupsMigrated(m.release(node), m.view(node).db)) throw die('cannot index groups: ha groups have been migrated to rules');
      return [...m.view(node).db.haGroups].map(([group, { opts }]) => ({ group, type: 'group', ...typedOpts(opts, HA_NUMERIC) }));
    },
  },
  { method: 'POST', re: /^\/cluster\/ha\/groups$/, props: { group: {}, nodes: {}, ...opt('restricted', 'nofailback', 'comment', 'type') }, run: ({ m, node }, p) => (addGroup(m, node, p.group!, p), null) },
  { method: 'GET', re: /^\/cluster\/ha\/rules$/, props: opt('type', 'resource'), run: ({ m, node }) => [...m.view(node).db.haRules].map(([rule, { type, opts }]) => ({ rule, type, ...typedOpts(opts, HA_NUMERIC) })) },
  { method: 'POST', re: /^\/cluster\/ha\/rules$/, props: { type: {}, rule: {}, resources: {}, ...opt('nodes', 'strict', 'affinity', 'comment', 'disable') }, run: ({ m, node }, p) => (addRule(m, node, p.type!, p.rule!, p), null) },
  { method: 'GET', re: /^\/storage$/, props: opt('type'), run: ({ m, node }) => [...m.view(node).db.storage].map(([storage, { type, opts }]) => ({ storage, type, digest: 'x', ...typedOpts(opts, STORAGE_NUMERIC) })) },
  {
    method: 'POST', re: /^\/storage$/, props: { type: {}, storage: {}, ...ALL_PROPS },
    run: async (ctx, p) => {
      await viaCli(ctx, pvesm, ['add', p.type!, p.storage!, ...toArgv(p, ['type', 'storage'])]);
      return { storage: p.storage, type: p.type };
    },
  },
  {
    method: 'GET', re: /^\/nodes$/, run: ({ m, node }) => {
      const names = m.cfs.isMember(node) ? [...m.members().keys()] : [node];
      return names.map((n) => ({ node: n, id: `node/${n}`, type: 'node', status: m.world.online(node, n) || n === node ? 'online' : 'offline', level: '' }));
    },
  },
  {
    method: 'GET', re: new RegExp(`^/nodes/${N}/storage$`), props: opt('content', 'enabled', 'format', 'storage', 'target'),
    run: ({ m, node }, p) => {
      let list = storageInfo(m, node);
      if (p.storage && !list.some((s) => s.storage === p.storage)) throw paramError({ storage: 'No such storage.' });
      if (p.storage) list = list.filter((s) => s.storage === p.storage);
      if (p.content) list = list.filter((s) => s.enabled && p.content!.split(',').some((c) => s.content.split(',').includes(c)));
      if (p.enabled === '1') list = list.filter((s) => s.enabled);
      return list;
    },
  },
  {
    method: 'GET', re: new RegExp(`^/nodes/${N}/storage/(?<storage>[^/]+)/content$`), props: opt('content', 'vmid'),
    run: async ({ m, node }, p, g) => {
      if (!m.view(node).db.storage.has(g.storage!)) throw die(`storage '${g.storage}' does not exist`);
      if (m.view(node).db.storage.get(g.storage!)!.type === 'dir') await m.refreshTemplates(node);
      return volumes(m, node, g.storage!).filter((v) => !p.content || v.content === p.content).map((v) => ({ volid: v.volid, format: v.format, content: v.content, size: v.size, ...(v.vmid ? { vmid: v.vmid } : {}) }));
    },
  },
  {
    method: 'GET', re: new RegExp(`^/nodes/${N}/lxc$`), run: ({ m, node }) =>
      [...m.view(node).db.guests.values()].filter((g) => g.node === node && g.type === 'lxc').map((g) => ({ vmid: g.vmid, name: g.conf.hostname, status: m.guests.isRunning(node, g.vmid) ? 'running' : 'stopped', type: 'lxc', maxmem: Number(g.conf.memory ?? 512) * 2 ** 20 })),
  },
  {
    method: 'GET', re: new RegExp(`^/nodes/${N}/lxc/(?<vmid>\\d+)/status/current$`), run: ({ m, node }, _p, g) => {
      const c = m.view(node).db.guests.get(Number(g.vmid));
      if (!c || c.node !== node) throw die(`Configuration file 'nodes/${node}/lxc/${g.vmid}.conf' does not exist`);
      const run = m.guests.isRunning(node, c.vmid);
      return { vmid: c.vmid, name: c.conf.hostname, status: run ? 'running' : 'stopped', type: 'lxc', ha: m.view(node).db.haResources.has(`ct:${c.vmid}`) ? { managed: 1 } : { managed: 0 } };
    },
  },
  {
    method: 'GET', re: new RegExp(`^/nodes/${N}/lxc/(?<vmid>\\d+)/config$`), run: ({ m, node }, _p, g) => {
      const c = m.view(node).db.guests.get(Number(g.vmid));
      if (!c || c.node !== node) throw die(`Configuration file 'nodes/${node}/lxc/${g.vmid}.conf' does not exist`);
      return { ...c.conf, digest: 'x' };
    },
  },
  {
    method: 'POST', re: new RegExp(`^/nodes/${N}/lxc$`), props: CREATE.props,
    run: async (ctx, p) => {
      await viaCli(ctx, pct, ['create', p.vmid!, p.ostemplate!, ...toArgv(p, ['vmid', 'ostemplate'])]);
      return null;
    },
  },
  {
    method: 'POST', re: new RegExp(`^/nodes/${N}/aplinfo$`), props: { storage: {}, template: {} },
    run: async (ctx, p) => {
      await viaCli(ctx, pveam, ['download', p.storage!, p.template!]);
      return null;
    },
  },
  {
    method: 'GET', re: /^\/cluster\/resources$/, props: opt('type'), run: ({ m, node }, p) => {
      const view = m.view(node).db;
      const nodes = m.cfs.isMember(node) ? [...m.members().keys()] : [node];
      const online = (n: string) => n === node || m.world.online(node, n);
      const res: Array<Record<string, unknown>> = [];
      if (!p.type || p.type === 'node') for (const n of nodes) res.push({ id: `node/${n}`, type: 'node', node: n, status: online(n) ? 'online' : 'offline' });
      if (!p.type || p.type === 'vm') {
        for (const g of view.guests.values()) {
          res.push({ id: `${g.type}/${g.vmid}`, type: g.type, vmid: g.vmid, node: g.node, name: g.conf.hostname, status: m.guests.isRunning(g.node, g.vmid) ? 'running' : 'stopped', ...(view.haResources.has(`ct:${g.vmid}`) ? { hastate: 'started' } : {}) });
        }
      }
      if (!p.type || p.type === 'storage') for (const n of nodes) for (const s of online(n) ? storageInfo(m, n) : []) res.push({ id: `storage/${n}/${s.storage}`, type: 'storage', node: n, storage: s.storage, status: s.active ? 'available' : 'unknown', shared: s.shared, content: s.content });
      return res;
    },
  },
  {
    method: 'POST', re: new RegExp(`^/nodes/${N}/lxc/(?<vmid>\\d+)/status/(?<op>start|stop|shutdown)$`), props: opt('timeout', 'skiplock'),
    run: async (ctx, p, g) => {
      await viaCli(ctx, pct, [g.op!, g.vmid!, ...toArgv(p, [])]);
      return null;
    },
  },
  {
    // pve-manager API2/ReplicationConfig.pm index: the replication.cfg sections, id added
    method: 'GET', re: /^\/cluster\/replication$/, run: ({ m, node }) =>
      [...m.view(node).db.repl.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((j) => ({
        id: j.id, type: 'local', target: j.target, guest: j.guest, jobnum: Number(j.id.split('-')[1]),
        ...(j.schedule !== '*/15' ? { schedule: j.schedule } : {}), ...(j.rate ? { rate: Number(j.rate) } : {}), ...(j.comment ? { comment: j.comment } : {}), ...(j.disable ? { disable: 1 } : {}),
      })),
  },
  ...DISK_ROUTES,
];
