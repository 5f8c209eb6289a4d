// Injectable clock for the stand-in cluster model. Times are seconds (float) on the Unix epoch scale,
// so journal timestamps are real dates. Two implementations:
// - VirtualClock: time only moves through advance()/runUntil(); timers due at the same instant fire
//   in the order they were set; after each timer the microtask queue is drained so async daemons
//   (await clock.sleep()) run to their next sleep before the next timer fires. Deterministic.
// - RealClock: wall time; sleeps are setTimeout. The time scale is NOT applied here (timing.ts
//   scales the constants, the clock stays honest wall time).

export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Calls fn after `seconds` (>= 0). */
  setTimer(seconds: number, fn: () => void): Timer;
  /** Resolves after `seconds`; rejects never. */
  sleep(seconds: number): Promise<void>;
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

const drainMicrotasks = () => new Promise<void>((r) => setImmediate(r));

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private queue: Pending[] = [];

  constructor(start = 1_767_225_600 /* 2026-01-01T00:00:00Z */) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(seconds: number, fn: () => void): Timer {
    const p: Pending = { at: this.t + Math.max(0, seconds), seq: this.seq++, fn, cancelled: false };
    this.queue.push(p);
    return { cancel: () => (p.cancelled = true) };
  }

  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(seconds, resolve));
  }

  private next(limit: number): Pending | undefined {
    let best: Pending | undefined;
    let idx = -1;
    this.queue.forEach((p, i) => {
      if (p.cancelled || p.at > limit) return;
      if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) {
        best = p;
        idx = i;
      }
    });
    if (best) this.queue.splice(idx, 1);
    this.queue = this.queue.filter((p) => !p.cancelled);
    return best;
  }

  /** Runs every timer due up to now+seconds (including timers they set), then sets the time. */
  async advance(seconds: number): Promise<void> {
    await this.runUntil(this.t + seconds);
  }

  async runUntil(target: number): Promise<void> {
    await drainMicrotasks();
    for (;;) {
      const p = this.next(target);
      if (!p) break;
      this.t = Math.max(this.t, p.at);
      p.fn();
      await drainMicrotasks();
      await drainMicrotasks();
    }
    this.t = Math.max(this.t, target);
    await drainMicrotasks();
  }

  /** Advances in steps until pred() holds; throws after maxSeconds of virtual time. */
  async until(pred: () => boolean, maxSeconds: number, step = 0.5): Promise<number> {
    const end = this.t + maxSeconds;
    while (!pred()) {
      if (this.t >= end) throw new Error(`VirtualClock.until: condition not met within ${maxSeconds} s`);
      await this.advance(step);
    }
    return this.t;
  }
}

export class RealClock implements Clock {
  now(): number {
    return Date.now() / 1000;
  }

  setTimer(seconds: number, fn: () => void): Timer {
    const h = setTimeout(fn, Math.max(0, seconds) * 1000);
    h.unref?.();
    return { cancel: () => clearTimeout(h) };
  }

  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      setTimeout(resolve, Math.max(0, seconds) * 1000).unref?.();
    });
  }
}
