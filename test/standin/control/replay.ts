// Replay of pve-ha-manager simulator regression tests against the stand-in model: the hardware
// events ("cmdlist: execute ..." lines of log.expect, at their simulated times) drive a model
// cluster whose nodes/services/rules mirror the test's inputs; the model's CRM/LRM journal is then
// matched against the expected log, event by event, and the time differences reported.
// The model runs in simulator mode for the replay (ModelOptions.simRound): every CRM/LRM iteration
// starts at its slot of a 20 s round (powered nodes in name order, crm then lrm, one second apart),
// time does not pass inside an iteration (lock retries, worker polls), a watchdog expiry powers the
// node off until "power on"; the simulator has no corosync, boot time, softdog delay or guest start
// time, so those model timings are 0. Everything else is the model as the live stand-in runs it.
import { VirtualClock } from './model/clock.js';
import { ClusterModel } from './model/cluster.js';
import { emptyDb } from './model/cfs.js';
import { timing } from './model/timing.js';

export interface SimEvent {
  t: number;
  who: string; // node1/crm, node2/lrm, cmdlist, hardware, watchdog
  msg: string;
}

export function parseSimLog(text: string): SimEvent[] {
  const out: SimEvent[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+(\d+)\s+(\S+):\s(.*)$/.exec(line);
    if (m && m[1] !== '#') out.push({ t: Number(m[2]), who: m[3]!, msg: m[4]! });
  }
  return out;
}

export interface SimSetup {
  nodes: string[];
  services: Record<string, { node: string; state?: string }>;
  rules?: Array<{ id: string; type: string; opts: Record<string, string> }>;
}

/** Messages compared (simulator wording; the model's real-env wording is mapped onto it). */
const KEY = /^(status change |node '|service '[^']+': state changed|fencing: acknowledged|recover service|starting service|service status|got lock 'ha_manager_lock'|migrate service|relocate service)/;

function normalize(msg: string): string {
  return msg.replace(/^successfully acquired lock '(.+)'$/, "got lock '$1'");
}

export interface Match {
  expected: SimEvent;
  actual?: SimEvent;
  delta?: number;
  skipped?: string;
}

export async function replay(setup: SimSetup, expectedLog: SimEvent[], until: number): Promise<{ matches: Match[]; model: SimEvent[] }> {
  const clock = new VirtualClock(0);
  const m = new ClusterModel({
    clock, release: '9.2', autoBoot: true, simRound: 20,
    timing: timing(1, { membership: 0, boot: 0, softdog: 0, guestStart: 0, guestStop: 0 }),
    nodes: setup.nodes.map((name, i) => ({ name, ip: `10.98.0.${11 + i}`, password: 'x' })),
  });
  const db = emptyDb();
  db.corosync = { clusterName: 'sim', configVersion: 1, secauth: true, linkMode: 'passive', tokenCoefficient: 125, nodes: setup.nodes.map((name, i) => ({ name, nodeid: i + 1, votes: 1, ring0: `10.98.0.${11 + i}` })) };
  for (const [sid, s] of Object.entries(setup.services)) {
    const vmid = Number(sid.split(':')[1]);
    db.guests.set(vmid, { vmid, node: s.node, type: sid.startsWith('vm:') ? 'qemu' : 'lxc', conf: {} });
    db.haResources.set(sid, { type: sid.split(':')[0]!, opts: { state: s.state === 'enabled' ? 'started' : s.state ?? 'disabled' } });
  }
  for (const r of setup.rules ?? []) db.haRules.set(r.id, { type: r.type, opts: r.opts });
  m.cfs.cluster = db;
  for (const n of setup.nodes) {
    m.cfs.joined.add(n);
    m.cfs.local.delete(n);
    m.node(n).linked = false;
  }
  const cmds = expectedLog.filter((e) => e.who === 'cmdlist' && e.msg.startsWith('execute '));
  for (const c of cmds) {
    clock.setTimer(c.t, () => {
      const [verb, node, action] = c.msg.replace(/^execute /, '').split(/\s+/);
      if (verb === 'power' && action === 'on') {
        m.powerOn(node!);
        m.setLink(node!, true);
      } else if (verb === 'power' && action === 'off') m.powerOff(node!);
      else if (verb === 'network') m.setLink(node!, action === 'on');
    });
  }
  await clock.runUntil(until);
  const model: SimEvent[] = [];
  for (const n of setup.nodes) {
    for (const e of m.journal.query(n, { units: ['pve-ha-crm', 'pve-ha-lrm'] })) {
      if (e.ident === 'systemd') continue;
      model.push({ t: e.t, who: `${n}/${e.unit === 'pve-ha-crm' ? 'crm' : 'lrm'}`, msg: normalize(e.msg) });
    }
  }
  for (const x of m.notifications) if (/watchdog: node/.test(x.msg)) model.push({ t: x.t, who: 'watchdog', msg: x.msg });
  model.sort((a, b) => a.t - b.t);
  m.shutdown();
  const used = new Set<SimEvent>();
  const matches: Match[] = [];
  const alias = new Map<string, string>(); // simulator crm node -> model crm node (after a master change)
  for (const e of expectedLog) {
    if (!KEY.test(e.msg) || !/\/(crm|lrm)$/.test(e.who)) continue;
    const [simNode, role] = e.who.split('/') as [string, string];
    // which slave wins the expired manager lock depends on round order: follow the model's winner
    const newMaster = e.msg === "got lock 'ha_manager_lock'";
    const who = role === 'crm' && alias.has(simNode) ? `${alias.get(simNode)}/crm` : e.who;
    const a = model.find((x) => !used.has(x) && x.msg === e.msg && (newMaster ? x.who.endsWith('/crm') : x.who === who) && x.t >= e.t - 25);
    if (a) {
      used.add(a);
      if (newMaster) alias.set(simNode, a.who.split('/')[0]!);
    }
    matches.push({ expected: e, actual: a, delta: a ? a.t - e.t : undefined });
  }
  return { matches, model };
}
