// Guest runtime of the stand-in: which container runs on which node. Configurations live in pmxcfs
// (/etc/pve/nodes/<node>/lxc/<vmid>.conf = Db.guests); the running state is node-local and dies
// with the node. Starting/stopping waits the modelled start/stop time and asks the Effects to make
// it real (live stand-in: a network namespace inside the node VM, Apache's DocumentRoot served when
// the CT's rootfs has apache2 installed — model/rootfs.ts). Also the HA
// resource agent (PVECT/PVEVM plugins: check_running, start, shutdown, migrate).
import type { Clock } from './clock.js';
import type { Db, GuestConf } from './cfs.js';
import type { ResourceAgent } from './ha/context.js';
import type { Serve } from './rootfs.js';
import type { Timing } from './timing.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface FileInfo {
  name: string;
  size: number;
}

/** Real-world side of the model: the node machines. The pure model uses MemoryEffects
 *  (pure-effects.ts), the live stand-in LiveEffects (live/effects.ts). */
export interface Effects {
  /** the CT runs on `node` now: its network, and Apache when `serve` is set */
  startGuest(node: string, g: GuestConf, serve: Serve | undefined): Promise<void>;
  stopGuest(node: string, g: GuestConf): Promise<void>;
  /** the running CT's web state changed (Apache installed, page written): serve exactly this */
  serveGuest(node: string, g: GuestConf, serve: Serve | undefined): Promise<void>;
  /** files on the node's own disk (template cache, dump directories); undefined when missing */
  readNodeFile(node: string, path: string): Promise<Buffer | undefined>;
  /** write a file, creating its directories */
  writeNodeFile(node: string, path: string, data: Buffer): Promise<void>;
  /** regular files of a directory; undefined when the directory does not exist */
  listNodeDir(node: string, dir: string): Promise<FileInfo[] | undefined>;
  /** watchdog expiry: hard reset of the node's machine */
  resetNode(node: string): void;
  /** the node was reinstalled (its disk is new) */
  nodeReinstalled(node: string): void;
}

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
    /** what Apache serves from the CT's rootfs on that node (undefined: no web server) */
    private readonly serving: (node: string, g: GuestConf) => Serve | undefined = () => undefined,
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
      await Promise.all([this.effects().startGuest(node, g, this.serving(node, g)), this.clock.sleep(this.t.guestStart)]);
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
