// Guest runtime of the stand-in: which container runs on which node. Configurations live in pmxcfs
// (/etc/pve/nodes/<node>/lxc/<vmid>.conf = Db.guests); the running state is node-local and dies
// with the node. Starting/stopping waits the modelled start/stop time and asks the Effects to make
// it real (live stand-in: a network namespace + HTTP server inside the node VM). Also the HA
// resource agent (PVECT/PVEVM plugins: check_running, start, shutdown, migrate).
import type { Clock } from './clock.js';
import type { Db, GuestConf } from './cfs.js';
import type { ResourceAgent } from './ha/context.js';
import type { Timing } from './timing.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Real-world side of the model. The pure model uses NO_EFFECTS. */
export interface Effects {
  startGuest(node: string, g: GuestConf): Promise<void>;
  stopGuest(node: string, g: GuestConf): Promise<void>;
  execGuest(node: string, g: GuestConf, argv: string[], stdin: string): Promise<ExecResult>;
  /** watchdog expiry: hard reset of the node's machine */
  resetNode(node: string): void;
}

export const NO_EFFECTS: Effects = {
  startGuest: async () => {},
  stopGuest: async () => {},
  execGuest: async () => ({ stdout: '', stderr: 'stand-in: pct exec needs the live stand-in (no guest runtime in the pure model)\n', exitCode: 255 }),
  resetNode: () => {},
};

export function vmidOf(sid: string): number {
  return Number(sid.slice(sid.indexOf(':') + 1));
}

export class Guests {
  /** vmid -> node where it runs */
  readonly running = new Map<number, string>();
  private readonly starting = new Map<number, Promise<void>>();

  constructor(
    private readonly clock: Clock,
    private readonly t: Timing,
    private readonly effects: () => Effects,
    /** the database as seen from `node` (writable or frozen) */
    private readonly db: (node: string) => { db: Db; writable: boolean },
    private readonly allNodes: () => Iterable<string>,
    /** boot id of a running node, '' when down: a start that outlives its node's boot is void */
    private readonly bootOf: (node: string) => string,
    /** why the guest's volumes are not usable on that node (node-local storage elsewhere) */
    private readonly problem: (node: string, g: GuestConf) => string | undefined = () => undefined,
  ) {}

  conf(node: string, vmid: number): GuestConf | undefined {
    return this.db(node).db.guests.get(vmid);
  }

  isRunning(node: string, vmid: number): boolean {
    return this.running.get(vmid) === node;
  }

  async start(node: string, vmid: number): Promise<void> {
    const g = this.conf(node, vmid);
    if (!g || this.isRunning(node, vmid)) return;
    const pending = this.starting.get(vmid);
    if (pending) return pending;
    const why = this.problem(node, g);
    if (why) throw new Error(`startup for container '${vmid}' failed: ${why}`);
    const boot = this.bootOf(node);
    const p = (async () => {
      await Promise.all([this.effects().startGuest(node, g), this.clock.sleep(this.t.guestStart)]);
      if (boot && this.bootOf(node) === boot) this.running.set(vmid, node);
    })().finally(() => this.starting.delete(vmid));
    this.starting.set(vmid, p);
    return p;
  }

  async stop(node: string, vmid: number): Promise<void> {
    const g = this.conf(node, vmid);
    if (!this.isRunning(node, vmid)) return;
    this.running.delete(vmid);
    if (g) await Promise.all([this.effects().stopGuest(node, g), this.clock.sleep(this.t.guestStop)]);
  }

  /** node lost power / was reset: everything on it is gone (no effect: the machine took it along) */
  nodeDown(node: string): void {
    for (const [vmid, n] of this.running) if (n === node) this.running.delete(vmid);
  }

  /** HA resource agent view (PVE::HA::Resources::PVECT / PVEVM) */
  readonly agent: ResourceAgent = {
    exists: (sid) => [...this.allNodes()].some((n) => !!this.conf(n, vmidOf(sid))),
    checkRunning: (node, sid) => this.isRunning(node, vmidOf(sid)),
    start: (node, sid) => this.start(node, vmidOf(sid)).then(() => undefined, (e: Error) => e.message),
    shutdown: (node, sid) => this.stop(node, vmidOf(sid)),
    migrate: async (node, sid, target) => {
      const vmid = vmidOf(sid);
      await this.stop(node, vmid);
      const view = this.db(node);
      const g = view.db.guests.get(vmid);
      if (!view.writable || !g) return false;
      g.node = target;
      return true;
    },
  };
}
