// HA status poller: reads manager_status from a surviving node every `intervalMs` (default 1 s) and
// records each answer (or failure) with the monotonic time it arrived. The change it shows happened
// before that time and after the previous poll: that is the uncertainty the timeline reports.
// With several runners (one per candidate node), a failed poll moves to the next node for the next poll,
// so losing the polled node (or its quorum) costs one poll, not the trial.
import type { Runner } from '../exec/runner.js';
import { sleep } from '../core/wait.js';
import { MANAGER_STATUS_ARGV, parseManagerStatus } from './ha-parse.js';
import type { HaSnapshot } from './record.js';

export interface HaPollOptions {
  runners: readonly Runner[];
  intervalMs?: number;
  /** Per poll; default 3 intervals. */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  onSnapshot?: (s: HaSnapshot) => void;
}

export interface HaPoller {
  snapshots(): HaSnapshot[];
  /** Stops after the poll in flight; returns every snapshot in time order. */
  stop(): Promise<HaSnapshot[]>;
}

export function startHaPoller(opts: HaPollOptions): HaPoller {
  if (opts.runners.length === 0) throw new Error('startHaPoller: no node to poll');
  const interval = opts.intervalMs ?? 1000;
  const timeoutMs = opts.timeoutMs ?? 3 * interval;
  const out: HaSnapshot[] = [];
  const stopper = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopper.signal]) : stopper.signal;
  let which = 0;

  const loop = (async () => {
    while (!signal.aborted) {
      const started = performance.now();
      const runner = opts.runners[which % opts.runners.length]!;
      let snap: HaSnapshot;
      try {
        const r = await runner.run(MANAGER_STATUS_ARGV, { timeoutMs, signal });
        snap = { t: performance.now(), wall: Date.now(), via: runner.where, ok: true, status: parseManagerStatus(r.stdout) };
      } catch (err) {
        if (signal.aborted) break;
        snap = { t: performance.now(), wall: Date.now(), via: runner.where, ok: false, error: err instanceof Error ? err.message : String(err) };
        which++;
      }
      out.push(snap);
      opts.onSnapshot?.(snap);
      await sleep(Math.max(0, started + interval - performance.now()), signal);
    }
  })();

  return {
    snapshots: () => [...out],
    async stop() {
      stopper.abort();
      await loop;
      return [...out];
    },
  };
}
