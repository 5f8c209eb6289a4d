// Observations: the trial's raw data (journal text, status polls, libvirt events) put on the run's
// monotonic axis, each with where it came from and how precise its time is. Pure.
import { parseJournal, type HaEvent } from './ha-parse.js';
import { type HaStatus, type RunRecord, type TrialRecord, wallToMono } from './record.js';

export type SourceKind = 'fault' | 'http' | 'journal' | 'ha-poll' | 'libvirt';

/** One thing seen, placed on the monotonic axis. */
export interface Observation {
  source: SourceKind;
  /** Monotonic ms. */
  t: number;
  /**
   * How far the real moment can be from `t`: for a poll, it happened after the previous poll
   * (t − uncertaintyMs … t); for a journal line, within its timestamp resolution (t … t + uncertaintyMs).
   */
  uncertaintyMs: number;
  /** Stable reference into the record: "http#17", "journal:pve2:4", "ha#57", "libvirt#2", "fault". */
  ref: string;
  /** One line a human can check against the raw data. */
  text: string;
}

export interface JournalObservation extends Observation {
  source: 'journal';
  node: string;
  wallMs: number;
  event: HaEvent;
}

export interface PollObservation extends Observation {
  source: 'ha-poll';
  via: string;
  status: HaStatus;
}

/** HA journal lines of every capture, as events on the monotonic axis (lines without an HA event dropped). */
export function journalObservations(run: Pick<RunRecord, 'clock'>, trial: TrialRecord): JournalObservation[] {
  const out: JournalObservation[] = [];
  for (const cap of trial.journal) {
    const ctx = cap.format === 'syslog' ? { year: cap.year ?? new Date(trial.fault.injectedWall).getUTCFullYear(), utcOffsetMin: cap.utcOffsetMin ?? 0 } : undefined;
    const offset = trial.clockOffsetsMs?.[cap.node] ?? 0;
    parseJournal(cap.lines, ctx).forEach((l, i) => {
      if (!l.event) return;
      out.push({
        source: 'journal',
        t: wallToMono(run, l.wallMs, offset),
        uncertaintyMs: l.resolutionMs,
        ref: `journal:${cap.node}:${i}`,
        text: `journal ${cap.node} ${new Date(l.wallMs).toISOString().slice(11, l.resolutionMs < 1000 ? 23 : 19)}: ${l.text}`,
        node: cap.node,
        wallMs: l.wallMs,
        event: l.event,
      });
    });
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Successful status polls in time order, each with the gap since the poll before it. */
export function pollObservations(trial: TrialRecord): PollObservation[] {
  const ok = trial.ha
    .map((h, i) => ({ h, i }))
    .filter((x) => x.h.ok && x.h.status)
    .sort((a, b) => a.h.t - b.h.t);
  return ok.map(({ h, i }, k) => {
    const prev = k > 0 ? ok[k - 1]!.h.t : undefined;
    return {
      source: 'ha-poll',
      t: h.t,
      uncertaintyMs: prev === undefined ? 0 : h.t - prev,
      ref: `ha#${i}`,
      text: `HA status poll #${i} via ${h.via}`,
      via: h.via,
      status: h.status!,
    };
  });
}

/** libvirt events of one domain (all domains when undefined) as observations. */
export function libvirtObservations(trial: TrialRecord, domain?: string): Observation[] {
  return trial.libvirt
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => domain === undefined || e.domain === domain || e.node === domain)
    .map(({ e, i }) => ({
      source: 'libvirt' as const,
      t: e.t,
      uncertaintyMs: 0,
      ref: `libvirt#${i}`,
      text: `libvirt ${e.node ?? e.domain}: ${e.event}${e.detail ? ` (${e.detail})` : ''}`,
    }))
    .sort((a, b) => a.t - b.t);
}

/** First journal observation at or after `from` (less its resolution) matching `pred`. */
export function firstJournal(list: readonly JournalObservation[], from: number, pred: (e: HaEvent) => boolean): JournalObservation | undefined {
  return list.find((o) => o.t + o.uncertaintyMs >= from && pred(o.event));
}

/** First poll at or after `from` whose status satisfies `pred`, with the poll text describing what it saw. */
export function firstPoll(list: readonly PollObservation[], from: number, pred: (s: HaStatus) => boolean, what: string): PollObservation | undefined {
  const p = list.find((o) => o.t >= from && pred(o.status));
  return p ? { ...p, text: `${p.text}: ${what}` } : undefined;
}

/** Human label for a time relative to the fault: "+61.20 s". */
export function rel(t: number, origin: number): string {
  const s = (t - origin) / 1000;
  return `${s >= 0 ? '+' : '−'}${Math.abs(s).toFixed(2)} s`;
}
