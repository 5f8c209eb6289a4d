// The pve services of one node in the model: pids per boot, watchdog-mux, and the HA daemons
// (pve-ha-crm, pve-ha-lrm) started when the node has booted and killed with it.
import { createHash } from 'node:crypto';
import { Crm } from './ha/crm.js';
import type { HaContext } from './ha/context.js';
import { HaEnv } from './ha/env.js';
import { Lrm } from './ha/lrm.js';
import { WatchdogMux } from './ha/watchdog.js';

const UNITS = [['pve-ha-lrm', 'PVE Local HA Resource Manager Daemon'], ['pve-ha-crm', 'PVE Cluster HA Resource Manager Daemon']] as const;

export class NodeServices {
  crm?: Crm;
  lrm?: Lrm;
  readonly wd: WatchdogMux;
  private readonly pids = new Map<string, number>();

  constructor(private readonly ctx: HaContext, private readonly node: string, reset: () => void) {
    this.wd = new WatchdogMux(ctx.clock, ctx.t, (who) => this.pid(who === 'crm' ? 'pve-ha-crm' : 'pve-ha-lrm'),
      (msg) => ctx.log(node, 'watchdog-mux', 4, msg), reset, () => ctx.world.get(node).frozen);
  }

  pid(unit: string): number {
    let p = this.pids.get(unit);
    if (p === undefined) {
      const n = this.ctx.world.get(this.node);
      const h = createHash('md5').update(`${this.node}|${unit}|${n.boots}|${this.pids.size}`).digest().readUInt16BE(0);
      p = 900 + (h % 2000);
      this.pids.set(unit, p);
    }
    return p;
  }

  /** a restarted service gets a new pid (pve-cluster after a join, ...) */
  restarted(unit: string): void {
    this.pids.delete(unit);
  }

  newBoot(): void {
    this.pids.clear();
  }

  /** systemd starts pve-ha-lrm and pve-ha-crm */
  start(): void {
    for (const [unit, desc] of UNITS) {
      this.ctx.log(this.node, unit, 6, `Starting ${unit}.service - ${desc}...`, 'systemd');
      this.ctx.log(this.node, unit, 6, 'starting server');
      this.ctx.log(this.node, unit, 6, `Started ${unit}.service - ${desc}.`, 'systemd');
    }
    this.crm = new Crm(new HaEnv(this.ctx, this.node, 'pve-ha-crm'));
    this.lrm = new Lrm(new HaEnv(this.ctx, this.node, 'pve-ha-lrm'));
    void this.crm.run();
    void this.lrm.run();
  }

  /** power off / reset: every process dies at once */
  kill(): void {
    this.crm?.kill();
    this.lrm?.kill();
    this.crm = this.lrm = undefined;
    this.wd.kill();
  }
}
