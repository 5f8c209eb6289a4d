// watchdog-mux of one node (pve-ha-manager src/watchdog-mux.c): clients (CRM, LRM) must update
// within CLIENT_WATCHDOG_TIMEOUT (60 s); the mux checks once per second, warns past 50 s, and on
// expiry stops feeding the softdog, which resets the node `softdog` (10 s) later. A clean close
// (magic 'V') removes the client. Journal messages are the mux's stderr lines.
import type { Clock, Timer } from '../clock.js';
import type { Timing } from '../timing.js';

interface Client {
  id: number;
  who: string;
  time: number;
  warned: boolean;
}

export class WatchdogMux {
  private clients = new Map<number, Client>();
  private nextId = 1;
  private tick?: Timer;
  private expired = false;

  constructor(
    private readonly clock: Clock,
    private readonly t: Timing,
    private readonly pidOf: (who: string) => number,
    private readonly log: (msg: string) => void,
    /** hardware reset of the node (softdog fired) */
    private readonly reset: () => void,
    /** VM paused: the mux does not run either */
    private readonly frozen: () => boolean = () => false,
  ) {}

  get armed(): boolean {
    return this.clients.size > 0;
  }

  open(who: string): number {
    const c: Client = { id: this.nextId++, who, time: this.clock.now(), warned: false };
    this.clients.set(c.id, c);
    this.schedule();
    return c.id;
  }

  update(id: number): void {
    const c = this.clients.get(id);
    if (c && !this.expired) c.time = this.clock.now();
  }

  close(id: number): void {
    if (!this.expired) this.clients.delete(id);
  }

  /** node powered off / reset: the mux process is gone */
  kill(): void {
    this.tick?.cancel();
    this.tick = undefined;
    this.clients.clear();
    this.expired = false;
  }

  private schedule(): void {
    if (this.tick || this.expired) return;
    this.tick = this.clock.setTimer(this.t.watchdogTick, () => {
      this.tick = undefined;
      this.check();
      if (this.clients.size && !this.expired) this.schedule();
    });
  }

  private check(): void {
    if (this.frozen()) return;
    const now = this.clock.now();
    for (const c of this.clients.values()) {
      const age = now - c.time;
      if (c.warned && age <= this.t.watchdogWarning) {
        c.warned = false;
        this.log(`client (PID ${this.pidOf(c.who)}) watchdog was updated before expiring`);
      }
      if (!c.warned && age > this.t.watchdogWarning) {
        c.warned = true;
        this.log(`client (PID ${this.pidOf(c.who)}) watchdog is about to expire`);
      }
      if (age > this.t.watchdogClient && !this.expired) {
        this.expired = true;
        this.log(`client (PID ${this.pidOf(c.who)}) watchdog expired - disable watchdog updates`);
        this.clock.setTimer(this.t.softdog, () => {
          if (this.expired) this.reset();
        });
      }
    }
  }
}
