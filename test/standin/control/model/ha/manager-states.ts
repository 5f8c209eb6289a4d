// Service state machine of the CRM manager: next_state_* of pve-ha-manager Manager.pm (request_stop,
// migrate/relocate, stopped, request_start, started, error, recovery, freeze). `cd` is the service
// config, `sd` the manager's service status, `res` the LRM result for sd.uid (if any).
import type { ServiceConf } from './env.js';
import type { Manager } from './manager.js';
import { type Sd, selectServiceNode } from './select.js';

export const EXIT = { SUCCESS: 0, ERROR: 1, ETRY_AGAIN: 2, EWRONG_NODE: 3, EUNKNOWN_SERVICE_TYPE: 4, EUNKNOWN_COMMAND: 5, EINVALID_PARAMETER: 6, EUNKNOWN_SERVICE: 7, IGNORED: 8 } as const;

type Res = { exit_code: number } | undefined;

export function nextState(m: Manager, sid: string, cd: ServiceConf, sd: Sd, res: Res, lrmModes: Record<string, string>): void {
  switch (sd.state) {
    case 'stopped': return stopped(m, sid, cd, sd);
    case 'started': return started(m, sid, cd, sd, res);
    case 'request_start': return void m.changeState(sid, 'started', { node: sd.node });
    case 'migrate':
    case 'relocate':
    case 'request_start_balance': return migrateRelocate(m, sid, cd, sd, res);
    case 'fence': return; // wait until fenced
    case 'recovery': return recovery(m, sid, cd, sd);
    case 'request_stop': return requestStop(m, sid, sd, res);
    case 'freeze': {
      const mode = lrmModes[sd.node];
      if (mode === 'active') m.changeState(sid, cd.state === 'started' ? 'started' : 'request_stop');
      return;
    }
    case 'error':
      if (cd.state === 'disabled') {
        delete sd.failed_nodes;
        m.changeState(sid, 'stopped');
      }
      return;
    default:
      throw new Error(`unknown service state '${sd.state}'`);
  }
}

function requestStop(m: Manager, sid: string, sd: Sd, res: Res): void {
  if (res) {
    if (res.exit_code === EXIT.SUCCESS) return void m.changeState(sid, 'stopped');
    m.env.log('err', `service '${sid}' stop failed (exit code ${res.exit_code})`);
    return void m.changeState(sid, 'error');
  }
  if (m.ns.isOfflineDelayed(sd.node)) m.changeState(sid, 'fence');
}

function migrateRelocate(m: Manager, sid: string, cd: ServiceConf, sd: Sd, res: Res): void {
  if (res) {
    const req = cd.state === 'started' ? 'started' : 'request_stop';
    if (res.exit_code === EXIT.SUCCESS) return void m.changeState(sid, req, { node: sd.target! });
    if (res.exit_code === EXIT.EWRONG_NODE) {
      m.env.log('err', `service '${sid}' - migration failed: service registered on wrong node!`);
      m.changeState(sid, 'error');
    } else if (res.exit_code === EXIT.IGNORED) {
      m.env.log('info', `service '${sid}' - rebalance-on-start request ignored - service already running`);
      m.changeState(sid, req, { node: sd.node });
    } else {
      m.env.log('err', `service '${sid}' - migration failed (exit code ${res.exit_code})`);
      return void m.changeState(sid, req, { node: sd.node });
    }
  }
  if (sd.state !== 'error' && m.ns.isOfflineDelayed(sd.node)) m.changeState(sid, 'fence');
}

function stopped(m: Manager, sid: string, cd: ServiceConf, sd: Sd): void {
  if (cd.node && sd.node !== cd.node) {
    m.env.log('info', `fixup service '${sid}' location (${sd.node} => ${cd.node})`);
    sd.node = cd.node;
  }
  if (sd.cmd) {
    const [cmd, target] = sd.cmd;
    if (cmd === 'migrate' || cmd === 'relocate') {
      if (!m.ns.isOnline(target!)) m.env.log('err', `ignore service '${sid}' ${cmd} request - node '${target}' not online`);
      else if (sd.node === target) m.env.log('info', `ignore service '${sid}' ${cmd} request - service already on node '${target}'`);
      else return void m.changeState(sid, cmd, { node: sd.node, target: target! });
    } else if (cmd === 'stop') m.env.log('info', `ignore service '${sid}' ${cmd} request - service already stopped`);
    else m.env.log('err', `unknown command '${cmd}' for service '${sid}'`);
    delete sd.cmd;
  }
  if (cd.state === 'disabled') return;
  if (m.ns.isOfflineDelayed(sd.node) && m.ns.get(sd.node) !== 'maintenance') return void m.changeState(sid, 'fence');
  if (cd.state === 'stopped') return;
  if (cd.state === 'started') return void m.changeState(sid, 'request_start', { node: sd.node });
  m.env.log('err', `service '${sid}' - unknown state '${cd.state}' in service configuration`);
}

function started(m: Manager, sid: string, cd: ServiceConf, sd: Sd, res: Res): void {
  const ns = m.ns;
  if (!ns.isOnline(sd.node)) {
    if (ns.isOfflineDelayed(sd.node)) m.changeState(sid, 'fence');
    if (ns.get(sd.node) !== 'maintenance') return;
    sd.maintenance_node = sd.node;
  }
  if (cd.state === 'disabled' || cd.state === 'stopped') return void m.changeState(sid, 'request_stop');
  if (cd.state !== 'started') return void m.env.log('err', `service '${sid}' - unknown state '${cd.state}' in service configuration`);
  if (sd.cmd) {
    const [cmd, arg] = sd.cmd;
    delete sd.cmd;
    if (cmd === 'migrate' || cmd === 'relocate') {
      if (!ns.isOnline(arg!)) m.env.log('err', `ignore service '${sid}' ${cmd} request - node '${arg}' not online`);
      else if (sd.node === arg) m.env.log('info', `ignore service '${sid}' ${cmd} request - service already on node '${arg}'`);
      else {
        m.env.log('info', `${cmd} service '${sid}' to node '${arg}'`);
        m.changeState(sid, cmd, { node: sd.node, target: arg! });
      }
    } else if (cmd === 'stop') {
      const timeout = Number(arg);
      m.env.log('info', timeout === 0 ? `request immediate service hard-stop for service '${sid}'` : `request graceful stop with timeout '${timeout}' for service '${sid}'`);
      m.changeState(sid, 'request_stop', { timeout });
      m.env.updateServiceConfig(sid, { state: 'stopped' });
    } else m.env.log('err', `unknown command '${cmd}' for service '${sid}'`);
    return;
  }
  let pref: 'none' | 'try-next' = 'none';
  if (res) {
    if (res.exit_code === EXIT.SUCCESS) {
      if (sd.failed_nodes) m.env.log('info', `relocation policy successful for '${sid}' on node '${sd.node}', failed nodes: ${sd.failed_nodes.join(', ')}`);
      delete sd.failed_nodes;
      sd.running = 1;
    } else if (res.exit_code === EXIT.ERROR || res.exit_code === EXIT.EWRONG_NODE) {
      delete sd.running;
      (sd.failed_nodes ??= []).push(sd.node);
      if (sd.failed_nodes.length <= cd.max_relocate) {
        pref = 'try-next';
        m.env.log('warning', `starting service ${sid} on node '${sd.node}' failed, relocating service.`);
      } else {
        m.env.log('err', `recovery policy for service ${sid} failed, entering error state. Failed nodes: ${sd.failed_nodes.join(', ')}`);
        return void m.changeState(sid, 'error');
      }
    } else {
      (sd.failed_nodes ??= []).push(sd.node);
      m.env.log('err', `service '${sid}' got unrecoverable error (exit code ${res.exit_code})`);
      return void m.changeState(sid, 'error');
    }
  }
  const node = selectServiceNode(m.compiled!, m.usage, sid, cd.failback, m.ss, pref);
  if (node && sd.node !== node) {
    if (sd.maintenance_node !== undefined) {
      if (node === sd.maintenance_node) {
        m.env.log('info', `moving service '${sid}' back to '${node}', node came back from maintenance.`);
        delete sd.maintenance_node;
      } else if (sd.node !== sd.maintenance_node) {
        m.env.log('info', `dropping maintenance fallback node '${sd.maintenance_node}' for '${sid}'`);
        delete sd.maintenance_node;
      }
    }
    const how = cd.type === 'vm' ? 'migrate' : 'relocate';
    m.env.log('info', `${how} service '${sid}' to node '${node}'${how === 'migrate' ? ' (running)' : ''}`);
    m.changeState(sid, how, { node: sd.node, target: node });
    return;
  }
  if (pref === 'try-next' && !node) {
    m.env.log('warning', `Start Error Recovery: Tried all available nodes for service '${sid}', retry start on current node. Tried nodes: ${(sd.failed_nodes ?? []).join(', ')}`);
  }
  if (sd.maintenance_node && sd.node === sd.maintenance_node && ns.get(sd.node) === 'online') {
    m.env.log('info', `service '${sid}': clearing stale maintenance node '${sd.maintenance_node}' setting (is current node)`);
    delete sd.maintenance_node;
  }
  if (res) sd.uid = m.newUid(sd.state);
}

function recovery(m: Manager, sid: string, cd: ServiceConf, sd: Sd): void {
  const fenced = sd.node;
  const target = selectServiceNode(m.compiled!, m.usage, sid, cd.failback, m.ss, 'best-score');
  if (target) {
    m.env.log('info', target === fenced
      ? `recover service '${sid}' to previous failed and fenced node '${fenced}' again`
      : `recover service '${sid}' from fenced node '${fenced}' to node '${target}'`);
    m.env.stealService(sid, target);
    cd.node = sd.node = target;
    m.changeState(sid, cd.state === 'started' ? 'started' : 'request_stop', { node: target });
    return;
  }
  m.env.log('err', `recovering service '${sid}' from fenced node '${fenced}' failed, no recovery node found`);
  if (cd.state === 'disabled') {
    delete sd.failed_nodes;
    m.changeState(sid, 'stopped');
  }
}
