// Outage detection from probe samples: brackets, bounds, the live tracker.
import { describe, expect, test } from 'vitest';
import { OutageTracker, findOutages, type ProbePoint } from '../../lab/failover/outages.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Probes every `interval` from `phase`; failed while inside any [a,b) window. Good answers arrive `rtt` later. */
function sample(untilMs: number, interval: number, phase: number, down: Array<[number, number]>, rtt = 1): ProbePoint[] {
  const out: ProbePoint[] = [];
  let seq = 0;
  for (let t = phase; t < untilMs; t += interval) {
    const isDown = down.some(([a, b]) => t >= a && t < b);
    out.push({ seq: seq++, t, at: isDown ? t : t + rtt, ok: !isDown });
  }
  return out;
}

describe('findOutages', () => {
  test('no failures, no outages', () => {
    expect(findOutages(sample(5000, 50, 0, []))).toEqual([]);
  });

  test('one outage is bracketed by the last good and first good answers', () => {
    const s = sample(5000, 100, 0, [[1000, 2000]]);
    const [o, ...rest] = findOutages(s);
    expect(rest).toEqual([]);
    expect(o!.lastGood!.t).toBe(900);
    expect(o!.firstFail.t).toBe(1000);
    expect(o!.lastFail.t).toBe(1900);
    expect(o!.firstGood!.t).toBe(2000);
    expect(o!.failedProbes).toBe(10);
    expect(o!.downtimeMs).toBe(o!.firstGood!.at - o!.lastGood!.at);
    expect(o!.lowerMs).toBe(900);
  });

  test('outages at the edges have an open side and no downtime', () => {
    const s = sample(3000, 100, 0, [[0, 500], [2500, 4000]]);
    const os = findOutages(s);
    expect(os.length).toBe(2);
    expect(os[0]!.lastGood).toBeNull();
    expect(os[0]!.downtimeMs).toBeNull();
    expect(os[0]!.estimateMs).not.toBeNull();
    expect(os[1]!.firstGood).toBeNull();
    expect(os[1]!.endMs).toBeNull();
    expect(os[1]!.estimateMs).toBeNull();
  });

  test('minFailed ignores shorter blips', () => {
    const s = sample(5000, 100, 0, [[1000, 1100], [3000, 3500]]);
    expect(findOutages(s).length).toBe(2);
    expect(findOutages(s, { minFailed: 2 }).map((o) => o.failedProbes)).toEqual([5]);
  });

  test('samples are taken in observation order whatever order they arrive in', () => {
    const s = sample(5000, 100, 0, [[1000, 2000]]);
    const r = rng(7);
    const shuffled = [...s];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    expect(shuffled).not.toEqual(s);
    expect(findOutages(shuffled)).toEqual(findOutages(s));
  });

  test('for any outage and probe phase: downtime over-states by 0..2 intervals, the estimate errs by at most one', () => {
    const r = rng(42);
    const interval = 50;
    const errs: number[] = [];
    for (let i = 0; i < 500; i++) {
      const a = 1000 + r() * 1000;
      const len = 300 + r() * 9700;
      const [o] = findOutages(sample(a + len + 1000, interval, r() * interval, [[a, a + len]], 0));
      expect(o!.downtimeMs! - len).toBeGreaterThanOrEqual(0);
      expect(o!.downtimeMs! - len).toBeLessThanOrEqual(2 * interval);
      expect(len - o!.lowerMs).toBeGreaterThanOrEqual(0);
      expect(Math.abs(o!.estimateMs! - len)).toBeLessThanOrEqual(interval);
      errs.push(Math.abs(o!.estimateMs! - len));
    }
    errs.sort((x, y) => x - y);
    expect(errs[errs.length >> 1]).toBeLessThan(interval / 2);
  });
});

describe('OutageTracker (live)', () => {
  test('fed in completion order (failures arrive one timeout late), it finds the same outages as the batch', () => {
    const timeout = 800;
    const s = sample(20_000, 50, 13, [[2000, 2400], [5000, 9000], [15_000, 15_100]]);
    const completion = [...s].sort((x, y) => (x.ok ? x.at : x.t + timeout) - (y.ok ? y.at : y.t + timeout));
    const tr = new OutageTracker(timeout + 50);
    const ended = [];
    for (const x of completion) {
      const now = x.ok ? x.at : x.t + timeout;
      tr.push(x);
      ended.push(...tr.advance(now));
    }
    const fin = tr.finish();
    expect([...ended, ...fin.ended]).toEqual(findOutages(s));
    expect(fin.open).toBeNull();
  });

  test('an outage still going on at the end is reported open', () => {
    const s = sample(5000, 100, 0, [[4000, 6000]]);
    const tr = new OutageTracker(0);
    s.forEach((x) => tr.push(x));
    expect(tr.advance(4500)).toEqual([]);
    expect(tr.current()?.firstFail.t).toBe(4000);
    const { ended, open } = tr.finish();
    expect(ended).toEqual([]);
    expect(open?.lastFail.t).toBe(4900);
  });
});
