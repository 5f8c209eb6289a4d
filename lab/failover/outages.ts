// Outages from HTTP probe samples. Pure.
//
// An outage is a maximal run of failed probes, ordered by observation time (`at`). The real outage
// [a, b] lies between the bracketing observations: lastGood < a ≤ firstFail and lastFail < b ≤ firstGood.
// So its length is bounded by
//   lower    = lastFail − firstFail            (certainly down at least this long, at probe resolution)
//   downtime = firstGood − lastGood            (what a user saw: last good answer to first good answer)
// and `estimateMs` takes the midpoint of each bracket; its error is within ± one probe interval when
// probes are evenly spaced, while `downtimeMs` over-states by up to two intervals (one at each end).
import type { HttpSample } from './record.js';

export type ProbePoint = Pick<HttpSample, 'seq' | 't' | 'at' | 'ok'>;

export interface Outage {
  /** Last good answer before the outage (null: the window started in an outage). */
  lastGood: ProbePoint | null;
  firstFail: ProbePoint;
  lastFail: ProbePoint;
  /** First good answer after it (null: still down when the samples end). */
  firstGood: ProbePoint | null;
  failedProbes: number;
  /** Estimated start / end (midpoints of the brackets; bracket edge when the other side is missing). */
  startMs: number;
  endMs: number | null;
  /** firstGood − lastGood; null when either is missing. */
  downtimeMs: number | null;
  /** Midpoint estimate of the real outage length; null when still down. */
  estimateMs: number | null;
  /** lastFail − firstFail: the outage lasted at least this long. */
  lowerMs: number;
}

export interface OutageOptions {
  /** Failures in a row needed to count as an outage (default 1: every lost answer counts). */
  minFailed?: number;
}

/** Samples in observation order (stable by seq for ties). */
export function byObservation<T extends ProbePoint>(samples: readonly T[]): T[] {
  return [...samples].sort((a, b) => a.at - b.at || a.seq - b.seq);
}

/** All outages in the samples, in time order. */
export function findOutages(samples: readonly ProbePoint[], opts: OutageOptions = {}): Outage[] {
  const minFailed = Math.max(1, opts.minFailed ?? 1);
  const sorted = byObservation(samples);
  const out: Outage[] = [];
  let lastGood: ProbePoint | null = null;
  let run: ProbePoint[] = [];
  for (const s of sorted) {
    if (!s.ok) {
      run.push(s);
      continue;
    }
    if (run.length >= minFailed) out.push(makeOutage(lastGood, run, s));
    run = [];
    lastGood = s;
  }
  if (run.length >= minFailed) out.push(makeOutage(lastGood, run, null));
  return out;
}

export function makeOutage(lastGood: ProbePoint | null, fails: readonly ProbePoint[], firstGood: ProbePoint | null): Outage {
  const firstFail = fails[0];
  const lastFail = fails[fails.length - 1];
  if (!firstFail || !lastFail) throw new Error('makeOutage: an outage needs at least one failed probe');
  const startMs = lastGood ? (lastGood.at + firstFail.at) / 2 : firstFail.at;
  const endMs = firstGood ? (lastFail.at + firstGood.at) / 2 : null;
  return {
    lastGood,
    firstFail,
    lastFail,
    firstGood,
    failedProbes: fails.length,
    startMs,
    endMs,
    downtimeMs: lastGood && firstGood ? firstGood.at - lastGood.at : null,
    estimateMs: endMs === null ? null : endMs - startMs,
    lowerMs: lastFail.at - firstFail.at,
  };
}

/**
 * Incremental outage detection for live output. Probes complete out of order (a failure is known only
 * when its timeout fires, after later probes may have answered), so samples are held until they are
 * older than `settleMs` (≥ the probe timeout) and only then fed in observation order.
 */
export class OutageTracker {
  private pending: ProbePoint[] = [];
  private lastGood: ProbePoint | null = null;
  private run: ProbePoint[] = [];
  private readonly minFailed: number;

  constructor(private readonly settleMs: number, opts: OutageOptions = {}) {
    this.minFailed = Math.max(1, opts.minFailed ?? 1);
  }

  push(s: ProbePoint): void {
    this.pending.push(s);
  }

  /** Processes samples observed before `now − settleMs`; returns outages that ended. */
  advance(now: number): Outage[] {
    return this.drain((s) => s.at <= now - this.settleMs);
  }

  /** Processes everything (no more samples will come); returns ended outages. */
  finish(): { ended: Outage[]; open: Outage | null } {
    const ended = this.drain(() => true);
    const open = this.run.length >= this.minFailed ? makeOutage(this.lastGood, this.run, null) : null;
    return { ended, open };
  }

  /** The outage in progress (failures seen, no good answer yet), if any. */
  current(): Outage | null {
    return this.run.length >= this.minFailed ? makeOutage(this.lastGood, this.run, null) : null;
  }

  private drain(ready: (s: ProbePoint) => boolean): Outage[] {
    const sorted = byObservation(this.pending);
    const take = sorted.filter(ready);
    this.pending = sorted.filter((s) => !ready(s));
    const ended: Outage[] = [];
    for (const s of take) {
      if (!s.ok) {
        this.run.push(s);
        continue;
      }
      if (this.run.length >= this.minFailed) ended.push(makeOutage(this.lastGood, this.run, s));
      this.run = [];
      this.lastGood = s;
    }
    return ended;
  }
}
