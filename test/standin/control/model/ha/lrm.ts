// Local Resource Manager of one node (pve-ha-manager LRM.pm): states wait_for_agent_lock, active,
// lost_agent_lock (maintenance is not modelled); the agent lock is renewed every active round
// (10 s) and feeds the watchdog; losing it (no quorum) leaves the watchdog armed, so the node
// resets unless the lock comes back in time. Resource commands run as workers (max 4) and are
// awaited at most `workerWait` per round; results go to lrm_status for the CRM.
import type { HaEnv } from './env.js';
import { EXIT } from './manager-states.js';
import { execResourceAgent } from './lrm-exec.js';
import type { Sd } from './select.js';

/** thrown out of a daemon's sleep when its node went down (power off, reset) */
export const KILLED = Symbol('killed');

const ACTIVE = (ss: Record<string, Sd>, node: string) =>
  Object.values(ss).filter((sd) => ((sd.node === node) || sd.target === node) && !['stopped', 'freeze', 'error', 'request_start'].includes(sd.state)).length;

interface Worker {
  sid: string;
  uid?: string;
  state: string;
  params: { target?: string; timeout?: number };
  running?: Promise<number>;
  done?: number;
}

export class Lrm {
  state = 'startup';
  mode = 'active';
  private wd?: number;
  private ss: Record<string, Sd> = {};
  private nodeStatus = 'unknown';
  private results: Record<string, { sid: string; state: string; exit_code: number }> = {};
  private workers = new Map<string, Worker>();
  private restartTries: Record<string, number> = {};
  private wroteStatus = false;
  private tasks = 0;
  alive = true;

  constructor(private readonly env: HaEnv) {
    this.setState('wait_for_agent_lock');
  }

  private setState(s: string): void {
    if (s === this.state) return;
    this.env.log('info', `status change ${this.state} => ${s}`);
    this.state = s;
  }

  private async sleep(s: number): Promise<void> {
    await this.env.sleep(s);
    if (!this.alive) throw KILLED;
  }

  async run(): Promise<void> {
    try {
      for (;;) {
        await this.env.nextRound();
        if (!this.alive) throw KILLED;
        await this.work();
      }
    } catch (e) {
      if (e !== KILLED) throw e;
    }
  }

  private updateLrmStatus(): boolean {
    if (!this.env.quorate()) return false;
    try {
      this.env.writeLrmStatus({ state: this.state, mode: this.mode, results: this.results, timestamp: Math.floor(this.env.getTime()) });
      return true;
    } catch (e) {
      this.env.log('err', `unable to write lrm status file - ${String((e as Error).message ?? e)}`);
      return false;
    }
  }

  private updateServiceStatus(): boolean {
    const ms = this.env.readManagerStatus();
    this.ss = (ms.service_status as Record<string, Sd>) ?? {};
    this.nodeStatus = (ms.node_status as Record<string, string> | undefined)?.[this.env.nodename] ?? 'unknown';
    return true;
  }

  private async protectedLock(): Promise<boolean> {
    const start = this.env.getTime();
    const t = this.env.ctx.t;
    for (let count = 0; ; ) {
      if (this.env.getHaAgentLock()) {
        if (this.wd !== undefined) this.env.watchdogUpdate(this.wd);
        else this.wd = this.env.watchdogOpen();
        return true;
      }
      if (++count > 5) break;
      if (this.env.getTime() - start > t.lockRetryWindow) break;
      await this.sleep(t.lockRetry);
    }
    return false;
  }

  private async work(): Promise<void> {
    const t = this.env.ctx.t;
    const me = this.env.nodename;
    if (!this.wroteStatus) {
      if (!this.updateLrmStatus()) return this.sleep(t.waitPoll);
      this.wroteStatus = true;
    }
    this.updateServiceStatus();
    const fenceRequest = Object.values(this.ss).some((sd) => sd.node === me && sd.state === 'fence') || this.nodeStatus === 'fence';
    if (this.state === 'wait_for_agent_lock') {
      if (!fenceRequest && ACTIVE(this.ss, me) && this.env.quorate() && (await this.protectedLock())) this.setState('active');
    } else if (this.state === 'lost_agent_lock') {
      if (!fenceRequest && this.env.quorate() && (await this.protectedLock())) this.setState('active');
    } else if (this.state === 'active') {
      if (fenceRequest) {
        this.env.log('err', 'node needs to be fenced - releasing agent_lock');
        this.setState('lost_agent_lock');
      } else if (!(await this.protectedLock())) this.setState('lost_agent_lock');
    }
    if (this.state === 'wait_for_agent_lock') {
      this.updateLrmStatus();
      return this.sleep(t.waitPoll);
    }
    if (this.state === 'lost_agent_lock') return this.sleep(t.waitPoll);
    const start = this.env.getTime();
    this.updateServiceStatus();
    await this.manageResources();
    this.updateLrmStatus();
    const rest = start + t.loop - this.env.getTime();
    if (rest > 0) await this.sleep(rest);
  }

  private async manageResources(): Promise<void> {
    const me = this.env.nodename;
    for (const sid of Object.keys(this.restartTries)) if (!this.ss[sid]) delete this.restartTries[sid];
    for (const sid of Object.keys(this.ss)) {
      const sd = this.ss[sid]!;
      if (!sd.node || !sd.uid || sd.node !== me) continue;
      if (['recovery', 'freeze', 'request_start'].includes(sd.state)) continue;
      this.queue(sid, sd.uid, sd.state, { target: sd.target, timeout: sd.timeout });
    }
    await this.runWorkers();
  }

  private queue(sid: string, uid: string | undefined, state: string, params: Worker['params']): void {
    if (state !== 'stopped' && uid && this.results[uid]) return;
    const w = this.workers.get(sid);
    if (w?.running) return;
    this.workers.set(sid, { sid, uid, state, params });
  }

  private async runWorkers(): Promise<void> {
    const start = this.env.getTime();
    const t = this.env.ctx.t;
    // In the simulator's replay no time passes inside an iteration (HaEnv.sleep), so the poll is
    // bounded by count there: a worker still busy after many polls is left for the next round.
    const sim = !!this.env.ctx.simRound;
    for (let polls = 0; this.env.getTime() - start <= t.workerWait && !(sim && polls > 50); polls++) {
      let count = 0;
      for (const w of [...this.workers.values()]) {
        if (w.running && w.done !== undefined) this.finished(w);
        else if (w.running) count++;
      }
      for (const w of [...this.workers.values()].sort((a, b) => (a.sid < b.sid ? -1 : 1))) {
        if (w.running || count >= 4) continue;
        const sc = this.env.readServiceConfig()[w.sid];
        w.running = this.exec(w.sid, sc?.node, w.state, w.params).catch((e) => {
          this.env.log('err', String((e as Error).message ?? e));
          return -1;
        });
        void w.running.then((code) => (w.done = code));
        count++;
      }
      await new Promise<void>((r) => setImmediate(r));
      for (const w of [...this.workers.values()]) if (w.running && w.done !== undefined) this.finished(w), count--;
      if (count <= 0) break;
      await this.sleep(t.lockRetry);
    }
  }

  private finished(w: Worker): void {
    this.workers.delete(w.sid);
    let code = w.done ?? -1;
    if (w.uid === undefined) return;
    code = this.handleExitcode(w.sid, w.state, code);
    if (code === EXIT.ETRY_AGAIN) return;
    this.results[w.uid] = { sid: w.sid, state: w.state, exit_code: code };
    const valid = new Set(Object.values(this.ss).map((sd) => sd.uid).filter(Boolean));
    for (const uid of Object.keys(this.results)) if (!valid.has(uid) && uid !== w.uid) delete this.results[uid];
  }

  private handleExitcode(sid: string, cmd: string, code: number): number {
    const max = this.env.readServiceConfig()[sid]?.max_restart ?? 0;
    if (cmd !== 'started') return code;
    if (code === EXIT.SUCCESS) {
      this.restartTries[sid] = 0;
      return code;
    }
    if (code !== EXIT.ERROR) return code;
    const tries = (this.restartTries[sid] ??= 0);
    if (tries >= max) {
      this.env.log('err', `unable to start service ${sid} on local node after ${tries} retries`);
      this.restartTries[sid] = 0;
      return EXIT.ERROR;
    }
    this.restartTries[sid] = tries + 1;
    this.env.log('warning', `restart policy: retry number ${tries + 1} for service '${sid}'`);
    return EXIT.ETRY_AGAIN;
  }

  private exec(sid: string, node: string | undefined, cmd: string, params: Worker['params']): Promise<number> {
    return execResourceAgent(this.env, sid, node, cmd, params, (t) => this.upid(t, sid));
  }

  private upid(type: string, sid: string): string {
    const h = (n: number) => Math.floor(n).toString(16).toUpperCase().padStart(8, '0');
    const pid = this.env.ctx.pid(this.env.nodename, 'pve-ha-lrm') + 1 + (++this.tasks % 9000);
    return `UPID:${this.env.nodename}:${h(pid)}:${h(pid * 7919)}:${h(this.env.getTime())}:${sid.startsWith('ct:') ? type : type.replace(/^vz/, 'qm')}:${sid.split(':')[1]}:root@pam:`;
  }

  kill(): void {
    this.alive = false;
  }
}

