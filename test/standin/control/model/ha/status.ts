// GET /cluster/ha/status/current and /manager_status as seen from one node (pve-ha-manager
// API2/HA/Status.pm; the 'fencing' entry and the watchdog text in lrm lines only from
// pve-ha-manager 5.1.3 on), and `ha-manager status` = "<type> <status>" per entry.
import type { ClusterModel } from '../cluster.js';
import { perlLocaltime } from '../perl.js';
import { HaEnv } from './env.js';
import type { Sd } from './select.js';

function tsStatus(now: number, ts: number, stale: number): string {
  const d = now - ts;
  if (d > stale) return 'old timestamp - dead?';
  if (d < -2) return 'detected time drift!';
  return 'active';
}

const activeCount = (ss: Record<string, Sd>, node: string) =>
  Object.values(ss).filter((sd) => (sd.node === node || sd.target === node) && !['stopped', 'freeze', 'error', 'request_start'].includes(sd.state)).length;

/** Tools.pm get_verbose_service_state */
export function verboseState(sd: Sd | undefined, sc: { state?: string; node?: string } | undefined): string {
  if (!sc) return 'deleting';
  const req = sc.state ?? 'ignored';
  if (req === 'ignored') return 'ignored';
  if (sc.node === undefined) return 'not found';
  if (!sd) return 'queued';
  let st = sd.state;
  if (st === 'stopped') st = req === 'started' ? 'starting' : req === 'disabled' ? 'disabled' : st;
  else if (st === 'started') {
    if (req === 'stopped' || req === 'disabled') st = 'stopping';
    if (!sd.running) st = 'starting';
  } else if (st === 'error' && req === 'disabled') st = 'clearing error flag';
  return st;
}

export function haStatusCurrent(m: ClusterModel, node: string): Array<Record<string, unknown>> {
  const rel = m.release(node);
  const env = new HaEnv(m, node, 'pve-ha-crm');
  const quorate = m.world.quorate(node);
  const now = m.clock.now();
  const stale = m.t.statusStale;
  const res: Array<Record<string, unknown>> = [{ id: 'quorum', type: 'quorum', node, status: quorate ? 'OK' : `No quorum on node '${node}'!`, quorate: quorate ? 1 : 0 }];
  const ms = env.readManagerStatus();
  const sc = env.readServiceConfig();
  const ss = (ms.service_status ?? {}) as Record<string, Sd>;
  if (ms.master_node !== undefined && ms.timestamp !== undefined) {
    let st = tsStatus(now, ms.timestamp, stale);
    if (quorate && st !== 'active' && !Object.keys(sc).length) st = 'idle';
    res.push({ id: 'master', type: 'master', node: ms.master_node, status: `${ms.master_node} (${st}, ${perlLocaltime(ms.timestamp)})`, timestamp: ms.timestamp });
  }
  if (rel.haFencingStatus) {
    const crmActive = ms.master_node !== undefined && ms.timestamp !== undefined && tsStatus(now, ms.timestamp, stale) === 'active';
    const armed = crmActive ? 'armed' : 'standby';
    res.push({ id: 'fencing', type: 'fencing', node: ms.master_node ?? node, status: `${armed} (CRM watchdog ${crmActive ? 'active' : 'standby'})`, 'armed-state': armed });
  }
  for (const n of Object.keys(ms.node_status ?? {}).sort()) {
    const lrm = env.readLrmStatus(n);
    const id = `lrm:${n}`;
    if (!lrm.timestamp) {
      res.push({ id, type: 'lrm', node: n, status: `${n} (unable to read lrm status)` });
      continue;
    }
    let st = tsStatus(now, lrm.timestamp, stale);
    const mode = lrm.mode || 'active';
    const state = lrm.state || 'unknown';
    const wd = st === 'active' && (state === 'active' || state === 'maintenance') ? 'watchdog active' : mode === 'disarm' ? 'watchdog released' : 'watchdog standby';
    if (st === 'active') st = mode !== 'active' ? `${mode} mode` : state === 'wait_for_agent_lock' && !activeCount(ss, n) ? 'idle' : state;
    else if (mode === 'maintenance') st = `${mode} mode`;
    const text = rel.haFencingStatus ? `${n} (${st}, ${wd}, ${perlLocaltime(lrm.timestamp)})` : `${n} (${st}, ${perlLocaltime(lrm.timestamp)})`;
    res.push({ id, type: 'lrm', node: n, status: text, timestamp: lrm.timestamp });
  }
  const add = (sid: string, c: (typeof sc)[string] | undefined, sd: Sd | undefined) => {
    const d: Record<string, unknown> = { id: `service:${sid}`, type: 'service', sid };
    if (sd) Object.assign(d, { node: sd.node, crm_state: sd.state });
    else if (c) d.node = c.node;
    d.state = verboseState(sd, c);
    d.status = `${sid} (${d.node ?? '---'}, ${d.state})`;
    if (c) {
      d.request_state = c.state;
      for (const k of ['group', 'max_restart', 'max_relocate', 'failback', 'comment'] as const) if (c[k] !== undefined) d[k] = c[k];
    }
    res.push(d);
  };
  for (const sid of Object.keys(ss).sort()) add(sid, sc[sid], ss[sid]);
  for (const sid of Object.keys(sc).sort()) if (!ss[sid]) add(sid, sc[sid], undefined);
  return res;
}

export function haManagerStatus(m: ClusterModel, node: string): Record<string, unknown> {
  const env = new HaEnv(m, node, 'pve-ha-crm');
  const ms = env.readManagerStatus();
  const out: Record<string, unknown> = { manager_status: ms, quorum: { node, quorate: m.world.quorate(node) ? 1 : 0 } };
  const lrm: Record<string, unknown> = {};
  for (const n of Object.keys(ms.node_status ?? {}).sort()) lrm[n] = env.readLrmStatus(n);
  if (Object.keys(lrm).length) out.lrm_status = lrm;
  return out;
}
