// The trial loop on a fake lab (failover-loop-fakes.ts): owner selection, the heal in every exit path
// (success, timeout, interrupt, exception, failed heal), the pending-fault record around each fault,
// and faults left pending by an earlier process healed before the first trial.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { InterruptedError, LabError, TimeoutError, UsageError } from '../../lab/core/errors.js';
import { memoryLogger } from '../../lab/core/log.js';
import type { LabNames } from '../../lab/config/names.js';
import { faultTarget } from '../../lab/failover/faults.js';
import { runFailover, type LoopEnv, type LoopOptions } from '../../lab/failover/loop.js';
import { PendingFaults, type PendingFault } from '../../lab/failover/pending.js';
import type { TrialRecord } from '../../lab/failover/record.js';
import { clockAnchor } from '../../lab/failover/run-meta.js';
import { buildTimeline } from '../../lab/failover/timeline.js';
import { FakeFault, FakeLab, fastOptions, testNames } from './failover-loop-fakes.js';

let dir: string;
let names: LabNames;
let lab: FakeLab;
let fault: FakeFault;
let pending: PendingFaults;
let ac: AbortController;
const seen: TrialRecord[] = [];
const atInject: PendingFault[][] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pvelab-loop-'));
  names = testNames(dir);
  lab = await new FakeLab(names).start();
  fault = new FakeFault(lab);
  pending = new PendingFaults(dir);
  ac = new AbortController();
  seen.length = 0;
  atInject.length = 0;
  fault.onInject = async () => void atInject.push(await pending.list());
});
afterEach(async () => {
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
});

function env(): LoopEnv {
  return { names, runner: (n) => lab.runner(n), url: lab.url, log: memoryLogger(), signal: ac.signal, faults: () => fault, pending, clock: clockAnchor(), command: 'test' };
}
function opts(over: Partial<LoopOptions> = {}): LoopOptions {
  return fastOptions({ onTrial: async (t) => void seen.push(t), ...over });
}

// Short real clock: milliseconds per phase, but a loaded machine may stretch a test to seconds.
describe('runFailover', { timeout: 30_000 }, () => {
  test('each trial cuts the node running the service at that moment, records the outage and heals', async () => {
    const trials = await runFailover(env(), opts({ trials: 2 }));
    expect(fault.calls).toEqual(['inject pve1', 'heal pve1', 'inject pve2', 'heal pve2']);
    expect(trials.map((t) => [t.fault.target, t.service.nodeBefore, t.outcome])).toEqual([['pve1', 'pve1', 'recovered'], ['pve2', 'pve2', 'recovered']]);
    expect(seen).toEqual(trials);
    for (const t of trials) {
      expect(t.fault.healedAt).toBeGreaterThan(t.fault.injectedAt);
      const tl = buildTimeline({ clock: clockAnchor() }, t);
      expect(tl.downtime.ms).toBeGreaterThan(0);
      expect(tl.boundaries.find((b) => b.id === 'firstGood')!.at).toBeGreaterThan(t.fault.injectedAt);
      // HA was polled from the other nodes only, and saw the service move.
      expect(new Set(t.ha.map((h) => h.via)).has(t.fault.target)).toBe(false);
      expect(tl.nodeAfter).not.toBe(t.fault.target);
    }
    // The pending record named the fault before it was injected and is gone after the heal.
    expect(atInject.map((p) => p.map((e) => `${e.fault} ${e.node}`))).toEqual([['link-down pve1'], ['link-down pve2']]);
    expect(await pending.list()).toEqual([]);
  });

  test('--node NAME cuts that node even when the service runs elsewhere; no outage → timeout, still healed', async () => {
    const [t] = await runFailover(env(), opts({ node: 'pve3', trialTimeoutMs: 300 }));
    expect(fault.calls).toEqual(['inject pve3', 'heal pve3']);
    expect(t).toMatchObject({ fault: { target: 'pve3' }, service: { nodeBefore: 'pve1' }, outcome: 'timeout' });
    expect(t!.http.every((s) => s.ok)).toBe(true);
  });

  test('an unknown --node is a usage error before anything happens', async () => {
    await expect(runFailover(env(), opts({ node: 'pve9' }))).rejects.toThrow(UsageError);
    expect(fault.calls).toEqual([]);
  });

  test('timeout: the guest does not come back while the fault lasts; healed, the lab settles, the next trial runs', async () => {
    lab.recovers = false;
    const trials = await runFailover(env(), opts({ trials: 2, trialTimeoutMs: 250 }));
    expect(trials.map((t) => t.outcome)).toEqual(['timeout', 'timeout']);
    expect(fault.calls).toEqual(['inject pve1', 'heal pve1', 'inject pve1', 'heal pve1']);
    expect(trials[0]!.notes.join('\n')).toMatch(/did not answer again/);
    expect(await pending.list()).toEqual([]);
  });

  test('interrupt (Ctrl-C) while recording: healed, trial kept as aborted, InterruptedError, no pending fault', async () => {
    lab.recovers = false;
    fault.onInject = () => void setTimeout(() => ac.abort(), 80);
    await expect(runFailover(env(), opts({ trials: 3 }))).rejects.toThrow(InterruptedError);
    expect(fault.calls).toEqual(['inject pve1', 'heal pve1']);
    expect(seen.map((t) => t.outcome)).toEqual(['aborted']);
    expect(seen[0]!.fault.healedAt).not.toBeNull();
    expect(await pending.list()).toEqual([]);
  });

  test('an exception inside the trial: healed, trial kept with the error, the exception ends the run', async () => {
    fault.failInject = true;
    await expect(runFailover(env(), opts({ trials: 2 }))).rejects.toThrow(/connection lost while injecting/);
    expect(fault.calls).toEqual(['inject pve1', 'heal pve1']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ outcome: 'error', error: expect.stringMatching(/connection lost/) });
    expect(seen[0]!.fault.healedAt).not.toBeNull();
    expect(await pending.list()).toEqual([]);
  });

  test('a failed heal keeps the pending record and says `pvelab heal`', async () => {
    fault.failHeal = true;
    const err = await runFailover(env(), opts({ trials: 2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/could not heal link-down on pve1/);
    expect((err as LabError).hint).toMatch(/pvelab heal/);
    expect(fault.calls).toEqual(['inject pve1', 'heal pve1']);
    expect(seen[0]!.notes.join('\n')).toMatch(/healing failed/);
    expect((await pending.list()).map((e) => `${e.fault} ${e.node}`)).toEqual(['link-down pve1']);
  });

  test('a fault left pending by a killed run is healed before the first trial', async () => {
    const pve3 = faultTarget(names.nodes[2]!);
    await pending.add('link-down', pve3, 'earlier run');
    lab.cutNode('pve3');
    const [t] = await runFailover(env(), opts());
    expect(fault.calls).toEqual(['heal pve3', 'inject pve1', 'heal pve1']);
    expect(t!.outcome).toBe('recovered');
    expect(await pending.list()).toEqual([]);
  });

  test('health gate: a lab that is not quorate times out and nothing is injected', async () => {
    lab.quorate = false;
    const err = await runFailover(env(), opts({ healthTimeoutMs: 150 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).lastObserved).toMatch(/not quorate/);
    expect(fault.calls).toEqual([]);
    expect(await pending.list()).toEqual([]);
  });

  test('interrupt during the baseline before the fault: nothing injected, nothing pending, InterruptedError', async () => {
    const e = env();
    const log = memoryLogger();
    e.log = { ...log, info: (m: string) => (log.info(m), m.startsWith('trial 1/') ? void setTimeout(() => ac.abort(), 20) : undefined) };
    await expect(runFailover(e, opts({ baselineMs: 2000 }))).rejects.toThrow(/no fault was injected/);
    expect(fault.calls).toEqual([]);
    expect(seen).toEqual([]);
    expect(await pending.list()).toEqual([]);
  });

  test('interrupt while waiting at the gate: nothing to heal, InterruptedError', async () => {
    lab.service.state = 'fence';
    setTimeout(() => ac.abort(), 50);
    await expect(runFailover(env(), opts())).rejects.toThrow(InterruptedError);
    expect(fault.calls).toEqual([]);
  });
});
