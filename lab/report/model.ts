// Report model: run records → what the report shows (trials with timelines, statistics per fault kind,
// run metadata). Pure and deterministic: the same records (and generatedAt) give the same model.
import { buildTimeline, PHASES, type Timeline } from '../failover/timeline.js';
import { redactUrl, type HttpSample, type RunRecord, type TrialRecord } from '../failover/record.js';
import { statsByKind, type KindStats } from '../failover/stats.js';

/** A run of probe results with the same outcome, relative to the fault (ms). */
export interface ProbeSegment {
  fromMs: number;
  toMs: number;
  ok: boolean;
  probes: number;
}

export interface TrialView {
  /** "<run id>#<trial index>", unique across the report. */
  key: string;
  runId: string;
  url: string;
  timeline: Timeline;
  /** HTTP results as segments relative to the fault, for the timeline strip. */
  probes: ProbeSegment[];
  /** Wall-clock time of the fault (ISO), for labels. */
  injectedIso: string;
}

export interface RunView {
  id: string;
  createdAt: string;
  scenario: string;
  pvelab: string;
  proxmox: string;
  proxmoxNodes: Array<{ node: string; version: string }>;
  host: string;
  lab: string;
  labHash: string;
  labSource: string;
  trials: number;
}

export interface ReportModel {
  title: string;
  /** A line shown under the title, e.g. the class, or that the numbers come from a simulation. */
  label?: string | undefined;
  generatedAt: string;
  runs: RunView[];
  trials: TrialView[];
  kinds: KindStats[];
  phases: ReadonlyArray<{ id: string; label: string; color: string }>;
}

/** Groups consecutive probe results (in observation order) into ok / failed segments. */
export function probeSegments(samples: readonly HttpSample[], originMs: number, intervalMs: number): ProbeSegment[] {
  const sorted = [...samples].sort((a, b) => a.at - b.at || a.seq - b.seq);
  const out: ProbeSegment[] = [];
  for (const s of sorted) {
    const x = s.at - originMs;
    const last = out[out.length - 1];
    if (last && last.ok === s.ok && x - last.toMs <= 3 * intervalMs) {
      last.toMs = x;
      last.probes++;
    } else {
      if (last) last.toMs = Math.max(last.toMs, x); // segments touch: a change happened between probes
      out.push({ fromMs: x, toMs: x, ok: s.ok, probes: 1 });
    }
  }
  return out;
}

function trialView(run: RunRecord, trial: TrialRecord): TrialView {
  const timeline = buildTimeline(run, trial);
  return {
    key: `${run.id}#${trial.index}`,
    runId: run.id,
    url: redactUrl(trial.service.url),
    timeline,
    probes: probeSegments(trial.http, trial.fault.injectedAt, trial.probe.intervalMs),
    injectedIso: new Date(trial.fault.injectedWall).toISOString(),
  };
}

function runView(run: RunRecord): RunView {
  return {
    id: run.id,
    createdAt: run.createdAt,
    scenario: run.scenario.description ? `${run.scenario.id}: ${run.scenario.description}` : run.scenario.id,
    pvelab: run.pvelab.version,
    proxmox: run.proxmox.version ?? 'unknown',
    proxmoxNodes: Object.entries(run.proxmox.nodes).map(([node, version]) => ({ node, version })),
    host: [run.host.kernel && `kernel ${run.host.kernel}`, run.host.qemu && `QEMU ${run.host.qemu}`, run.host.libvirt && `libvirt ${run.host.libvirt}`, `Node ${run.host.node}`]
      .filter(Boolean)
      .join(', '),
    lab: run.lab.name,
    labHash: run.lab.hash ?? 'none',
    labSource: run.lab.source,
    trials: run.trials.length,
  };
}

/** Builds the model for one or more runs (trials of all runs are aggregated in the statistics). */
export function buildReport(runs: readonly RunRecord[], generatedAt: string, label?: string): ReportModel {
  const sorted = [...runs].sort((a, b) => a.id.localeCompare(b.id));
  const trials = sorted.flatMap((r) => [...r.trials].sort((a, b) => a.index - b.index).map((t) => trialView(r, t)));
  const title =
    sorted.length === 1
      ? `pvelab failover run ${sorted[0]!.id}`
      : `pvelab failover report: ${sorted.length} runs${sorted.length ? ` (${sorted[0]!.id} … ${sorted[sorted.length - 1]!.id})` : ''}`;
  return {
    title,
    label,
    generatedAt,
    runs: sorted.map(runView),
    trials,
    kinds: statsByKind(trials.map((t) => t.timeline)),
    phases: PHASES.map(({ id, label, color }) => ({ id, label, color })),
  };
}
