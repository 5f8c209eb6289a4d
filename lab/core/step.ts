// The step contract. A step converges one piece of the lab:
//   check(): reads the world only (never the journal) and says done / todo / drift;
//   apply(): converges; safe to run again after a partial failure;
//   undo():  removes what the step created, found by our marks; like `rm -f`, succeeds when nothing is there.
import type { Lab, LabNames } from '../config/names.js';
import type { Runner } from '../exec/runner.js';
import type { Logger } from './log.js';
import type { LabState } from './state.js';

export type StepStatus =
  | { kind: 'done'; detail?: string }
  | { kind: 'todo'; reason: string }
  /** Exists but differs from the lab file: refuse, and say how to fix. */
  | { kind: 'drift'; detail: string; hint: string };

/**
 * Drivers that steps use. Each driver module adds its own member by declaration merging:
 *   declare module '../core/step.js' { interface Services { libvirt: LibvirtDriver } }
 * Steps receive drivers; they never construct them.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Services {}

export interface StepContext {
  readonly lab: Lab;
  readonly names: LabNames;
  readonly log: Logger;
  /** Runs commands on the host. */
  readonly host: Runner;
  readonly state: LabState;
  readonly signal: AbortSignal;
  readonly services: Partial<Services>;
  /** A line of progress for the current step (spinner text on a TTY, a log line otherwise). */
  progress(text: string): void;
  /** True for `plan` / `--dry-run`: apply() must not be called, describe() is. */
  readonly dryRun: boolean;
  /** `down --keep-cache`: undo keeps the downloaded ISO and template caches. */
  readonly keepCache?: boolean;
}

export interface Step {
  /** Stable journal key, e.g. "iscsi.target". */
  readonly id: string;
  /** Present-participle title, e.g. "Exporting the shared LUN over iSCSI". */
  readonly title: string;
  check(ctx: StepContext): Promise<StepStatus>;
  apply(ctx: StepContext): Promise<void>;
  undo?(ctx: StepContext): Promise<void>;
  /** What apply would do, as human-readable commands (secrets masked), for `plan`. */
  describe?(ctx: StepContext): string[] | Promise<string[]>;
}

/** Fetches a driver from the context, or fails with a clear internal error. */
export function need<K extends keyof Services>(ctx: StepContext, key: K): Services[K] {
  const s = ctx.services[key];
  if (s === undefined) throw new Error(`driver "${String(key)}" is not available in this context`);
  return s as Services[K];
}
