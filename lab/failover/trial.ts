// One trial's recording session: what the trial loop calls, in this order —
//   const s = startTrial({...});          // probes (+ HA polls) start; window opens
//   await s.inject(fault, () => …);        // timestamps the fault around the call
//   s.libvirtEvent({...}) / s.note(...)    // as they happen
//   const w = await s.waitRecovered({...});// first good answer after the outage, stable for stableMs
//   await s.heal(() => …);                 // if the fault is healed
//   await s.stop();                        // probes and polls end; window closes
//   s.addJournal(await readJournalCapture(runner, node, s.sinceWall(), Date.now()));
//   s.setClockOffset(node, (await clockOffset(runner)).offsetMs);   // run-meta.ts
//   const trial = s.record(w.outcome);     // → TrialRecord for newRunRecord()
import type { Runner } from '../exec/runner.js';
import { sleep } from '../core/wait.js';
import { journalArgv } from './ha-parse.js';
import { startHaPoller, type HaPoller } from './ha-poll.js';
import { OutageTracker, type Outage } from './outages.js';
import { startHttpProbe, type HttpProbe } from './probe-http.js';
import { redactUrl, trialSchema, type FaultRecord, type JournalCapture, type LibvirtEvent, type TrialRecord } from './record.js';

export interface TrialOptions {
  index: number;
  url: string;
  sid: string;
  /** Node running the service just before the fault, if known (else taken from the HA polls). */
  nodeBefore?: string | null;
  intervalMs: number;
  timeoutMs: number;
  /** Surviving nodes to read manager_status from (omit to record no polls). */
  haRunners?: readonly Runner[];
  haIntervalMs?: number;
  nodePattern?: RegExp;
  signal?: AbortSignal | undefined;
}

export type WaitOutcome = { outcome: 'recovered' | 'timeout' | 'aborted'; outage: Outage | null };

export interface TrialSession {
  inject<T>(fault: { kind: string; target: string; detail?: string }, act: () => Promise<T>): Promise<T>;
  heal<T>(act: () => Promise<T>): Promise<T>;
  libvirtEvent(e: Omit<LibvirtEvent, 't' | 'wall'>): void;
  note(text: string): void;
  /** Resolves once an outage that began after the fault has ended and no probe failed for stableMs. */
  waitRecovered(opts: { timeoutMs: number; stableMs: number }): Promise<WaitOutcome>;
  stop(): Promise<void>;
  /** Wall-clock ms when the window opened (for the journal query). */
  sinceWall(): number;
  addJournal(capture: JournalCapture): void;
  /** Node clock minus host clock (from run-meta clockOffset()), applied to that node's journal times. */
  setClockOffset(node: string, offsetMs: number): void;
  record(outcome: TrialRecord['outcome'], error?: string): TrialRecord;
}

export function startTrial(o: TrialOptions): TrialSession {
  const windowStart = performance.now();
  const startWall = Date.now();
  const tracker = new OutageTracker(o.timeoutMs + 50);
  let lastFailAt = -Infinity;
  const probe: HttpProbe = startHttpProbe({
    url: o.url,
    intervalMs: o.intervalMs,
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    ...(o.nodePattern ? { nodePattern: o.nodePattern } : {}),
    onSample: (s) => {
      tracker.push(s);
      if (!s.ok) lastFailAt = Math.max(lastFailAt, s.at);
    },
  });
  const poller: HaPoller | undefined = o.haRunners?.length ? startHaPoller({ runners: o.haRunners, intervalMs: o.haIntervalMs ?? 1000, signal: o.signal }) : undefined;
  let fault: FaultRecord | undefined;
  let windowEnd: number | undefined;
  const libvirt: LibvirtEvent[] = [];
  const journal: JournalCapture[] = [];
  const notes: string[] = [];
  const clockOffsetsMs: Record<string, number> = {};
  let stopped: Promise<void> | undefined;
  let http: TrialRecord['http'] = [];
  let ha: TrialRecord['ha'] = [];

  return {
    async inject(f, act) {
      const injectedAt = performance.now();
      const injectedWall = Date.now();
      fault = { kind: f.kind, target: f.target, injectedAt, injectedWall, healedAt: null, ...(f.detail ? { detail: f.detail } : {}) };
      const r = await act();
      const took = performance.now() - injectedAt;
      if (took > 2 * o.intervalMs) notes.push(`injecting the fault took ${Math.round(took)} ms; its time is when the call started`);
      return r;
    },
    async heal(act) {
      const t = performance.now();
      const r = await act();
      if (fault) fault.healedAt = t;
      return r;
    },
    libvirtEvent(e) {
      libvirt.push({ t: performance.now(), wall: Date.now(), ...e });
    },
    note(text) {
      notes.push(text);
    },
    async waitRecovered({ timeoutMs, stableMs }) {
      const from = fault?.injectedAt ?? windowStart;
      const deadline = performance.now() + timeoutMs;
      let ended: Outage | null = null;
      for (;;) {
        if (o.signal?.aborted) return { outcome: 'aborted', outage: ended ?? tracker.current() };
        const now = performance.now();
        for (const out of tracker.advance(now)) if (out.firstGood && out.firstGood.at > from) ended = out;
        if (ended && now - Math.max(lastFailAt, ended.firstGood!.at) >= Math.max(stableMs, o.timeoutMs + 50) && lastFailAt <= ended.firstGood!.at) return { outcome: 'recovered', outage: ended };
        if (now >= deadline) return { outcome: 'timeout', outage: ended ?? tracker.current() };
        await sleep(Math.min(100, deadline - now), o.signal);
      }
    },
    stop() {
      return (stopped ??= (async () => {
        [http, ha] = await Promise.all([probe.stop(), poller?.stop() ?? Promise.resolve([])]);
        windowEnd = performance.now();
        if (probe.skipped > 0) notes.push(`${probe.skipped} probe ticks skipped (event loop late by more than one interval)`);
      })());
    },
    sinceWall: () => startWall,
    addJournal(c) {
      journal.push(c);
    },
    setClockOffset(node, offsetMs) {
      clockOffsetsMs[node] = offsetMs;
    },
    record(outcome, error) {
      if (!fault) throw new Error('TrialSession.record: no fault was injected');
      if (!stopped) throw new Error('TrialSession.record: call stop() first');
      return trialSchema.parse({
        index: o.index,
        fault,
        service: { sid: o.sid, url: redactUrl(o.url), nodeBefore: o.nodeBefore ?? null },
        probe: { intervalMs: o.intervalMs, timeoutMs: o.timeoutMs },
        window: { start: windowStart, end: windowEnd ?? performance.now() },
        outcome,
        ...(error ? { error } : {}),
        http,
        ha,
        libvirt,
        journal,
        ...(Object.keys(clockOffsetsMs).length ? { clockOffsetsMs } : {}),
        notes,
      });
    },
  };
}

/** Reads the HA daemons' journal of `node` for [sinceWall, untilWall]; a failure is recorded, not thrown. */
export async function readJournalCapture(runner: Runner, node: string, sinceWall: number, untilWall: number): Promise<JournalCapture> {
  try {
    const r = await runner.run(journalArgv(sinceWall, untilWall), { timeoutMs: 30_000 });
    return { node, format: 'short-iso', lines: r.stdout.split('\n').filter((l) => l.trim() !== '') };
  } catch (err) {
    return { node, format: 'short-iso', lines: [], error: err instanceof Error ? err.message : String(err) };
  }
}
