// What a run record says about where it came from: pvelab and Proxmox versions, host, lab file hash,
// the clock anchor, and node clock offsets. The effectful half of record.ts (reads files, runs commands).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { release } from 'node:os';
import type { Runner } from '../exec/runner.js';
import { RUN_SCHEMA, RUN_SCHEMA_VERSION, runId, runRecordSchema, type RunRecord, type TrialRecord } from './record.js';

/** pvelab's version from package.json (lab/failover or dist/lab/failover layout). */
export function pvelabVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'pvelab' && pkg.version) return pkg.version;
    } catch {
      /* next layout */
    }
  }
  return '0.0.0';
}

/** Stable JSON (sorted keys) for hashing specs. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** "sha256:<hex>" of the lab file's bytes, or of the resolved spec when it came from no file. */
export async function labHash(source: { file?: string | undefined; spec: unknown }): Promise<string> {
  const h = createHash('sha256');
  if (source.file) h.update(await readFile(source.file));
  else h.update(canonical(source.spec));
  return `sha256:${h.digest('hex')}`;
}

/** Monotonic and wall clock read together: the anchor that places wall-clock journal lines. */
export function clockAnchor(): RunRecord['clock'] {
  const a = performance.now();
  const wallMs = Date.now();
  const b = performance.now();
  return { wallMs, monoMs: (a + b) / 2 };
}

/** `pveversion` per node (first line) and the common pve-manager version when all agree. */
export async function proxmoxVersions(nodes: Readonly<Record<string, Runner>>): Promise<RunRecord['proxmox']> {
  const out: Record<string, string> = {};
  for (const [node, r] of Object.entries(nodes)) {
    const res = await r.run(['pveversion'], { timeoutMs: 20_000 }).catch(() => undefined);
    const line = res?.stdout.trim().split('\n')[0];
    if (line) out[node] = line;
  }
  const managers = new Set(Object.values(out).map((l) => /^pve-manager\/([^/\s]+)/.exec(l)?.[1] ?? l));
  return { version: managers.size === 1 ? [...managers][0]! : null, nodes: out };
}

/**
 * Node clock minus host clock in ms, from `date +%s%N` on the node, taking the host time at the
 * midpoint of the command's round trip (best of `tries`, the shortest round trip).
 */
export async function clockOffset(node: Runner, tries = 3): Promise<{ offsetMs: number; rttMs: number }> {
  let best: { offsetMs: number; rttMs: number } | undefined;
  for (let i = 0; i < tries; i++) {
    const w0 = Date.now();
    const t0 = performance.now();
    const r = await node.run(['date', '+%s%N'], { timeoutMs: 10_000 });
    const rtt = performance.now() - t0;
    const nodeMs = Number(BigInt(r.stdout.trim()) / 1_000_000n);
    const off = nodeMs - (w0 + rtt / 2);
    if (!best || rtt < best.rttMs) best = { offsetMs: off, rttMs: rtt };
  }
  return best!;
}

export interface NewRun {
  scenario: RunRecord['scenario'];
  lab: RunRecord['lab'];
  proxmox?: RunRecord['proxmox'];
  host?: Partial<RunRecord['host']>;
  clock: RunRecord['clock'];
  trials: TrialRecord[];
}

/** Assembles and validates a run record (throws on a malformed trial: a bug in the caller). */
export function newRunRecord(r: NewRun): RunRecord {
  return runRecordSchema.parse({
    schema: RUN_SCHEMA,
    schemaVersion: RUN_SCHEMA_VERSION,
    id: runId(r.clock.wallMs, r.scenario.id),
    createdAt: new Date(r.clock.wallMs).toISOString(),
    pvelab: { version: pvelabVersion() },
    proxmox: r.proxmox ?? { version: null, nodes: {} },
    host: { node: process.version, kernel: release(), ...r.host },
    lab: r.lab,
    scenario: r.scenario,
    clock: r.clock,
    trials: r.trials,
  });
}
