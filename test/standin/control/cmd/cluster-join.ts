// Cluster create and join, shared by `pvecm create|add` and `pvesh create /cluster/config[/join]`.
// Wording and order: pve-cluster API2/ClusterConfig.pm (create, addnode, join), Cluster/Setup.pm
// (assert_joinable, join, finish_join), pve-apiclient LWP.pm (login, fingerprint checks).
import { die, PveError } from '../model/perl.js';
import type { Ctx } from './io.js';
import type { WorkerIo } from './worker.js';

const CLUSTERCONF = '/etc/pve/corosync.conf';
const AUTHKEY = '/etc/corosync/authkey';

/** ClusterConfig.pm create: the pre-worker check. */
export function assertCanCreate(ctx: Ctx): void {
  if (ctx.m.cfs.isMember(ctx.node)) throw die(`cluster config '${CLUSTERCONF}' already exists`);
}

export async function createWorker(ctx: Ctx, p: Record<string, string>, w: WorkerIo): Promise<void> {
  const m = ctx.m;
  const n = m.node(ctx.node);
  w.print('Corosync Cluster Engine Authentication key generator.\nGathering 2048 bits for key from /dev/urandom.\n');
  w.print(`Writing corosync key to ${AUTHKEY}.\n`);
  w.print(`Writing corosync config to ${CLUSTERCONF}\n`);
  const db = m.cfs.local.get(ctx.node)!;
  db.corosync = {
    clusterName: p.clustername!, configVersion: 1, secauth: true, linkMode: 'passive',
    tokenCoefficient: Number(p['token-coefficient'] ?? 125),
    nodes: [{ name: n.name, nodeid: Number(p.nodeid ?? 1), votes: Number(p.votes ?? 1), ring0: linkAddr(p.link0) ?? n.ip }],
  };
  m.cfs.cluster = db;
  m.cfs.joined.add(ctx.node);
  m.cfs.local.delete(ctx.node);
  w.print('Restart corosync and cluster filesystem\n');
  m.newPid(ctx.node, 'pve-cluster');
  m.newPid(ctx.node, 'corosync');
  m.world.recompute();
  await m.clock.sleep(m.t.joinStep);
}

function linkAddr(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const a = v.split(',').find((x) => !x.includes('=') || x.startsWith('address='));
  return a?.replace(/^address=/, '');
}

/** Setup.pm join (+ assert_joinable, addnode on the peer, finish_join), run inside the worker. */
export async function joinWorker(ctx: Ctx, p: Record<string, string>, w: WorkerIo): Promise<void> {
  const m = ctx.m;
  const me = m.node(ctx.node);
  const link0 = linkAddr(p.link0);
  let errors = '';
  if (m.cfs.isMember(ctx.node)) {
    errors += `* authentication key '${AUTHKEY}' already exists\n* cluster config '${CLUSTERCONF}' already exists\n`;
  }
  if (m.view(ctx.node).db.guests.size) errors += '* this host already contains virtual guests\n';
  if (m.cfs.isMember(ctx.node)) errors += '* corosync is already running, is this node already in a cluster?!\n';
  if (link0 && link0 !== me.ip) errors += `* link0: cannot use IP '${link0}', not found on local node!\n\n`;
  if (errors) {
    w.warn(`detected the following error(s):\n${errors}`);
    if (p.force !== '1') throw die('Check if node may join a cluster failed!');
    w.warn('\nWARNING : detected error but forced to continue!\n\n');
  }
  const host = p.hostname!;
  w.print(`Establishing API connection with host '${host}'\n`);
  await m.clock.sleep(m.t.joinStep);
  const peer = m.world.byIp(host);
  if (!peer || !peer.up || !peer.linked || !me.linked) {
    throw new PveError(`500 Can't connect to ${host}:8006 (Connection timed out)\n`);
  }
  const fp = m.world.fingerprint(peer.name);
  if (p.fingerprint) {
    if (p.fingerprint.toUpperCase() !== fp) throw die(`fingerprint '${fp}' not verified, abort!`);
  } else {
    w.print(`The authenticity of host '${host}' can't be established.\nX509 SHA256 key fingerprint is ${fp}.\nAre you sure you want to continue connecting (yes/no)? `);
    const answer = await ctx.stdin.readLine();
    if (!/^\s*yes\s*$/i.test(answer ?? '')) throw die('Fingerprint not verified, abort!');
  }
  if (p.password !== peer.password) throw die('401 authentication failure');
  w.print('Login succeeded.\ncheck cluster join API version\n');
  if (!link0) w.print(`No cluster network links passed explicitly, fallback to local node IP '${me.ip}'\n`);
  w.print('Request addition of this node\n');
  await m.clock.sleep(m.t.joinStep);
  const addErr = addnode(ctx, peer.name, link0 ?? me.ip, p);
  if (addErr) {
    w.warn(`An error occurred on the cluster node: ${addErr}`);
    throw die('Cluster join aborted!');
  }
  w.print('Join request OK, finishing setup locally\n');
  w.print('stopping pve-cluster service\n');
  w.print(`backup old database to '/var/lib/pve-cluster/backup/config-${Math.floor(m.clock.now())}.sql.gz'\n`);
  m.cfs.local.delete(ctx.node);
  m.cfs.joined.add(ctx.node);
  m.newPid(ctx.node, 'pve-cluster');
  m.newPid(ctx.node, 'corosync');
  m.world.changed(); // corosync starts with the new config: membership forms `membership` later
  if (!m.world.quorate(ctx.node)) {
    w.print('waiting for quorum...');
    while (!m.world.quorate(ctx.node)) await m.clock.sleep(m.t.joinStep);
    w.print('OK\n');
  }
  w.print('(re)generate node files\ngenerate new node certificate\nmerge authorized SSH keys\n');
  me.certGen++;
  w.print('generated new node certificate, restart pveproxy and pvedaemon services\n');
  w.print(`successfully added node '${me.name}' to cluster.\n`);
}

/** ClusterConfig.pm addnode, executed on `peer`; returns the error text or undefined. */
function addnode(ctx: Ctx, peer: string, addr: string, p: Record<string, string>): string | undefined {
  const m = ctx.m;
  if (!m.world.quorate(peer)) return 'cluster not ready - no quorum?';
  if (!m.cfs.isMember(peer)) return `Error: Corosync config '${CLUSTERCONF}' does not exist - is this node part of a cluster?`;
  const conf = m.cfs.cluster!.corosync!;
  const name = ctx.node;
  for (const n of conf.nodes) if (n.name !== name && n.ring0 === addr) return `corosync: address '${addr}' already used on link ring0_addr by node '${n.name}'`;
  const existing = conf.nodes.find((n) => n.name === name);
  if (existing) {
    const nodeid = Number(p.nodeid ?? existing.nodeid);
    const votes = Number(p.votes ?? existing.votes);
    if (!(p.force === '1' && nodeid === existing.nodeid && votes === existing.votes)) return `can't add existing node '${name}'`;
    existing.ring0 = addr;
  } else {
    let nodeid = Number(p.nodeid ?? 0);
    if (!nodeid) for (nodeid = 1; conf.nodes.some((n) => n.nodeid === nodeid); nodeid++);
    conf.nodes.push({ name, nodeid, votes: Number(p.votes ?? 1), ring0: addr });
  }
  conf.configVersion++;
  m.log(peer, 'pve-cluster', 5, `[dcdb] notice: wrote new corosync config '/etc/corosync/corosync.conf' (version = ${conf.configVersion})`, 'pmxcfs');
  return undefined;
}
