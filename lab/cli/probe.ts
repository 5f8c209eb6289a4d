// pvelab probe URL [--interval 50ms] [--timeout 800ms] [--duration 5m]
// The HTTP prober on its own: prints each outage when it ends (start, end, duration) and a summary when
// the duration is over or on Ctrl-C; with --json, one JSON document at the end instead. For watching
// a manual live migration or any other experiment. Works without a lab.
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../failover/duration.js';
import { OutageTracker, type Outage } from '../failover/outages.js';
import { startHttpProbe } from '../failover/probe-http.js';
import { redactUrl, type HttpSample } from '../failover/record.js';
import { clockAnchor } from '../failover/run-meta.js';
import { sleep } from '../core/wait.js';
import type { AppContext } from './app.js';

export interface ProbeCliOptions {
  interval: string;
  timeout: string;
  duration?: string;
  minFailed: string;
}

export interface ProbeSummary {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  startedAt: string;
  durationMs: number;
  probes: number;
  answered: number;
  failed: number;
  outages: OutageLine[];
  /** Changes of the answering instance (from the page body). */
  nodeChanges: Array<{ at: string; from: string | null; to: string }>;
  /** CPU time of this process per second of probing (ms/s). */
  cpuMsPerS: number;
}

export interface OutageLine {
  start: string;
  end: string | null;
  /** Midpoint estimate (± one interval). */
  durationMs: number | null;
  /** Last good → first good answer. */
  downtimeMs: number | null;
  failedProbes: number;
  errors: string[];
}

export function register(program: Command, app: AppContext): void {
  program
    .command('probe <url>')
    .description('probe an HTTP URL at a fixed interval and print every outage (start, end, duration); Ctrl-C ends')
    .option('--interval <duration>', 'time between probes (50ms, 1s, …)', '50ms')
    .option('--timeout <duration>', 'a probe without a complete answer within this is failed; keep it below 1s', '800ms')
    .option('--duration <duration>', 'stop after this long (default: until Ctrl-C)')
    .option('--min-failed <n>', 'failed probes in a row that count as an outage', '1')
    .action(async (url: string, opts: ProbeCliOptions) => {
      await probeCommand(url, opts, app);
    });
}

const clock = (wallMs: number) => new Date(wallMs).toISOString().slice(11, 23);

/** Runs the probe until --duration or the app's signal; prints outages as they end; returns the summary. */
export async function probeCommand(url: string, opts: ProbeCliOptions, app: AppContext): Promise<ProbeSummary> {
  const intervalMs = parseDuration(opts.interval, '--interval');
  const timeoutMs = parseDuration(opts.timeout, '--timeout');
  const durationMs = opts.duration === undefined ? Infinity : parseDuration(opts.duration, '--duration');
  const minFailed = Number(opts.minFailed);
  if (!(intervalMs >= 1) || !(timeoutMs >= 1)) throw new UsageError('--interval and --timeout must be at least 1ms');
  if (!Number.isInteger(minFailed) || minFailed < 1) throw new UsageError(`invalid --min-failed "${opts.minFailed}"`, { hint: 'a whole number ≥ 1' });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid URL "${redactUrl(url)}"`, { hint: 'for example http://10.0.0.100/' });
  }
  if (parsed.protocol !== 'http:') throw new UsageError(`only http:// URLs can be probed, got ${parsed.protocol}`);

  const json = app.options().json === true;
  const anchor = clockAnchor();
  const wall = (t: number) => anchor.wallMs + (t - anchor.monoMs);
  const tracker = new OutageTracker(timeoutMs + 50, { minFailed });
  const outages: OutageLine[] = [];
  const nodeChanges: ProbeSummary['nodeChanges'] = [];
  const samples: HttpSample[] = [];
  let lastNode: string | null = null;
  const errorsOf = (o: Outage) => [...new Set(samples.filter((s) => !s.ok && s.at >= o.firstFail.at && s.at <= o.lastFail.at).map((s) => s.error ?? 'failed'))];
  const emit = (o: Outage) => {
    const line: OutageLine = {
      start: new Date(wall(o.startMs)).toISOString(),
      end: o.endMs === null ? null : new Date(wall(o.endMs)).toISOString(),
      durationMs: o.estimateMs,
      downtimeMs: o.downtimeMs,
      failedProbes: o.failedProbes,
      errors: errorsOf(o),
    };
    outages.push(line);
    if (json) return;
    const dur = o.estimateMs === null ? `still down after ${formatDuration(o.lowerMs)}` : `duration ${formatDuration(o.estimateMs)}`;
    const bound = o.downtimeMs === null ? '' : `, last good → first good ${formatDuration(o.downtimeMs)}`;
    app.print(`outage ${outages.length}: start ${clock(wall(o.startMs))}  end ${o.endMs === null ? '—' : clock(wall(o.endMs))}  ${dur}  (± ${intervalMs} ms${bound}; ${o.failedProbes} failed: ${line.errors.join(', ')})`);
  };

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  app.log.info(`probing ${redactUrl(url)} every ${intervalMs} ms (timeout ${timeoutMs} ms)${Number.isFinite(durationMs) ? ` for ${formatDuration(durationMs)}` : ''}; Ctrl-C to stop`);
  const probe = startHttpProbe({
    url,
    intervalMs,
    timeoutMs,
    signal: app.signal,
    onSample: (s) => {
      samples.push(s);
      tracker.push(s);
    },
  });
  const stopAt = t0 + durationMs;
  while (!app.signal.aborted && performance.now() < stopAt) {
    for (const o of tracker.advance(performance.now())) emit(o);
    await sleep(Math.min(100, Math.max(0, stopAt - performance.now())), app.signal);
  }
  await probe.stop();
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const fin = tracker.finish();
  for (const o of fin.ended) emit(o);
  if (fin.open) emit(fin.open);
  for (const s of [...samples].sort((a, b) => a.at - b.at)) {
    if (!s.ok || !s.node || s.node === lastNode) continue;
    nodeChanges.push({ at: new Date(wall(s.at)).toISOString(), from: lastNode, to: s.node });
    lastNode = s.node;
  }
  const answered = samples.filter((s) => s.ok).length;
  const summary: ProbeSummary = {
    url: redactUrl(url),
    intervalMs,
    timeoutMs,
    startedAt: new Date(wall(t0)).toISOString(),
    durationMs: elapsed,
    probes: samples.length,
    answered,
    failed: samples.length - answered,
    outages,
    nodeChanges,
    cpuMsPerS: (cpu.user + cpu.system) / 1000 / (elapsed / 1000),
  };
  if (json) app.print(JSON.stringify(summary, null, 2));
  else app.print(summaryText(summary));
  return summary;
}

function summaryText(s: ProbeSummary): string {
  const total = s.outages.reduce((a, o) => a + (o.durationMs ?? 0), 0);
  const longest = Math.max(0, ...s.outages.map((o) => o.durationMs ?? 0));
  const lines = [
    `probed ${s.url} for ${formatDuration(s.durationMs, 1)}: ${s.probes} probes, ${s.answered} answered, ${s.failed} failed`,
    s.outages.length === 0
      ? 'no outage'
      : `${s.outages.length} outage(s), total ${formatDuration(total)}, longest ${formatDuration(longest)} (each ± ${s.intervalMs} ms)`,
  ];
  if (s.nodeChanges.length > 1) lines.push(`answering node: ${s.nodeChanges.map((c) => `${c.to} from ${c.at.slice(11, 23)}`).join(', ')}`);
  else if (s.nodeChanges.length === 1) lines.push(`answering node: ${s.nodeChanges[0]!.to}`);
  return lines.join('\n');
}
