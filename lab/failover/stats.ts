// Summary statistics over trials. Pure.
// Quantiles use linear interpolation between closest ranks (R type 7 / numpy default): p50 of
// [1,2,3,4] is 2.5, p95 of n values lies between the two largest. sd is the sample standard deviation
// (n − 1); it is null for fewer than two values.
import { PHASES, type PhaseId, type Timeline } from './timeline.js';

export interface Summary {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
  sd: number | null;
}

/** Quantile q ∈ [0,1] of ascending-sorted values (type 7). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  if (q < 0 || q > 1) throw new Error(`quantile ${q} outside [0,1]`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return a + (h - lo) * (b - a);
}

/** min/median/p95/max/mean±sd of the finite values; null when there are none. */
export function summarize(values: readonly (number | null | undefined)[]): Summary | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = v.length < 2 ? null : Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1));
  return { n: v.length, min: v[0]!, median: quantile(v, 0.5), p95: quantile(v, 0.95), max: v[v.length - 1]!, mean, sd };
}

export interface KindStats {
  faultKind: string;
  trials: number;
  /** Trials that recovered (an HTTP answer came back) vs not. */
  recovered: number;
  downtime: Summary | null;
  estimate: Summary | null;
  recovery: Summary | null;
  haRecovery: Summary | null;
  phases: Array<{ id: PhaseId; label: string; color: string; summary: Summary | null; missing: number }>;
}

/** Statistics per fault kind, kinds in order of first appearance. */
export function statsByKind(timelines: readonly Timeline[]): KindStats[] {
  const kinds = [...new Set(timelines.map((t) => t.faultKind))];
  return kinds.map((faultKind) => {
    const ts = timelines.filter((t) => t.faultKind === faultKind);
    return {
      faultKind,
      trials: ts.length,
      recovered: ts.filter((t) => t.boundaries.find((b) => b.id === 'firstGood')?.at !== null || t.downtime.ms === 0).length,
      downtime: summarize(ts.map((t) => t.downtime.ms)),
      estimate: summarize(ts.map((t) => t.downtime.estimateMs)),
      recovery: summarize(ts.map((t) => t.recoveryMs)),
      haRecovery: summarize(ts.map((t) => t.haRecoveryMs)),
      phases: PHASES.map((p) => {
        const values = ts.map((t) => t.phases.find((x) => x.id === p.id)?.ms ?? null);
        return { id: p.id, label: p.label, color: p.color, summary: summarize(values), missing: values.filter((x) => x === null).length };
      }),
    };
  });
}
