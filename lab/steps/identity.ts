// First step of every lab: records which lab file built it (hash + the file itself + the resolved
// network) and refuses to build over an existing lab whose lab file has changed — with the
// difference and the way out. Its undo, the last thing `down` does, removes the state directory.
import { createHash } from 'node:crypto';
import type { Step, StepContext, StepStatus } from '../core/step.js';

/** Canonical JSON (sorted keys) so the hash does not depend on key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export function labHash(lab: unknown): string {
  return createHash('sha256').update(canonical(lab)).digest('hex');
}

/** Field-by-field difference of two lab objects: ["nodeDefaults.memoryMiB: 4096 → 6144", …]. */
export function labDiff(before: unknown, after: unknown, path = ''): string[] {
  if (canonical(before) === canonical(after)) return [];
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => labDiff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length)
    return before.flatMap((b, i) => labDiff(b, after[i], `${path}[${i}]`));
  const show = (x: unknown) => (x === undefined ? '(unset)' : JSON.stringify(x));
  return [`${path || '(lab)'}: ${show(before)} → ${show(after)}`];
}

export const identityStep: Step = {
  id: 'lab.identity',
  title: 'Recording the lab',
  async check(ctx: StepContext): Promise<StepStatus> {
    const j = await ctx.state.readJournal();
    if (!j?.configHash) return { kind: 'todo', reason: `new lab "${ctx.lab.name}" on ${ctx.lab.network.cidr}` };
    if (j.configHash === labHash(ctx.lab)) return { kind: 'done', detail: `lab "${ctx.lab.name}" on ${ctx.lab.network.cidr}` };
    const diff = labDiff(j.config, ctx.lab);
    return {
      kind: 'drift',
      detail: `lab "${ctx.lab.name}" was built from a different lab file:\n${diff.map((d) => `    ${d}`).join('\n')}`,
      hint: 'restore the lab file as it was, or rebuild with the new one: `pvelab down` then `pvelab up` (a golden snapshot does not survive that)',
    };
  },
  async apply(ctx) {
    await ctx.state.updateJournal((j) => {
      j.configHash = labHash(ctx.lab);
      j.config = ctx.lab;
      j.cidr = ctx.lab.network.cidr;
    });
  },
  async undo(ctx) {
    await ctx.state.remove();
  },
  describe: (ctx) => [`record lab "${ctx.lab.name}" in ${ctx.state.journalPath}`],
};
