import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDown, runPlan, runUp, StepDidNotConvergeError, DriftError } from '../../lab/core/pipeline.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { Step, StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { defaultLab, resolveLab } from '../../lab/config/load.js';
import { labNames } from '../../lab/config/names.js';

function world() {
  const things = new Set<string>();
  const lab = resolveLab(defaultLab(), []);
  const log = memoryLogger();
  const state = new LabState(mkdtempSync(join(tmpdir(), 'pvelab-pipe-')), 'lab');
  const make = (_s: Step, progress: (t: string) => void): StepContext => ({
    lab, names: labNames(lab, '/tmp/x'), log, host: new LocalRunner(), state, signal: new AbortController().signal, services: {}, progress, dryRun: false,
  });
  const step = (id: string, opts: { broken?: boolean; drift?: boolean } = {}): Step => ({
    id,
    title: `Making ${id}`,
    check: async () => (opts.drift ? { kind: 'drift', detail: `${id} differs`, hint: 'run pvelab down' } : things.has(id) ? { kind: 'done' } : { kind: 'todo', reason: `${id} missing` }),
    apply: async () => { if (!opts.broken) things.add(id); },
    undo: async () => { things.delete(id); },
    describe: () => [`create ${id}`],
  });
  return { things, make, step, log, state };
}

describe('pipeline', () => {
  it('applies missing steps, skips done ones, and a second run changes nothing', async () => {
    const w = world();
    const steps = [w.step('a'), w.step('b')];
    const first = await runUp(steps, w.make);
    expect(first.map((o) => o.result)).toEqual(['applied', 'applied']);
    const second = await runUp(steps, w.make);
    expect(second.map((o) => o.result)).toEqual(['already done', 'already done']);
    expect((await w.state.readJournal())!.steps['b']!.status).toBe('done');
  });

  it('resumes after a failure at the failed step', async () => {
    const w = world();
    await expect(runUp([w.step('a'), w.step('b', { broken: true }), w.step('c')], w.make)).rejects.toBeInstanceOf(StepDidNotConvergeError);
    expect([...w.things]).toEqual(['a']);
    expect((await w.state.readJournal())!.steps['b']!.status).toBe('failed');
    const again = await runUp([w.step('a'), w.step('b'), w.step('c')], w.make);
    expect(again.map((o) => o.result)).toEqual(['already done', 'applied', 'applied']);
  });

  it('refuses drift with its hint', async () => {
    const w = world();
    await expect(runUp([w.step('a', { drift: true })], w.make)).rejects.toThrow(DriftError);
  });

  it('undoes in reverse order, twice without error', async () => {
    const w = world();
    const order: string[] = [];
    const steps = ['a', 'b', 'c'].map((id) => ({ ...w.step(id), undo: async () => { order.push(id); w.things.delete(id); } }));
    await runUp(steps, w.make);
    await runDown(steps, w.make);
    await runDown(steps, w.make);
    expect(order).toEqual(['c', 'b', 'a', 'c', 'b', 'a']);
    expect(w.things.size).toBe(0);
  });

  it('keeps undoing after one undo fails, then reports it', async () => {
    const w = world();
    const steps = [w.step('a'), { ...w.step('b'), undo: async () => { throw new Error('b is stuck'); } }, w.step('c')];
    await runUp(steps, w.make);
    await expect(runDown(steps, w.make)).rejects.toThrow('b is stuck');
    expect(w.things.has('a')).toBe(false);
    expect(w.things.has('c')).toBe(false);
  });

  it('plans without applying and lists the commands', async () => {
    const w = world();
    const out = await runPlan([w.step('a')], w.make);
    expect(out[0]).toMatchObject({ result: 'would apply', commands: ['create a'] });
    expect(w.things.size).toBe(0);
  });
});
