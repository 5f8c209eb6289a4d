// exec_resource_agent of the LRM (pve-ha-manager LRM.pm): one command (started, request_stop/
// stopped, migrate/relocate, error) for one service on this node, through the resource agent; the
// start runs as a task with "<root@pam> starting task UPID..." / "end task UPID... <OK|error>" lines.
import type { HaEnv } from './env.js';
import { EXIT } from './manager-states.js';

export async function execResourceAgent(env: HaEnv, sid: string, node: string | undefined, cmd: string, params: { target?: string; timeout?: number }, upidOf: (type: string) => string): Promise<number> {
  const agent = env.ctx.agent;
  const me = env.nodename;
  if (!agent.exists(sid) || node === undefined) {
    env.log('err', `missing resource configuration for '${sid}'`);
    return EXIT.EUNKNOWN_SERVICE;
  }
  if (cmd === 'error') {
    env.log('err', `service ${sid} is in an error state and needs manual intervention. Look up 'ERROR RECOVERY' in the documentation.`);
    return EXIT.SUCCESS;
  }
  if (node !== me) {
    env.log('err', `service '${sid}' not on this node`);
    return EXIT.EWRONG_NODE;
  }
  const running = agent.checkRunning(me, sid);
  if (cmd === 'started') {
    if (running) return EXIT.SUCCESS;
    env.log('info', `starting service ${sid}`);
    const upid = upidOf('vzstart');
    env.log('info', `<root@pam> starting task ${upid}`);
    const err = await agent.start(me, sid);
    env.log(err ? 'err' : 'info', `<root@pam> end task ${upid} ${err ?? 'OK'}`);
    if (agent.checkRunning(me, sid)) {
      env.log('info', `service status ${sid} started`);
      return EXIT.SUCCESS;
    }
    env.log('warning', `unable to start service ${sid}`);
    return EXIT.ERROR;
  }
  if (cmd === 'request_stop' || cmd === 'stopped') {
    if (!running) return EXIT.SUCCESS;
    env.log('info', params.timeout !== undefined ? `stopping service ${sid} (timeout=${params.timeout})` : `stopping service ${sid}`);
    await agent.shutdown(me, sid, params.timeout);
    if (!agent.checkRunning(me, sid)) {
      env.log('info', `service status ${sid} stopped`);
      return EXIT.SUCCESS;
    }
    env.log('info', `unable to stop service ${sid} (still running)`);
    return EXIT.ERROR;
  }
  if (cmd === 'migrate' || cmd === 'relocate' || cmd === 'request_start_balance') {
    if (!params.target) return EXIT.EINVALID_PARAMETER;
    if (params.target === me) return EXIT.SUCCESS;
    const ok = await agent.migrate(me, sid, params.target, cmd === 'migrate');
    if (!ok) {
      env.log('err', `service ${sid} not moved (migration error)`);
      return EXIT.ERROR;
    }
    return EXIT.SUCCESS;
  }
  env.log('err', `implement me (cmd '${cmd}')`);
  return EXIT.EUNKNOWN_COMMAND;
}
