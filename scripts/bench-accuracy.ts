// npm run bench:accuracy — how exactly the HTTP prober measures outages, and what it costs.
// An HTTP server in a test namespace (test/helpers/testhost.ts) has its link cut for known durations
// (24 outages, 0.3 s … 10 s, shuffled, random gaps so cuts fall anywhere between probes). The real
// outage is timed on the server side (netfilter commits reported from inside the namespace, see
// test/integration/probe-cut.ts). Prints each pair, the error distribution (goal: |error| ≤ one
// interval, median ≤ half of it) and the prober's CPU use at 20 Hz in a process of its own.
// Asserts nothing. Needs root (namespaces). BENCH_OUTAGES / BENCH_INTERVAL_MS override the defaults.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findOutages } from '../lab/failover/outages.js';
import { startHttpProbe } from '../lab/failover/probe-http.js';
import { quantile, summarize } from '../lab/failover/stats.js';
import { startCutter } from '../test/integration/probe-cut.js';
import { startTestHost } from '../test/helpers/testhost.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const interval = Number(process.env['BENCH_INTERVAL_MS'] ?? 50);
const count = Math.max(20, Number(process.env['BENCH_OUTAGES'] ?? 24));

/** Child mode: probe URL at 20 Hz for 10 s, print this process's CPU ms per second. */
async function cpuChild(url: string): Promise<void> {
  const seconds = 10;
  const warm = startHttpProbe({ url, intervalMs: 50, timeoutMs: 800 });
  await sleep(1000);
  await warm.stop();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const p = startHttpProbe({ url, intervalMs: 50, timeoutMs: 800 });
  await sleep(seconds * 1000);
  const samples = await p.stop();
  const cpu = process.cpuUsage(c0);
  const el = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ cpuMsPerS: (cpu.user + cpu.system) / 1000 / el, probes: samples.length, ok: samples.filter((s) => s.ok).length, seconds: el }) + '\n');
}

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const host = await startTestHost({ label: 'bench-acc', http: { port: 8080, node: (_q, res) => res.end('hello from bench\n') } });
  const cutter = await startCutter(host);
  try {
    const url = `http://${host.address}:8080/`;
    const rnd = mulberry32(20250314);
    const durations = Array.from({ length: count }, (_, i) => 300 * (10_000 / 300) ** (i / (count - 1)));
    for (let i = durations.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [durations[i], durations[j]] = [durations[j]!, durations[i]!];
    }
    console.log(`bench:accuracy — ${count} outages of 0.3–10 s, probe every ${interval} ms (timeout 800 ms), server ${url}`);
    const probe = startHttpProbe({ url, intervalMs: interval, timeoutMs: 800 });
    await sleep(1000);
    const cuts: Array<{ planned: number; down: number; up: number; callMs: number }> = [];
    for (const planned of durations) {
      const down = await cutter.cut();
      await sleep(planned - (performance.now() - down.at));
      const up = await cutter.heal();
      cuts.push({ planned, down: down.at, up: up.at, callMs: Math.max(down.callEnd - down.callStart, up.callEnd - up.callStart) });
      await sleep(900 + rnd() * 700);
    }
    const samples = await probe.stop();
    const outages = findOutages(samples);
    console.log(`${samples.length} probes, ${samples.filter((s) => !s.ok).length} failed, ${outages.length} outages found for ${cuts.length} cuts, ${probe.skipped} ticks skipped`);
    const rows: Array<{ real: number; est: number; down: number }> = [];
    console.log('  #   real (ms)  estimate (ms)  error (ms)  last good→first good (ms)  error (ms)');
    cuts.forEach((c, i) => {
      const real = c.up - c.down;
      // the outage whose failures lie inside this cut
      const o = outages.find((x) => x.firstFail.t >= c.down - interval && x.lastFail.t <= c.up + interval);
      if (!o || o.estimateMs === null || o.downtimeMs === null) {
        console.log(`${String(i + 1).padStart(3)}  ${real.toFixed(1).padStart(9)}  not matched`);
        return;
      }
      rows.push({ real, est: o.estimateMs, down: o.downtimeMs });
      console.log(`${String(i + 1).padStart(3)}  ${real.toFixed(1).padStart(9)}  ${o.estimateMs.toFixed(1).padStart(13)}  ${(o.estimateMs - real).toFixed(1).padStart(10)}  ${o.downtimeMs.toFixed(1).padStart(25)}  ${(o.downtimeMs - real).toFixed(1).padStart(10)}`);
    });
    const abs = rows.map((r) => Math.abs(r.est - r.real)).sort((a, b) => a - b);
    const signed = summarize(rows.map((r) => r.est - r.real));
    const over = summarize(rows.map((r) => r.down - r.real));
    const within = abs.filter((e) => e <= interval).length;
    console.log(`\nestimate error |measured − real| over ${rows.length} outages: median ${quantile(abs, 0.5).toFixed(1)} ms, p95 ${quantile(abs, 0.95).toFixed(1)} ms, max ${abs[abs.length - 1]!.toFixed(1)} ms; ${within}/${rows.length} within one interval (${interval} ms)`);
    console.log(`estimate bias (mean signed error): ${signed!.mean.toFixed(1)} ms ± ${signed!.sd?.toFixed(1)} ms`);
    console.log(`last good → first good over-states by: median ${over!.median.toFixed(1)} ms, max ${over!.max.toFixed(1)} ms (expected 0 … 2 intervals)`);
    console.log(`goal (≤ ${interval} ms each, median ≤ ${interval / 2} ms): ${within === rows.length && quantile(abs, 0.5) <= interval / 2 && rows.length === cuts.length ? 'met' : 'NOT met'}`);
    console.log(`cut timing: netfilter commits seen from inside the namespace; iptables-restore calls took up to ${Math.max(...cuts.map((c) => c.callMs)).toFixed(1)} ms`);

    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--cpu-child', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await new Promise((r) => child.on('close', r));
    const cpu = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { cpuMsPerS?: number; probes?: number; ok?: number; seconds?: number };
    console.log(`prober CPU at 20 Hz (own process, ${cpu.seconds?.toFixed(1)} s, ${cpu.probes} probes, ${cpu.ok} answered): ${cpu.cpuMsPerS?.toFixed(1)} ms CPU per second = ${((cpu.cpuMsPerS ?? 0) / 10).toFixed(2)} % of one core`);
  } finally {
    await cutter.close();
    await host.down();
  }
}

const childAt = process.argv.indexOf('--cpu-child');
if (childAt >= 0) await cpuChild(process.argv[childAt + 1]!);
else await main();
