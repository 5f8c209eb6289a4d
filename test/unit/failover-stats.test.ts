// Statistics over trials, durations, and the run record schema.
import { describe, expect, test } from 'vitest';
import { parseDuration, formatDuration } from '../../lab/failover/duration.js';
import { parseRunRecord, redactUrl, runId } from '../../lab/failover/record.js';
import { quantile, statsByKind, summarize } from '../../lab/failover/stats.js';
import { buildTimeline } from '../../lab/failover/timeline.js';
import { BASE_WALL, monoOf, run, trial, worldSamples } from './failover-fixtures.js';

describe('summarize', () => {
  test('quantiles interpolate between ranks (type 7)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10], 0.95)).toBe(10);
    const v = Array.from({ length: 20 }, (_, i) => i + 1);
    // rank h = (n−1)·q = 18.05 → 19 + 0.05·(20 − 19)
    expect(quantile(v, 0.95)).toBeCloseTo(19.05, 10);
    expect(() => quantile([], 0.5)).toThrow();
  });

  test('min/median/p95/max/mean/sd agree with direct computation, ignoring nulls', () => {
    const values = [3000, null, 1000, 2000, 7000, undefined, 5000];
    const s = summarize(values)!;
    const nums = [1000, 2000, 3000, 5000, 7000];
    const mean = nums.reduce((a, b) => a + b) / nums.length;
    expect(s).toMatchObject({ n: 5, min: 1000, median: 3000, max: 7000, mean });
    expect(s.sd).toBeCloseTo(Math.sqrt(nums.reduce((a, x) => a + (x - mean) ** 2, 0) / 4), 9);
    expect(s.p95).toBeGreaterThan(5000);
    expect(s.p95).toBeLessThanOrEqual(7000);
  });

  test('one value has no sd; no values give null', () => {
    expect(summarize([42])!.sd).toBeNull();
    expect(summarize([null, undefined])).toBeNull();
  });
});

test('statsByKind groups trials by fault kind and counts missing phases', () => {
  const mk = (kind: string, backS: number, i: number) => {
    const tr = trial(
      {
        fault: { kind, target: 'pve1', injectedAt: monoOf(100), injectedWall: BASE_WALL + 100_000, healedAt: null },
        service: { sid: 'ct:100', url: 'http://192.0.2.1/', nodeBefore: 'pve1' },
        http: worldSamples(50, 400, 1000, (s) => (s < 100 || s >= backS ? 'pve' : null)),
      },
      i,
    );
    return buildTimeline(run([tr]), tr);
  };
  const tls = [mk('node-poweroff', 230, 0), mk('link-down', 250, 1), mk('node-poweroff', 240, 2), mk('node-poweroff', 260, 3)];
  const st = statsByKind(tls);
  expect(st.map((k) => [k.faultKind, k.trials])).toEqual([['node-poweroff', 3], ['link-down', 1]]);
  const off = st[0]!;
  expect(off.downtime!.n).toBe(3);
  expect(off.downtime!.median).toBe(tls[2]!.downtime.ms);
  expect(off.recovered).toBe(3);
  const fence = off.phases.find((p) => p.id === 'fenceDelay')!;
  expect(fence.summary).toBeNull(); // no HA data in these trials
  expect(fence.missing).toBe(3);
  expect(off.phases.find((p) => p.id === 'userDetect')!.summary!.n).toBe(3);
});

describe('durations', () => {
  test('units and combinations', () => {
    expect(parseDuration('50ms')).toBe(50);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250')).toBe(250);
  });
  test('bad text is a usage error naming it', () => {
    for (const bad of ['', 'fast', '5 parsecs', '10x', 's', '-5s']) expect(() => parseDuration(bad, '--interval')).toThrow(/invalid --interval/);
  });
  test('formatting', () => {
    expect(formatDuration(50)).toBe('0.050 s');
    expect(formatDuration(144_000, 1)).toBe('2 min 24.0 s');
  });
});

describe('run record', () => {
  const good = run([
    trial({
      fault: { kind: 'node-poweroff', target: 'pve1', injectedAt: monoOf(1), injectedWall: BASE_WALL + 1000, healedAt: monoOf(5) },
      service: { sid: 'ct:100', url: 'http://192.0.2.1/', nodeBefore: 'pve1' },
      http: worldSamples(0, 3, 500, () => 'pve1'),
    }),
  ]);

  test('round-trips through JSON', () => {
    expect(parseRunRecord(JSON.stringify(good))).toEqual(good);
  });

  test('says what is wrong: not a run, a newer schema, a bad field', () => {
    expect(() => parseRunRecord('{"a":1}')).toThrow(/not a pvelab run record/);
    expect(() => parseRunRecord(JSON.stringify({ ...good, schemaVersion: 99 }))).toThrow(/run schema 99; this pvelab reads up to 1/);
    const bad = structuredClone(good) as unknown as { trials: Array<{ http: Array<{ ok: unknown }> }> };
    bad.trials[0]!.http[0]!.ok = 'yes';
    expect(() => parseRunRecord(JSON.stringify(bad))).toThrow(/trials\.0\.http\.0\.ok/);
    expect(() => parseRunRecord('{')).toThrow(/not JSON/);
  });

  test('run ids sort by time and carry the scenario', () => {
    expect(runId(Date.UTC(2025, 2, 14, 9, 5, 7, 123), 'node poweroff')).toBe('20250314T090507Z-node_poweroff');
    expect(runId(Date.UTC(2025, 0, 1)) < runId(Date.UTC(2025, 0, 2))).toBe(true);
  });

  test('credentials never stay in a URL', () => {
    expect(redactUrl('http://root:s3cret@10.0.0.5:8080/x')).toBe('http://10.0.0.5:8080/x');
    expect(redactUrl('http://10.0.0.5/')).toBe('http://10.0.0.5/');
  });
});
