// Cluster Resource Manager of one node (pve-ha-manager CRM.pm): wait_for_quorum (poll 5 s), slave
// (tries the manager lock continuously, 1 s apart), master (manage() every 10 s, watchdog armed),
// lost_manager_lock (watchdog given up, back to wait_for_quorum). The CRM only becomes active
// when services are configured (can_get_active); idle-master release after 90 rounds is modelled.
import type { HaEnv } from './env.js';
import { KILLED } from './lrm.js';
import { Manager } from './manager.js';

const MAX_ACTIVE_IDLE_ROUNDS = 90;

export class Crm {
  state = 'startup';
  manager?: Manager;
  private wd?: number;
  private idleRounds = 0;
  alive = true;

  constructor(private readonly env: HaEnv) {
    this.setState('wait_for_quorum');
  }

  private setState(s: string): void {
    if (s === this.state) return;
    this.env.log('info', `status change ${this.state} => ${s}`);
    this.state = s;
    this.manager = s === 'master' ? new Manager(this.env, this.env.ctx.t.fenceDelay) : undefined;
  }

  private async sleep(s: number): Promise<void> {
    await this.env.sleep(s);
    if (!this.alive) throw KILLED;
  }

  kill(): void {
    this.alive = false;
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

  private async protectedLock(): Promise<boolean> {
    const t = this.env.ctx.t;
    const start = this.env.getTime();
    for (let count = 0; ; ) {
      if (this.env.getHaManagerLock()) {
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

  private giveUpWatchdog(): void {
    if (this.wd === undefined) return;
    this.env.watchdogClose(this.wd);
    this.wd = undefined;
  }

  private healthy(ms: Record<string, any>): boolean {
    if (!this.env.quorate()) return false;
    const me = this.env.nodename;
    return !Object.values((ms.service_status ?? {}) as Record<string, { node?: string; state?: string }>).some((sd) => sd.node === me && sd.state === 'fence');
  }

  private canGetActive(allowNoService = false): boolean {
    const ms = this.env.readManagerStatus();
    if (!this.healthy(ms)) return false;
    if (allowNoService) return true;
    if (Object.keys(this.env.readServiceConfig()).length) return true;
    const master = ms.master_node as string | undefined;
    if (!master || ms.node_status?.[master] !== 'online' || master === this.env.nodename) {
      if (Object.keys(ms.service_status ?? {}).length) return true; // clean up stale entries
    }
    return false;
  }

  private allowedToGetIdle(): boolean {
    const ms = this.env.readManagerStatus();
    if (!this.healthy(ms)) return false;
    return !Object.keys(this.env.readServiceConfig()).length && !Object.keys(ms.service_status ?? {}).length;
  }

  private async work(): Promise<void> {
    const t = this.env.ctx.t;
    if (this.state === 'wait_for_quorum') {
      if (this.canGetActive()) this.setState((await this.protectedLock()) ? 'master' : 'slave');
    } else if (this.state === 'slave') {
      if (this.canGetActive()) {
        if (await this.protectedLock()) this.setState('master');
      } else this.setState('wait_for_quorum');
    } else if (this.state === 'lost_manager_lock') {
      if (this.canGetActive(true) && (await this.protectedLock())) this.setState('master');
    } else if (this.state === 'master') {
      if (!(await this.protectedLock())) this.setState('lost_manager_lock');
      else if (this.allowedToGetIdle()) {
        if (++this.idleRounds > MAX_ACTIVE_IDLE_ROUNDS) {
          this.idleRounds = 0;
          this.env.log('info', `cluster had no service configured for ${MAX_ACTIVE_IDLE_ROUNDS} rounds, going idle.`);
          this.env.releaseHaManagerLock();
          this.giveUpWatchdog();
          this.setState('wait_for_quorum');
        }
      } else this.idleRounds = 0;
    }
    if (this.state === 'wait_for_quorum') return this.sleep(t.waitPoll);
    if (this.state === 'master') {
      const start = this.env.getTime();
      try {
        this.manager!.manage();
      } catch (e) {
        this.env.log('err', `got unexpected error - ${String((e as Error).message ?? e)}`);
      }
      const rest = start + t.loop - this.env.getTime();
      if (rest > 0) await this.sleep(rest);
      return;
    }
    if (this.state === 'lost_manager_lock') {
      this.giveUpWatchdog();
      this.setState('wait_for_quorum');
      return;
    }
    // slave: the lock attempts above already took their time; never spin without sleeping
    if (this.state === 'slave' && !this.env.quorate()) await this.sleep(t.lockRetry);
  }
}
