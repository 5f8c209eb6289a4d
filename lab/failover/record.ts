// The run record: everything one failover run observed, raw, schema-versioned (zod is the only
// definition). Effects (probes, pollers, the trial loop) produce it; everything after is pure
// (timeline.ts, stats.ts, report/*), so `pvelab report` re-renders old runs without a lab.
//
// Clocks: every `t`/`at` is host-monotonic milliseconds (performance.now() of the recording process);
// `wall` fields are epoch milliseconds for labels. `clock` anchors one to the other so journal lines
// (wall clock of a node) can be placed on the monotonic axis; `clockOffsetsMs[node]` (node clock minus
// host clock, measured by the trial loop) corrects node clock skew when known.
import { z } from 'zod';
import { LabError } from '../core/errors.js';

export const RUN_SCHEMA = 'pvelab.run';
export const RUN_SCHEMA_VERSION = 1;

/** One HTTP probe. Failed probes are placed at their send time, good ones at the answer's arrival. */
export const httpSampleSchema = z.object({
  seq: z.number().int().nonnegative(),
  /** Monotonic ms when the request was sent. */
  t: z.number(),
  /** Monotonic ms of the observation: answer arrival (ok) or send time (failed). */
  at: z.number(),
  /** Epoch ms at `t`. */
  wall: z.number(),
  ok: z.boolean(),
  status: z.number().int().optional(),
  rttMs: z.number().optional(),
  /** Which instance answered, from the page body (e.g. "hello from pve2"). */
  node: z.string().optional(),
  /** Why it failed: "timeout", "ECONNREFUSED", "HTTP 503", … */
  error: z.string().optional(),
});
export type HttpSample = z.infer<typeof httpSampleSchema>;

/** manager_status reduced to what the timeline needs (see ha-parse.ts). */
export const haStatusSchema = z.object({
  master: z.string().nullable(),
  quorate: z.boolean().nullable(),
  nodes: z.record(z.string(), z.string()),
  services: z.record(
    z.string(),
    z.object({ node: z.string(), state: z.string(), target: z.string().optional(), running: z.boolean().optional() }),
  ),
});
export type HaStatus = z.infer<typeof haStatusSchema>;

/** One poll of the HA manager status from a surviving node. */
export const haSnapshotSchema = z.object({
  t: z.number(),
  wall: z.number(),
  /** Node the status was read from. */
  via: z.string(),
  ok: z.boolean(),
  status: haStatusSchema.optional(),
  error: z.string().optional(),
});
export type HaSnapshot = z.infer<typeof haSnapshotSchema>;

/** A libvirt lifecycle (or reboot/watchdog) event of a node's domain. */
export const libvirtEventSchema = z.object({
  t: z.number(),
  wall: z.number(),
  domain: z.string(),
  node: z.string().optional(),
  /** "stopped", "started", "crashed", "reboot", "watchdog", … */
  event: z.string(),
  detail: z.string().optional(),
});
export type LibvirtEvent = z.infer<typeof libvirtEventSchema>;

/** Raw journal text read from one node after the trial (parsed later by ha-parse.ts). */
export const journalCaptureSchema = z.object({
  node: z.string(),
  /** short-iso: `journalctl -o short-iso[-precise]`; syslog: "Sep 08 15:29:23 host daemon[pid]: msg". */
  format: z.enum(['short-iso', 'syslog']),
  /** For syslog lines (no year, no zone): the year and the node's UTC offset in minutes. */
  year: z.number().int().optional(),
  utcOffsetMin: z.number().int().optional(),
  lines: z.array(z.string()),
  error: z.string().optional(),
});
export type JournalCapture = z.infer<typeof journalCaptureSchema>;

export const faultSchema = z.object({
  /** "node-poweroff", "link-down", "freeze", "storage-loss", … */
  kind: z.string(),
  /** Node the fault was applied to. */
  target: z.string(),
  injectedAt: z.number(),
  injectedWall: z.number(),
  healedAt: z.number().nullable(),
  detail: z.string().optional(),
});
export type FaultRecord = z.infer<typeof faultSchema>;

export const trialSchema = z.object({
  index: z.number().int().nonnegative(),
  fault: faultSchema,
  /** The HA service under test and the node it ran on just before the fault (null: unknown). */
  service: z.object({ sid: z.string(), url: z.string(), nodeBefore: z.string().nullable() }),
  probe: z.object({ intervalMs: z.number().positive(), timeoutMs: z.number().positive() }),
  /** Monotonic bounds of the observation window. */
  window: z.object({ start: z.number(), end: z.number() }),
  /** recovered: service answered again; timeout: gave up waiting; error/aborted: the loop failed. */
  outcome: z.enum(['recovered', 'timeout', 'error', 'aborted']),
  error: z.string().optional(),
  http: z.array(httpSampleSchema),
  ha: z.array(haSnapshotSchema),
  libvirt: z.array(libvirtEventSchema),
  journal: z.array(journalCaptureSchema),
  clockOffsetsMs: z.record(z.string(), z.number()).optional(),
  notes: z.array(z.string()).default([]),
});
export type TrialRecord = z.infer<typeof trialSchema>;
export type TrialInput = z.input<typeof trialSchema>;

export const runRecordSchema = z.object({
  schema: z.literal(RUN_SCHEMA),
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  /** Run id = directory name under runs/: "20240908T152923Z" (+ "-<scenario>" when given). */
  id: z.string(),
  createdAt: z.string(),
  pvelab: z.object({ version: z.string() }),
  /** `pveversion` output per node, and the common pve-manager version when they agree. */
  proxmox: z.object({ version: z.string().nullable(), nodes: z.record(z.string(), z.string()).default({}) }),
  host: z.object({ node: z.string(), kernel: z.string().optional(), qemu: z.string().optional(), libvirt: z.string().optional() }),
  /** sha256 of the lab file (or of the built-in default spec), so runs are tied to a lab layout. */
  lab: z.object({ name: z.string(), hash: z.string().nullable(), source: z.string() }),
  scenario: z.object({ id: z.string(), description: z.string().optional() }),
  clock: z.object({ wallMs: z.number(), monoMs: z.number() }),
  trials: z.array(trialSchema),
});
export type RunRecord = z.infer<typeof runRecordSchema>;
export type RunRecordInput = z.input<typeof runRecordSchema>;

/** Parses and validates a run.json text; says plainly when it is not a run or from a newer pvelab. */
export function parseRunRecord(text: string, file = 'run.json'): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new LabError(`${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const head = data as { schema?: unknown; schemaVersion?: unknown } | null;
  if (!head || head.schema !== RUN_SCHEMA) throw new LabError(`${file} is not a pvelab run record`, { hint: 'pass a run directory under runs/ or its run.json' });
  if (typeof head.schemaVersion === 'number' && head.schemaVersion > RUN_SCHEMA_VERSION) {
    throw new LabError(`${file} has run schema ${head.schemaVersion}; this pvelab reads up to ${RUN_SCHEMA_VERSION}`, { hint: 'update pvelab to re-render this run' });
  }
  const r = runRecordSchema.safeParse(data);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new LabError(`${file} is not a valid run record: ${first ? `${first.path.join('.')}: ${first.message}` : r.error.message}`);
  }
  return r.data;
}

/** Run id from a wall-clock time: 20240908T152923Z[-scenario]. */
export function runId(wallMs: number, scenario?: string): string {
  const base = new Date(wallMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return scenario ? `${base}-${scenario.replace(/[^A-Za-z0-9_.-]/g, '_')}` : base;
}

/** Monotonic ms for an epoch-ms time on `node`'s clock (offset = node clock minus host clock). */
export function wallToMono(run: Pick<RunRecord, 'clock'>, wallMs: number, offsetMs = 0): number {
  return run.clock.monoMs + (wallMs - offsetMs - run.clock.wallMs);
}

/** A URL with any user:password part removed (reports never carry credentials). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//');
  }
}
