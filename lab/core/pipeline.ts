// Runs one ordered list of steps. up: check → (done: skip) → apply → check again → journal.
// down: every step's undo in reverse order. plan: check and describe, never apply.
// listr2 draws the progress on a TTY (the only module that imports listr2); plain timestamped lines otherwise.
import { Listr, type ListrTask } from 'listr2';
import { InterruptedError, LabError, formatMs } from './errors.js';
import { mask } from './secrets.js';
import type { Step, StepContext, StepStatus } from './step.js';

/** A step whose apply() returned but whose check() still does not say done. */
export class StepDidNotConvergeError extends LabError {}

/** A step found something of ours that differs from the lab file. */
export class DriftError extends LabError {}

export type StepOutcome = { id: string; title: string; result: 'already done' | 'applied' | 'undone' | 'failed' | 'would apply' | 'done'; detail?: string; ms: number; commands?: string[] };

export interface RunOptions {
  /** Use listr2's interactive renderer (TTY) instead of plain lines. */
  interactive?: boolean;
}

async function upOne(step: Step, ctx: StepContext): Promise<StepOutcome> {
  const t0 = performance.now();
  const before = await step.check(ctx);
  if (before.kind === 'done') return { id: step.id, title: step.title, result: 'already done', detail: before.detail, ms: performance.now() - t0 };
  if (before.kind === 'drift') throw new DriftError(`${step.title}: ${before.detail}`, { hint: before.hint });
  ctx.progress(before.reason);
  await ctx.state.recordStep(step.id, { status: 'running', startedAt: new Date().toISOString() });
  try {
    await step.apply(ctx);
    const after = await step.check(ctx);
    if (after.kind !== 'done')
      throw new StepDidNotConvergeError(`${step.title}: still not done after applying (${describeStatus(after)})`, {
        hint: 'run again with -vv to see the commands; `pvelab up` resumes here',
      });
    await ctx.state.recordStep(step.id, { status: 'done', endedAt: new Date().toISOString() });
    return { id: step.id, title: step.title, result: 'applied', detail: after.detail, ms: performance.now() - t0 };
  } catch (err) {
    await ctx.state.recordStep(step.id, { status: 'failed', endedAt: new Date().toISOString(), error: mask(err instanceof Error ? err.message : String(err)) });
    throw err;
  }
}

async function downOne(step: Step, ctx: StepContext): Promise<StepOutcome> {
  const t0 = performance.now();
  if (step.undo) await step.undo(ctx);
  return { id: step.id, title: step.title, result: 'undone', ms: performance.now() - t0 };
}

async function planOne(step: Step, ctx: StepContext): Promise<StepOutcome> {
  const t0 = performance.now();
  const st = await step.check(ctx).catch((err: unknown): StepStatus => ({ kind: 'todo', reason: `cannot check yet: ${err instanceof Error ? err.message : String(err)}` }));
  let commands: string[] = [];
  if (st.kind !== 'done') {
    try {
      commands = ((await step.describe?.(ctx)) ?? []).map(mask);
    } catch (err) {
      commands = [`(cannot list the commands yet: ${mask(err instanceof Error ? err.message : String(err))})`];
    }
  }
  return { id: step.id, title: step.title, result: st.kind === 'done' ? 'done' : 'would apply', detail: describeStatus(st), ms: performance.now() - t0, commands };
}

export function describeStatus(s: StepStatus): string {
  return s.kind === 'done' ? (s.detail ?? 'done') : s.kind === 'todo' ? s.reason : `drift: ${s.detail}`;
}

type Action = (step: Step, ctx: StepContext) => Promise<StepOutcome>;

/** Runs the steps in order with `action`, stopping at the first failure (which is rethrown). */
async function runAll(steps: readonly Step[], makeCtx: (s: Step, progress: (t: string) => void) => StepContext, action: Action, opts: RunOptions, verb: string): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  if (opts.interactive) {
    const tasks: ListrTask[] = steps.map((step) => ({
      title: step.title,
      task: async (_c, task) => {
        const ctx = makeCtx(step, (t) => { task.output = mask(t); });
        if (ctx.signal.aborted) throw new InterruptedError('interrupted');
        const o = await action(step, ctx);
        outcomes.push(o);
        if (o.result === 'already done' || o.result === 'done') task.skip(`${step.title} — already done`);
        else task.title = `${step.title} — ${o.result} (${formatMs(o.ms)})`;
      },
    }));
    await new Listr(tasks, { concurrent: false, exitOnError: true, rendererOptions: { collapseSubtasks: false } }).run();
    return outcomes;
  }
  for (const step of steps) {
    const first = makeCtx(step, () => {});
    if (first.signal.aborted) throw new InterruptedError(`interrupted before: ${step.title}`);
    first.log.info(`▸ ${step.title}`);
    const ctx = makeCtx(step, (t) => first.log.info(`  ${t}`));
    try {
      const o = await action(step, ctx);
      outcomes.push(o);
      ctx.log.info(`  ${o.result}${o.detail && o.result !== 'applied' ? `: ${o.detail}` : ''} (${formatMs(o.ms)})`);
      for (const c of o.commands ?? []) ctx.log.info(`    $ ${c}`);
    } catch (err) {
      ctx.log.info(`  ✗ ${verb} failed`);
      throw err;
    }
  }
  return outcomes;
}

export function runUp(steps: readonly Step[], makeCtx: (s: Step, p: (t: string) => void) => StepContext, opts: RunOptions = {}): Promise<StepOutcome[]> {
  return runAll(steps, makeCtx, upOne, opts, 'step');
}

/** Undo in reverse order. Every undo runs even if one fails; the failures are reported together. */
export async function runDown(steps: readonly Step[], makeCtx: (s: Step, p: (t: string) => void) => StepContext, opts: RunOptions = {}): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  const errors: unknown[] = [];
  for (const step of [...steps].reverse()) {
    try {
      outcomes.push(...(await runAll([step], makeCtx, downOne, opts, 'undo')));
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      errors.push(err);
      outcomes.push({ id: step.id, title: step.title, result: 'failed', detail: err instanceof Error ? err.message : String(err), ms: 0 });
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new LabError(`${errors.length} steps could not be undone:\n${errors.map((e) => `  - ${e instanceof Error ? e.message : String(e)}`).join('\n')}`, { hint: 'fix the cause and run `pvelab down` again; it only removes what is still there' });
  return outcomes;
}

/** Checks every step and collects what the undone ones would do; prints nothing (the caller renders). */
export async function runPlan(steps: readonly Step[], makeCtx: (s: Step, p: (t: string) => void) => StepContext): Promise<StepOutcome[]> {
  const out: StepOutcome[] = [];
  for (const step of steps) out.push(await planOne(step, makeCtx(step, () => {})));
  return out;
}
