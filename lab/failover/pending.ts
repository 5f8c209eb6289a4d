// Injected-but-not-healed faults, on disk: <lab state dir>/failover-pending.json.
// Ordering contract (the point of this file): the trial loop adds an entry BEFORE it injects a fault
// and removes it only AFTER the fault was healed. So whatever ends the process — an exception, Ctrl-C,
// kill -9, a power cut of the host — a fault that may be in effect is on disk, and `pvelab heal` (or the
// next `pvelab failover`, which heals first) undoes it. Healing an entry whose fault never took effect
// is harmless: every Fault.heal() is idempotent.
// Writes are atomic (temp + rename); callers hold the lab lock, so there is one writer at a time.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../core/errors.js';
import { writeFileAtomic } from '../core/state.js';
import { FAULT_KINDS, type Fault, type FaultKind, type FaultTarget } from './faults.js';

export const PENDING_FILE = 'failover-pending.json';

const entrySchema = z.object({
  fault: z.enum(FAULT_KINDS),
  node: z.string(),
  domain: z.string(),
  mac: z.string(),
  /** Who injected it and when (for the message `pvelab heal` prints). */
  pid: z.number().int(),
  since: z.string(),
  command: z.string().optional(),
});
export type PendingFault = z.infer<typeof entrySchema>;
const fileSchema = z.object({ schema: z.literal(1), pending: z.array(entrySchema) });

const same = (a: Pick<PendingFault, 'fault' | 'node'>, b: Pick<PendingFault, 'fault' | 'node'>) => a.fault === b.fault && a.node === b.node;

export class PendingFaults {
  readonly path: string;
  constructor(stateDir: string) {
    this.path = join(stateDir, PENDING_FILE);
  }

  async list(): Promise<PendingFault[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const r = fileSchema.safeParse((() => { try { return JSON.parse(text); } catch { return undefined; } })());
    if (!r.success) throw new LabError(`${this.path} is damaged`, { hint: 'check the lab with `pvelab status`, restore any broken node by hand (virsh domif-setlink/start/resume), then delete the file' });
    return r.data.pending;
  }

  /** Records a fault about to be injected (replaces an older entry for the same fault and node). */
  async add(fault: FaultKind, t: FaultTarget, command?: string): Promise<PendingFault> {
    const e: PendingFault = { fault, node: t.node, domain: t.domain, mac: t.mac, pid: process.pid, since: new Date().toISOString(), ...(command ? { command } : {}) };
    const all = (await this.list()).filter((x) => !same(x, e));
    await this.write([...all, e]);
    return e;
  }

  /** Forgets a healed fault. */
  async remove(e: Pick<PendingFault, 'fault' | 'node'>): Promise<void> {
    const all = await this.list();
    const rest = all.filter((x) => !same(x, e));
    if (rest.length !== all.length) await this.write(rest);
  }

  private write(pending: PendingFault[]): Promise<void> {
    return writeFileAtomic(this.path, JSON.stringify({ schema: 1, pending }, null, 2) + '\n', 0o600);
  }
}

export const targetOf = (e: PendingFault): FaultTarget => ({ node: e.node, domain: e.domain, mac: e.mac });

export interface HealResult {
  healed: PendingFault[];
  failed: Array<{ entry: PendingFault; error: string }>;
}

/**
 * Heals every pending fault (in the order they were injected) and removes each entry once healed.
 * A heal that fails keeps its entry and is reported; the others still run.
 */
export async function healPending(store: PendingFaults, faultOf: (kind: FaultKind) => Fault, log?: (line: string) => void): Promise<HealResult> {
  const out: HealResult = { healed: [], failed: [] };
  for (const e of await store.list()) {
    try {
      log?.(`healing ${e.fault} on ${e.node} (injected ${e.since} by pid ${e.pid}${e.command ? `, ${e.command}` : ''})`);
      await faultOf(e.fault).heal(targetOf(e));
      await store.remove(e);
      out.healed.push(e);
    } catch (err) {
      out.failed.push({ entry: e, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
