// The CRM master's manager (pve-ha-manager Manager.pm manage()): node status update, new/stale
// services, CRM commands, the service state machine (manager-states.ts) repeated until stable,
// fencing of nodes whose services are in 'fence', then flush of manager_status. The log lines are
// the upstream ones ("service '<sid>': state changed from 'a' to 'b'  (node = x)" — two spaces).
import { createHash } from 'node:crypto';
import type { HaEnv, ServiceConf } from './env.js';
import { NodeStatus } from './node-status.js';
import { type Compiled, type Sd, basicUsage, compileRules } from './select.js';
import { nextState } from './manager-states.js';

const VALID = new Set(['stopped', 'request_stop', 'request_start', 'request_start_balance', 'started', 'fence', 'recovery', 'migrate', 'relocate', 'freeze', 'error']);

let uidCounter = 0;

export class Manager {
  readonly ns: NodeStatus;
  ss: Record<string, Sd>;
  ms: Record<string, unknown>;
  usage = new Map<string, Set<string>>();
  compiled?: Compiled;
  sc: Record<string, ServiceConf> = {};

  constructor(readonly env: HaEnv, fenceDelay: number) {
    const old = env.readManagerStatus();
    this.ns = new NodeStatus(env, (old.node_status as Record<string, string>) ?? {}, fenceDelay, 3600 * env.ctx.t.scale);
    this.ss = (old.service_status as Record<string, Sd>) ?? {};
    this.ms = { master_node: env.nodename };
    if (old.node_request) this.ms.node_request = old.node_request;
  }

  newUid(state: string): string {
    uidCounter++;
    return createHash('md5').update(`${state}|${this.env.nodename}|${this.env.getTime()}|${uidCounter}`).digest('base64').replace(/=+$/, '');
  }

  changeState(sid: string, state: string, params: Record<string, string | number> = {}): void {
    const sd = this.ss[sid];
    if (!sd) throw new Error(`no such service '${sid}`);
    if (sd.state === state) throw new Error('no state change');
    if (!VALID.has(state)) throw new Error(`invalid CRM service state '${state}'`);
    const next: Sd = { state, node: sd.node };
    if (sd.failed_nodes) next.failed_nodes = sd.failed_nodes;
    if (sd.maintenance_node) next.maintenance_node = sd.maintenance_node;
    let text = '';
    for (const k of Object.keys(params).sort()) {
      text += `${text ? ', ' : ''}${k} = ${params[k]}`;
      (next as unknown as Record<string, unknown>)[k] = params[k];
    }
    next.uid = this.newUid(state);
    const old = sd.state;
    for (const k of Object.keys(sd)) delete (sd as unknown as Record<string, unknown>)[k];
    Object.assign(sd, next);
    this.usage = basicUsage(this.ns.listOnline(), this.ss);
    this.env.log('info', `service '${sid}': state changed from '${old}' to '${state}'${text ? `  (${text})` : ''}`);
  }

  private readLrm(): [Record<string, { exit_code: number }>, Record<string, string>] {
    const results: Record<string, { exit_code: number }> = {};
    const modes: Record<string, string> = {};
    for (const node of this.ns.listNodes()) {
      const st = this.env.readLrmStatus(node);
      modes[node] = (st.mode as string) || 'active';
      for (const [uid, r] of Object.entries((st.results as Record<string, { exit_code: number }>) ?? {})) results[uid] ??= r;
    }
    return [results, modes];
  }

  private crmCommands(): void {
    for (const cmd of this.env.popCrmCommands()) {
      let m = /^(migrate|relocate)\s+(\S+)\s+(\S+)$/.exec(cmd);
      if (m) {
        const sd = this.ss[m[2]!];
        if (!sd) this.env.log('err', `crm command error - no such service: ${cmd}`);
        else if (!this.ns.isOnline(m[3]!)) this.env.log('err', `crm command error - node not online: ${cmd}`);
        else if (m[3] === sd.node) this.env.log('info', `ignore crm command - service already on target node: ${cmd}`);
        else {
          this.env.log('info', `got crm command: ${cmd}`);
          sd.cmd = [m[1]!, m[3]!];
        }
        continue;
      }
      m = /^stop\s+(\S+)\s+(\S+)$/.exec(cmd);
      if (m) {
        const sd = this.ss[m[1]!];
        if (!sd) this.env.log('err', `crm command error - no such service: ${cmd}`);
        else {
          this.env.log('info', `got crm command: ${cmd}`);
          sd.cmd = ['stop', m[2]!];
        }
        continue;
      }
      this.env.log('err', `unable to parse crm command: ${cmd}`);
    }
  }

  manage(): void {
    const { env, ns, ss } = this;
    const { info } = env.getNodeInfo();
    const [lrmResults, lrmModes] = this.readLrm();
    ns.update(info, lrmModes);
    if (!ns.isOperational(env.nodename)) {
      env.log('info', 'master seems offline');
      return;
    }
    const sc = (this.sc = env.readServiceConfig());
    for (const sid of Object.keys(sc).sort()) {
      if (ss[sid]) continue;
      const cd = sc[sid]!;
      if (cd.state === 'ignored' || !cd.node) continue;
      env.log('info', `adding new service '${sid}' on node '${cd.node}'`);
      ss[sid] = { state: cd.state === 'started' ? 'request_start' : 'request_stop', node: cd.node, uid: this.newUid('started') };
    }
    for (const sid of Object.keys(ss)) {
      if (sc[sid] && sc[sid]!.state !== 'ignored') continue;
      env.log('info', `removing stale service '${sid}' (${sc[sid] ? 'ignored state requested' : 'no config'})`);
      delete ss[sid];
    }
    this.usage = basicUsage(ns.listOnline(), ss);
    // node affinity from rules (PVE 9) or groups (PVE 8, migrated in memory), recompiled each round
    this.compiled = compileRules(env.view().db, ns.listNodes());
    this.crmCommands();
    for (;;) {
      let repeat = false;
      for (const sid of Object.keys(ss).sort()) {
        const sd = ss[sid]!;
        const cd: ServiceConf = sc[sid] ?? ({ sid, type: '', name: '', state: 'disabled', max_restart: 1, max_relocate: 1, failback: 1 } as ServiceConf);
        const lrmRes = sd.uid ? lrmResults[sd.uid] : undefined;
        const last = sd.state;
        nextState(this, sid, cd, sd, lrmRes, lrmModes);
        if (sd.state !== last) repeat = true;
      }
      const fenced = new Map<string, boolean>();
      for (const sid of Object.keys(ss).sort()) {
        const sd = ss[sid]!;
        if (sd.state !== 'fence') continue;
        if (!fenced.has(sd.node)) fenced.set(sd.node, ns.fenceNode(sd.node));
        if (!fenced.get(sd.node)) continue;
        this.changeState(sid, 'recovery');
        repeat = true;
      }
      for (const node of ns.listNodes()) {
        if (fenced.has(node) || ns.get(node) !== 'fence') continue;
        env.log('notice', `node '${node}' in fence state but no services to-fence! admin interference?!`);
        if (ns.fenceNode(node)) repeat = true;
      }
      if (!repeat) break;
    }
    this.ms.node_status = ns.status;
    this.ms.service_status = ss;
    this.ms.timestamp = Math.floor(env.getTime());
    env.writeManagerStatus(this.ms);
  }
}
