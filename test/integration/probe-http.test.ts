// The HTTP prober, a trial session and `pvelab probe` against an HTTP server in a test namespace whose
// link is cut and restored (netfilter drop inside the namespace; commit times seen from inside it).
// Assertions are causal (no answer after the cut took effect, none before the heal began), never timed.
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../lab/cli/app.js';
import { probeCommand, type ProbeSummary } from '../../lab/cli/probe.js';
import { findOutages } from '../../lab/failover/outages.js';
import { startHttpProbe } from '../../lab/failover/probe-http.js';
import { newRunRecord } from '../../lab/failover/run-meta.js';
import { startTrial } from '../../lab/failover/trial.js';
import { buildTimeline } from '../../lab/failover/timeline.js';
import { type TestHost, startTestHost } from '../helpers/testhost.js';
import { type CutTimes, type LinkCutter, startCutter } from './probe-cut.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let host: TestHost;
let cutter: LinkCutter;
let url: string;
let failing = false; // the server answers 503 while set

beforeAll(async () => {
  host = await startTestHost({
    label: 'probe',
    http: {
      port: 8080,
      node: (_req, res) => {
        res.statusCode = failing ? 503 : 200;
        res.end(failing ? 'busy\n' : 'hello from th-probe\n');
      },
    },
  });
  url = `http://${host.address}:8080/`;
  cutter = await startCutter(host);
});
afterAll(async () => {
  await cutter?.close();
  await host?.down();
});

describe('HTTP prober through a cut link', () => {
  test('finds one outage per cut, each bracketing the real one; answers name the serving node', async () => {
    const interval = 50;
    const probe = startHttpProbe({ url, intervalMs: interval, timeoutMs: 800 });
    await sleep(600);
    const cuts: Array<{ down: CutTimes; up: CutTimes }> = [];
    for (const ms of [400, 1200, 2500]) {
      const down = await cutter.cut();
      await sleep(ms);
      const up = await cutter.heal();
      cuts.push({ down, up });
      await sleep(1200);
    }
    const samples = await probe.stop();
    const outages = findOutages(samples);
    expect(outages.length).toBe(cuts.length);
    outages.forEach((o, i) => {
      const { down, up } = cuts[i]!;
      const real = up.at - down.at;
      console.log(`cut ${i + 1}: real ${real.toFixed(1)} ms, estimate ${o.estimateMs!.toFixed(1)} ms, last good → first good ${o.downtimeMs!.toFixed(1)} ms`);
      expect(o.lastGood!.at).toBeLessThanOrEqual(down.callEnd); // nothing answers once the drop is committed
      expect(o.firstGood!.t).toBeGreaterThanOrEqual(up.callStart); // nothing sent before the heal gets through
      expect(o.firstFail.t).toBeGreaterThanOrEqual(down.callStart - interval);
      expect(o.lastFail.t).toBeLessThanOrEqual(up.callEnd);
      expect(o.downtimeMs!).toBeGreaterThan(o.lowerMs);
    });
    const failed = samples.filter((s) => !s.ok);
    expect(new Set(failed.map((s) => s.error))).toEqual(new Set(['timeout']));
    expect(samples.filter((s) => s.ok).every((s) => s.node === 'th-probe' && s.status === 200)).toBe(true);
  });

  test('an HTTP error status is a failed probe with its status, not an answer', async () => {
    const probe = startHttpProbe({ url, intervalMs: 50, timeoutMs: 800 });
    await sleep(300);
    failing = true;
    await sleep(400);
    failing = false;
    await sleep(300);
    const samples = await probe.stop();
    const [o, ...rest] = findOutages(samples);
    expect(rest).toEqual([]);
    const bad = samples.filter((s) => !s.ok);
    expect(bad.length).toBe(o!.failedProbes);
    expect(bad.every((s) => s.error === 'HTTP 503' && s.status === 503)).toBe(true);
  });
});

test('a trial session records fault, outage and recovery into a valid record and timeline', async () => {
  const s = startTrial({ index: 0, url: `http://u:pw@${host.address}:8080/`, sid: 'ct:100', nodeBefore: 'th-probe', intervalMs: 50, timeoutMs: 800 });
  await sleep(500);
  let healed: CutTimes | undefined;
  const cut = await s.inject({ kind: 'link-down', target: 'th-probe' }, () => cutter.cut());
  const healer = sleep(1500).then(async () => (healed = await s.heal(() => cutter.heal())));
  const w = await s.waitRecovered({ timeoutMs: 30_000, stableMs: 1000 });
  await healer;
  await s.stop();
  const trial = s.record(w.outcome);
  expect(w.outcome).toBe('recovered');
  expect(trial.service.url).toBe(`http://${host.address}:8080/`); // credentials dropped
  expect(trial.fault.healedAt).toBeGreaterThan(trial.fault.injectedAt);
  const run = newRunRecord({ scenario: { id: 'probe-it' }, lab: { name: 'it', hash: null, source: 'test' }, clock: { wallMs: Date.now() - performance.now(), monoMs: 0 }, trials: [trial] });
  const tl = buildTimeline(run, run.trials[0]!);
  const at = (id: string) => tl.boundaries.find((b) => b.id === id)!;
  expect(at('firstFail').at!).toBeGreaterThanOrEqual(cut.callStart - 50);
  expect(at('firstGood').at!).toBeGreaterThanOrEqual(healed!.callStart);
  expect(tl.downtime.ms).not.toBeNull();
  expect(at('nodeUnknown').reason).toBe('no CRM journal lines and no HA status polls recorded');
  expect(w.outage?.firstGood?.seq).toBe(tl.downtime.outage?.firstGood?.seq);
});

test('pvelab probe prints the outage it saw and a JSON summary', async () => {
  const out: string[] = [];
  const program = new Command('pvelab').option('--json').exitOverride();
  const app = createApp(program, new AbortController().signal, (t) => out.push(t));
  program.parse(['node', 'pvelab', '--json']);
  const cutting = sleep(1000).then(async () => {
    await cutter.cut();
    await sleep(1000);
    await cutter.heal();
  });
  const summary = await probeCommand(url, { interval: '50ms', timeout: '800ms', duration: '4s', minFailed: '1' }, app);
  await cutting;
  const printed = JSON.parse(out.join('\n')) as ProbeSummary;
  expect(printed).toEqual(JSON.parse(JSON.stringify(summary)));
  expect(printed.outages.length).toBe(1);
  expect(printed.outages[0]!.errors).toEqual(['timeout']);
  expect(printed.outages[0]!.end).not.toBeNull();
  expect(printed.answered + printed.failed).toBe(printed.probes);
  expect(printed.nodeChanges.map((c) => c.to)).toEqual(['th-probe']);
});
