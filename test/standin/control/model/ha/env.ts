// HA environment of one node: what PVE::HA::Env::PVE2 gives the CRM and LRM (quorum, cluster
// files through this node's pmxcfs view, cluster locks, watchdog-mux, syslog). Lock-state logging
// follows Env/PVE2.pm get_pve_lock: "successfully acquired lock '<id>'" / "lost lock '<id> - <err>"
// (sic: the closing quote is missing upstream) on every change of the per-process lock state.
import type { CfsView, Db, GuestConf } from '../cfs.js';
import { PRIO } from '../journal.js';
import type { HaContext } from './context.js';

export type ServiceConf = {
  sid: string;
  type: string; // vm | ct
  name: string;
  node?: string;
  state: string;
  max_restart: number;
  max_relocate: number;
  failback: number;
  group?: string;
  comment?: string;
};

export class HaEnv {
  private lockState = new Map<string, { got: boolean; time: number }>();

  constructor(
    readonly ctx: HaContext,
    readonly nodename: string,
    readonly unit: 'pve-ha-crm' | 'pve-ha-lrm',
  ) {}

  getTime(): number {
    return this.ctx.clock.now();
  }

  quorate(): boolean {
    return this.ctx.world.quorate(this.nodename);
  }

  view(): CfsView {
    return this.ctx.cfs.view(this.nodename, this.quorate());
  }

  private writableDb(what: string): Db {
    const v = this.view();
    if (!v.writable) throw new Error(`unable to write '/etc/pve/${what}' - Permission denied\n`);
    return v.db;
  }

  log(level: string, msg: string): void {
    this.ctx.log(this.nodename, this.unit, PRIO[level] ?? 6, msg.replace(/\n+$/, ''));
  }

  /** fencing notification (PVE::Notify, not the journal; the simulator logs these as 'email') */
  notify(prefix: string, msg: string): void {
    this.ctx.notify(this.nodename, `${prefix}: ${msg}`);
  }

  /** members with corosync's online flag as this node sees them; the local node is always online. */
  getNodeInfo(): { info: Record<string, { online: boolean }>; quorate: boolean } {
    const info: Record<string, { online: boolean }> = {};
    for (const name of this.ctx.members().keys()) info[name] = { online: this.ctx.world.online(this.nodename, name) };
    info[this.nodename] = { online: true };
    return { info, quorate: this.quorate() };
  }

  readManagerStatus(): Record<string, any> {
    return structuredClone(this.view().db.managerStatus) as Record<string, any>;
  }

  writeManagerStatus(ms: Record<string, unknown>): void {
    this.writableDb('ha/manager_status').managerStatus = structuredClone(ms);
  }

  readLrmStatus(node: string): Record<string, any> {
    const s = this.view().db.lrmStatus[node];
    return s ? (structuredClone(s) as Record<string, any>) : { mode: 'unknown' };
  }

  writeLrmStatus(status: Record<string, unknown>): void {
    this.writableDb(`nodes/${this.nodename}/lrm_status`).lrmStatus[this.nodename] = structuredClone(status);
  }

  /** PVE::HA::Config::read_and_check_resources_config: defaults + node from the VM list. */
  readServiceConfig(): Record<string, ServiceConf> {
    const db = this.view().db;
    const out: Record<string, ServiceConf> = {};
    for (const [sid, { type, opts }] of db.haResources) {
      const name = sid.slice(sid.indexOf(':') + 1);
      let state = opts.state ?? 'started';
      if (state === 'enabled') state = 'started';
      const g: GuestConf | undefined = db.guests.get(Number(name));
      out[sid] = {
        sid, type, name, state, node: g?.node,
        max_restart: Number(opts.max_restart ?? 1),
        max_relocate: Number(opts.max_relocate ?? 1),
        failback: Number(opts.failback ?? 1),
        ...(opts.group !== undefined ? { group: opts.group } : {}),
        ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
      };
    }
    return out;
  }

  updateServiceConfig(sid: string, param: Record<string, string>): void {
    const e = this.writableDb('ha/resources.cfg').haResources.get(sid);
    if (e) Object.assign(e.opts, param);
  }

  readGroups(): Db['haGroups'] {
    return this.view().db.haGroups;
  }

  readRules(): Db['haRules'] {
    return this.view().db.haRules;
  }

  popCrmCommands(): string[] {
    const v = this.view();
    if (!v.writable) return [];
    const cmds = v.db.crmCommands;
    v.db.crmCommands = [];
    return cmds;
  }

  /** rename nodes/<from>/lxc/<id>.conf -> nodes/<to>/... (Env/PVE2.pm steal_service). */
  stealService(sid: string, to: string): void {
    const g = this.writableDb('nodes').guests.get(Number(sid.slice(sid.indexOf(':') + 1)));
    if (g) g.node = to;
  }

  private pveLock(id: string): boolean {
    const now = this.getTime();
    const last = this.lockState.get(id) ?? { got: false, time: 0 };
    const view = this.view();
    let got = false;
    let err = '';
    if (!view.writable) err = 'cfs lock update failed - Permission denied';
    else if ((got = this.ctx.cfs.lock(view, this.nodename, id, now))) err = '';
    else err = "can't get cfs lock";
    if (got !== last.got) {
      if (got) this.log('info', `successfully acquired lock '${id}'`);
      else this.log('err', `lost lock '${id} - ${err}`);
    }
    this.lockState.set(id, { got, time: got ? now : last.time });
    return got;
  }

  getHaManagerLock(): boolean {
    return this.pveLock('ha_manager_lock');
  }

  releaseHaManagerLock(): boolean {
    this.lockState.delete('ha_manager_lock');
    return this.ctx.cfs.unlock(this.view(), this.nodename, 'ha_manager_lock');
  }

  getHaAgentLock(node = this.nodename): boolean {
    return this.pveLock(`ha_agent_${node}_lock`);
  }

  releaseHaAgentLock(): boolean {
    const id = `ha_agent_${this.nodename}_lock`;
    this.lockState.delete(id);
    return this.ctx.cfs.unlock(this.view(), this.nodename, id);
  }

  watchdogOpen(): number {
    const id = this.ctx.watchdog(this.nodename).open(this.unit === 'pve-ha-crm' ? 'crm' : 'lrm');
    this.log('info', 'watchdog active');
    return id;
  }

  watchdogUpdate(id: number): void {
    this.ctx.watchdog(this.nodename).update(id);
  }

  watchdogClose(id: number): void {
    this.ctx.watchdog(this.nodename).close(id);
    this.log('info', 'watchdog closed (disabled)');
  }

  private lastRound = -Infinity; // index of the round this daemon last ran in

  /** simulator rounds (HaContext.simRound): waits for this daemon's next slot; no-op otherwise */
  async nextRound(): Promise<void> {
    const round = this.ctx.simRound;
    if (!round) return;
    // the simulator runs the daemons of powered nodes in name order, each taking one second
    const order = [...this.ctx.members().keys()].sort().filter((n) => n === this.nodename || this.ctx.world.get(n).up);
    const slot = Math.max(0, order.indexOf(this.nodename)) * 2 + (this.unit === 'pve-ha-lrm' ? 1 : 0);
    // once per round: the slot may move when a node powers on or off, the round may not repeat
    const now = this.getTime();
    const k = Math.max(Math.ceil((now - slot) / round), this.lastRound + 1);
    this.lastRound = k;
    const at = k * round + slot;
    if (at > now) await this.ctx.clock.sleep(at - now);
  }

  /**
   * A daemon's sleep; a paused VM: the process sleeps until the VM runs again. In the simulator's
   * replay (HaContext.simRound) no time passes inside an iteration — Sim/TestEnv.pm's sleep only adds
   * to loop_delay — so lock retries and worker polls all happen at once; nextRound() paces the loop.
   */
  async sleep(seconds: number): Promise<void> {
    await this.ctx.clock.sleep(this.ctx.simRound ? 0 : seconds);
    while (this.ctx.world.get(this.nodename).frozen) await this.ctx.clock.sleep(this.ctx.t.lockRetry);
  }
}
