// Timeline of one trial: the boundaries of Proxmox's failover sequence (proxmox.md F.4), each traced to
// the observation it came from, and the phases between them. Pure: (run, trial) → Timeline.
// Priority per boundary: the CRM journal (Proxmox's own timestamp) over status polls (an upper bound:
// the change happened between two polls); the other candidates are kept in `also` for cross-checks.
// A boundary nobody observed is null with a reason; a phase whose ends are missing or out of order is
// null with a reason. Nothing is interpolated.
import type { HaEvent } from './ha-parse.js';
import { firstJournal, firstPoll, journalObservations, libvirtObservations, pollObservations, rel, type Observation } from './observations.js';
import { findOutages, type Outage } from './outages.js';
import type { RunRecord, TrialRecord } from './record.js';

export const BOUNDARIES = [
  { id: 'injected', label: 'fault injected' },
  { id: 'firstFail', label: 'first failed probe' },
  { id: 'nodeUnknown', label: "node 'unknown'" },
  { id: 'fence', label: "service 'fence'" },
  { id: 'fenceAck', label: 'fencing acknowledged' },
  { id: 'recovery', label: "service 'recovery'" },
  { id: 'started', label: "'started' on new node" },
  { id: 'firstGood', label: 'first good HTTP answer' },
] as const;
export type BoundaryId = (typeof BOUNDARIES)[number]['id'];

/** Phases between consecutive boundaries, in order; `color` is the band colour in every chart. */
export const PHASES = [
  { id: 'userDetect', from: 'injected', to: 'firstFail', label: 'users notice', color: '#d62728' },
  { id: 'haDetect', from: 'firstFail', to: 'nodeUnknown', label: 'cluster notices', color: '#ff7f0e' },
  { id: 'fenceDelay', from: 'nodeUnknown', to: 'fence', label: 'fence delay', color: '#bcbd22' },
  { id: 'fencing', from: 'fence', to: 'fenceAck', label: 'fencing (lock expiry)', color: '#2ca02c' },
  { id: 'recover', from: 'fenceAck', to: 'recovery', label: 'recovery decision', color: '#17becf' },
  { id: 'restart', from: 'recovery', to: 'started', label: 'CRM restart', color: '#1f77b4' },
  { id: 'appStart', from: 'started', to: 'firstGood', label: 'guest + app start', color: '#9467bd' },
] as const satisfies ReadonlyArray<{ id: string; from: BoundaryId; to: BoundaryId; label: string; color: string }>;
export type PhaseId = (typeof PHASES)[number]['id'];

export interface Boundary {
  id: BoundaryId;
  label: string;
  /** Monotonic ms, or null when not observed. */
  at: number | null;
  sinceInjectMs: number | null;
  source: Observation | null;
  /** Other observations of the same boundary (lower priority), for cross-checking. */
  also: Observation[];
  reason?: string;
}

export interface Phase {
  id: PhaseId;
  label: string;
  from: BoundaryId;
  to: BoundaryId;
  ms: number | null;
  reason?: string;
}

export interface Downtime {
  /** Last good answer before → first good answer after (null: not measurable, see reason). */
  ms: number | null;
  /** Midpoint estimate of the real outage (± one probe interval). */
  estimateMs: number | null;
  /** Down at least this long (first → last failed probe). */
  lowerMs: number | null;
  reason?: string;
  outage: Outage | null;
}

export interface Timeline {
  trial: number;
  faultKind: string;
  target: string;
  sid: string;
  nodeBefore: string | null;
  /** Where the service ran afterwards (HA 'started' node, else the node named by the page). */
  nodeAfter: string | null;
  injectedAt: number;
  windowEnd: number;
  outcome: TrialRecord['outcome'];
  probeIntervalMs: number;
  boundaries: Boundary[];
  phases: Phase[];
  downtime: Downtime;
  /** inject → first good answer; inject → HA 'started'. */
  recoveryMs: number | null;
  haRecoveryMs: number | null;
  /** Outages after the one measured (flaps, failback). */
  laterOutages: Outage[];
  /** Other HA and libvirt events in the window (self-fence resets, LRM start…), for markers. */
  events: Observation[];
  /** Things a reader should know: out-of-order boundaries, failing before the fault, clock questions. */
  notes: string[];
}

type Found = { source: Observation | null; also: Observation[]; reason?: string };

/** Builds the timeline of `run.trials[index]` (or of the given trial). */
export function buildTimeline(run: Pick<RunRecord, 'clock'>, trial: TrialRecord): Timeline {
  const inj = trial.fault.injectedAt;
  const target = trial.fault.target;
  const sid = trial.service.sid;
  const notes = [...trial.notes];
  const journal = journalObservations(run, trial);
  const polls = pollObservations(trial);
  const nodeBefore = trial.service.nodeBefore ?? lastBefore(polls, inj)?.status.services[sid]?.node ?? null;
  const noHaData = journal.length === 0 && polls.length === 0;
  const haWhy = (what: string) =>
    noHaData
      ? `no CRM journal lines and no HA status polls recorded`
      : `no ${what} in ${journal.length} HA journal events and ${polls.length} status polls up to ${rel(trial.window.end, inj)}`;
  const serviceElsewhere = nodeBefore !== null && nodeBefore !== target ? `${sid} ran on ${nodeBefore}, not on the faulted node ${target}: no recovery expected` : undefined;

  const pick = (j: Observation | undefined, p: Observation | undefined, what: string, svc = false): Found => {
    const cands = [j, p].filter((x): x is Observation => x !== undefined);
    if (p && p.uncertaintyMs > p.t - inj) p.uncertaintyMs = Math.max(0, p.t - inj);
    if (j && p && p.t + 2000 < j.t) notes.push(`${what}: the poll saw it ${((j.t - p.t) / 1000).toFixed(1)} s before the journal time; node clock ahead of the host?`);
    if (cands[0]) return { source: cands[0], also: cands.slice(1) };
    return { source: null, also: [], reason: svc && serviceElsewhere ? serviceElsewhere : haWhy(what) };
  };
  const isSvc = (to: string) => (e: HaEvent) => e.kind === 'service-state' && e.sid === sid && e.to === to;
  const isNode = (to: string) => (e: HaEvent) => e.kind === 'node-state' && e.node === target && e.to === to;

  // HTTP: the outage that overlaps or follows the fault.
  const outages = findOutages(trial.http);
  const main = outages.find((o) => o.firstGood === null || o.firstGood.at > inj) ?? null;
  const later = main ? outages.filter((o) => o.firstFail.at > (main.firstGood?.at ?? Infinity)) : [];
  // A probe sent just before the fault and failed by it (in flight at the cut) is stamped at its send
  // time; users noticed no earlier than the fault itself, so that boundary is clamped to the fault.
  const inFlight = !!main && main.firstFail.at < inj && main.firstFail.at >= inj - trial.probe.timeoutMs;
  if (main && main.firstFail.at < inj && !inFlight) notes.push(`probes were already failing ${rel(main.firstFail.at, inj)} before the fault`);
  const after = trial.http.filter((s) => s.at >= inj);
  const httpObs = (s: Outage['firstFail'], what: string): Observation => {
    const full = trial.http.find((x) => x.seq === s.seq);
    const detail = full ? (full.ok ? `HTTP ${full.status}${full.node ? ` from ${full.node}` : ''}` : full.error ?? 'failed') : '';
    return { source: 'http', t: s.at, uncertaintyMs: trial.probe.intervalMs, ref: `http#${s.seq}`, text: `probe #${s.seq} ${what}: ${detail}` };
  };

  const firstFailObs = (s: Outage['firstFail']): Observation => {
    const o = httpObs(s, 'failed');
    return inFlight ? { ...o, t: inj, text: `${o.text} (sent ${rel(s.at, inj)}, in flight at the fault)` } : o;
  };

  const found: Record<BoundaryId, Found> = {
    injected: { source: { source: 'fault', t: inj, uncertaintyMs: 0, ref: 'fault', text: `${trial.fault.kind} on ${target}${trial.fault.detail ? ` (${trial.fault.detail})` : ''}` }, also: [] },
    firstFail: main
      ? { source: firstFailObs(main.firstFail), also: [] }
      : { source: null, also: [], reason: after.length === 0 ? 'no HTTP probes after the fault' : `no failed probe after the fault (${after.length} good probes until ${rel(after[after.length - 1]!.at, inj)})` },
    nodeUnknown: pick(firstJournal(journal, inj, isNode('unknown')), firstPoll(polls, inj, (s) => s.nodes[target] === 'unknown', `${target} unknown`), `'${target}' → unknown`),
    fence: pick(
      firstJournal(journal, inj, isSvc('fence')) ?? firstJournal(journal, inj, isNode('fence')),
      firstPoll(polls, inj, (s) => s.services[sid]?.state === 'fence' || s.nodes[target] === 'fence', `${sid} fence`),
      `'fence' of ${sid}`,
      true,
    ),
    fenceAck: { source: null, also: [] },
    recovery: { source: null, also: [] },
    started: { source: null, also: [] },
    firstGood: { source: null, also: [] },
  };
  // After 'fence', polls count only once a poll has itself seen the fence (a poll just after the
  // journal's fence line may still show the state before it).
  const fenceAt = found.fence.source?.t ?? inj;
  const fencePoll = firstPoll(polls, inj, (s) => s.services[sid]?.state === 'fence' || s.nodes[target] === 'fence', 'fence');
  const afterFence = fencePoll ? fencePoll.t + 1e-6 : Infinity;
  found.fenceAck = pick(
    firstJournal(journal, fenceAt, (e) => e.kind === 'fence-ack' && e.node === target) ??
      firstJournal(journal, fenceAt, (e) => e.kind === 'node-state' && e.node === target && e.from === 'fence'),
    firstPoll(polls, afterFence, (s) => s.nodes[target] !== 'fence' && s.services[sid]?.state !== 'fence', `fence of ${target} over`),
    `fencing acknowledgement for ${target}`,
    true,
  );
  found.recovery = pick(
    firstJournal(journal, fenceAt, isSvc('recovery')),
    firstPoll(polls, afterFence, (s) => s.services[sid] !== undefined && s.services[sid].state !== 'fence', `${sid} left 'fence' (upper bound: 'recovery' usually lasts less than a poll)`),
    `'recovery' of ${sid}`,
    true,
  );
  // Without knowing where the service ran before, only a start after a fence counts as "moved".
  const movedTo = (node: string | undefined) => node !== undefined && (nodeBefore === null || node !== nodeBefore);
  found.started = pick(
    firstJournal(journal, inj, (e) => e.kind === 'service-state' && e.sid === sid && e.to === 'started' && movedTo(e.node)),
    firstPoll(polls, nodeBefore === null ? afterFence : inj, (s) => s.services[sid]?.state === 'started' && movedTo(s.services[sid]?.node), `${sid} started elsewhere`),
    `'started' of ${sid} on another node`,
    true,
  );
  if (main?.firstGood) found.firstGood = { source: httpObs(main.firstGood, 'answered'), also: [] };
  else if (main) found.firstGood = { source: null, also: [], reason: `no good answer until ${rel(Math.max(trial.window.end, main.lastFail.at), inj)} (trial outcome: ${trial.outcome})` };
  else found.firstGood = { source: null, also: [], reason: found.firstFail.reason ?? 'no outage' };

  const boundaries: Boundary[] = BOUNDARIES.map((b) => {
    const f = found[b.id];
    const at = f.source?.t ?? null;
    const source = f.source ? slim(f.source) : null;
    return { id: b.id, label: b.label, at, sinceInjectMs: at === null ? null : at - inj, source, also: f.also.map(slim), ...(f.reason ? { reason: f.reason } : {}) };
  });
  const byId = new Map(boundaries.map((b) => [b.id, b]));
  const phases: Phase[] = PHASES.map((p) => {
    const a = byId.get(p.from)!;
    const b = byId.get(p.to)!;
    const base = { id: p.id, label: p.label, from: p.from, to: p.to };
    if (a.at === null || b.at === null) return { ...base, ms: null, reason: `no ${a.at === null ? a.label : b.label}` };
    // A journal line at whole seconds may precede an observation inside that second: allow its resolution.
    const slack = Math.max(a.source?.source === 'journal' ? a.source.uncertaintyMs : 0, b.source?.source === 'journal' ? b.source.uncertaintyMs : 0);
    if (b.at < a.at - slack) {
      notes.push(`${b.label} came ${((a.at - b.at) / 1000).toFixed(2)} s before ${a.label}`);
      return { ...base, ms: null, reason: `out of order: ${b.label} before ${a.label}` };
    }
    return { ...base, ms: Math.max(0, b.at - a.at) };
  });

  const startedNode = (() => {
    const e = (found.started.source as { event?: HaEvent } | null)?.event;
    if (e?.kind === 'service-state' && e.node) return e.node;
    const st = (found.started.source as { status?: { services: Record<string, { node: string }> } } | null)?.status;
    return st?.services[sid]?.node ?? null;
  })();
  const answeredBy = main?.firstGood ? trial.http.find((s) => s.seq === main.firstGood!.seq)?.node : undefined;
  const used = new Set(boundaries.flatMap((b) => [b.source?.ref, ...b.also.map((o) => o.ref)]));
  const events = [...journal.filter((o) => o.t >= inj && o.t <= trial.window.end && !used.has(o.ref)), ...libvirtObservations(trial)]
    .map(slim)
    .sort((a, b) => a.t - b.t);
  const firstGoodAt = byId.get('firstGood')!.at;
  const startedAt = byId.get('started')!.at;
  return {
    trial: trial.index,
    faultKind: trial.fault.kind,
    target,
    sid,
    nodeBefore,
    nodeAfter: startedNode ?? answeredBy ?? null,
    injectedAt: inj,
    windowEnd: trial.window.end,
    outcome: trial.outcome,
    probeIntervalMs: trial.probe.intervalMs,
    boundaries,
    phases,
    downtime: downtimeOf(main, found.firstFail.reason, found.firstGood.reason, after.length),
    recoveryMs: firstGoodAt === null ? null : firstGoodAt - inj,
    haRecoveryMs: startedAt === null ? null : startedAt - inj,
    laterOutages: later,
    events,
    notes,
  };
}

function downtimeOf(main: Outage | null, noFail: string | undefined, noGood: string | undefined, probesAfter: number): Downtime {
  if (!main) {
    if (probesAfter === 0) return { ms: null, estimateMs: null, lowerMs: null, reason: noFail ?? 'no probes', outage: null };
    // Every probe after the fault was answered: no outage longer than one probe interval.
    return { ms: 0, estimateMs: 0, lowerMs: 0, reason: noFail ?? 'no failed probe', outage: null };
  }
  if (!main.lastGood) return { ms: null, estimateMs: null, lowerMs: main.lowerMs, reason: 'no good answer before the outage (probing started during it)', outage: main };
  if (!main.firstGood) return { ms: null, estimateMs: null, lowerMs: main.lowerMs, reason: noGood ?? 'still down', outage: main };
  return { ms: main.downtimeMs, estimateMs: main.estimateMs, lowerMs: main.lowerMs, outage: main };
}

/** An observation without parser payloads (event objects, whole status snapshots). */
function slim({ source, t, uncertaintyMs, ref, text }: Observation): Observation {
  return { source, t, uncertaintyMs, ref, text };
}

function lastBefore<T extends { t: number }>(list: readonly T[], t: number): T | undefined {
  let best: T | undefined;
  for (const x of list) if (x.t < t) best = x;
  return best;
}
