// Deadline loops. Every wait in pvelab (install finished, SSH up, quorum, HA started) goes through
// waitFor, which throws a TimeoutError saying what it waited for, how long, and what it last saw.
import { InterruptedError, TimeoutError } from './errors.js';

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal | undefined;
  hint?: string | undefined;
}

/** Result of one probe: done with a value, or not yet with a description of what was seen. */
export type Probe<T> = { done: true; value: T } | { done: false; seen: string };

export async function waitFor<T>(probe: () => Promise<Probe<T>>, opts: WaitOptions): Promise<T> {
  const start = performance.now();
  const interval = opts.intervalMs ?? 1000;
  let last: string | undefined;
  for (;;) {
    if (opts.signal?.aborted) throw new InterruptedError(`interrupted while waiting for ${opts.what}`);
    try {
      const r = await probe();
      if (r.done) return r.value;
      last = r.seen;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    const elapsed = performance.now() - start;
    if (elapsed >= opts.timeoutMs) throw new TimeoutError(opts.what, elapsed, last, { hint: opts.hint });
    await sleep(Math.min(interval, opts.timeoutMs - elapsed), opts.signal);
  }
}

/** Sleeps, waking early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
