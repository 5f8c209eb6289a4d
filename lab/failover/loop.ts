// The failover trial loop. Per trial, in this order:
//   1. gate: wait until the lab is healthy (quorate, all nodes online, HA service started, page 200) and
//      read the owner of the service from the HA manager;
//   2. start the recording session (HTTP probes, HA polls from the other nodes, libvirt events) and
//      let it record baselineMs of normal service, so the outage has a last good answer before it;
//   3. write the pending-fault record, THEN inject the fault on the owner (or the named node);
//   4. record until the guest answers again (stable) or the trial timeout; storage-loss (nothing
//      recovers while it lasts) is healed after the hold time and the recovery is recorded;
//   5. heal — in `finally`: on success, timeout, Ctrl-C (env.signal) and on any exception — and only
//      then remove the pending record; stop the session, read the HA journals, hand the trial on;
//   6. settle: the node answers SSH again, the gate holds again, then settleMs of quiet.
// Healing never uses env.signal (an interrupt must not stop the heal). Before the first trial, faults
// left pending by an earlier process (crash, kill -9) are healed.
// Errors: an interrupt ends the run with InterruptedError after the heal; an exception ends it after
// the heal with that exception; a failed heal ends it with a LabError naming `pvelab heal`. The trial
// is handed to onTrial in every case, so the run record keeps it.
import type { LabNames } from '../config/names.js';
import { InterruptedError, LabError, UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { sleep } from '../core/wait.js';
import type { LibvirtDriver } from '../libvirt/driver.js';
import { formatDuration } from './duration.js';
import { faultTarget, type Fault, type FaultKind, type FaultTarget } from './faults.js';
import { type LabAccess, waitHealthy, waitNodeBack } from './health.js';
import { healPending, type PendingFaults } from './pending.js';
import type { RunRecord, TrialRecord } from './record.js';
import { clockOffset } from './run-meta.js';
import { buildTimeline } from './timeline.js';
import { readJournalCapture, startTrial, type TrialSession } from './trial.js';

export interface LoopEnv extends LabAccess {
  log: Logger;
  signal: AbortSignal;
  /** The fault implementation of each kind (pending records of an earlier run may name any kind). */
  faults: (kind: FaultKind) => Fault;
  pending: PendingFaults;
  libvirt?: Pick<LibvirtDriver, 'onLifecycle'> | undefined;
  /** Run clock anchor (for the per-trial log line). */
  clock: RunRecord['clock'];
  /** Shown in the pending record ("pvelab failover"). */
  command?: string;
}

export interface LoopOptions {
  fault: FaultKind;
  trials: number;
  /** "owner" (the node running the service at the start of each trial) or a node name. */
  node: string;
  intervalMs: number;
  probeTimeoutMs: number;
  trialTimeoutMs: number;
  /** The guest must answer this long without a failure to count as recovered. */
  stableMs: number;
  settleMs: number;
  /** Recording before the fault (good answers before the outage bound the downtime). */
  baselineMs: number;
  /** storage-loss: how long the LUN stays offline. */
  holdMs: number;
  haIntervalMs: number;
  /** Gate and HA settle wait. */
  healthTimeoutMs: number;
  /** Node answers SSH again after the heal. */
  nodeTimeoutMs: number;
  /** Poll interval of the gate/settle waits. */
  waitIntervalMs: number;
  onTrial?: (trial: TrialRecord, all: readonly TrialRecord[]) => Promise<void>;
}

/** Validates the target option against the lab (UsageError naming the nodes). */
export function checkTargetOption(node: string, names: LabNames): void {
  if (node === 'owner' || names.nodes.some((n) => n.name === node)) return;
  throw new UsageError(`--node ${node}: no such node`, { hint: `"owner" or one of ${names.nodes.map((n) => n.name).join(', ')}` });
}

/** Runs the trials; returns them all (each also went to onTrial). Throws as described above. */
export async function runFailover(env: LoopEnv, o: LoopOptions): Promise<TrialRecord[]> {
  checkTargetOption(o.node, env.names);
  const left = await healPending(env.pending, env.faults, (l) => env.log.info(l));
  if (left.failed.length)
    throw new LabError(`could not heal what an earlier run left: ${left.failed.map((f) => `${f.entry.fault} on ${f.entry.node}: ${f.error}`).join('; ')}`, { hint: 'fix the cause, then `pvelab heal`' });
  const trials: TrialRecord[] = [];
  const wait = { intervalMs: o.waitIntervalMs, signal: env.signal };
  for (let i = 0; i < o.trials; i++) {
    if (env.signal.aborted) throw new InterruptedError('interrupted before the next trial; no fault is in effect');
    const owner = await waitHealthy(env, { ...wait, timeoutMs: o.healthTimeoutMs }, 'the lab to be healthy before the trial');
    const target = faultTarget(env.names.nodes.find((n) => n.name === (o.node === 'owner' ? owner : o.node))!);
    env.log.info(`trial ${i + 1}/${o.trials}: ${o.fault} on ${target.node} (${env.names.guest.haSid} runs on ${owner})`);
    const r = await runTrial(env, o, i, owner, target);
    trials.push(r.trial);
    await o.onTrial?.(r.trial, trials);
    logTrial(env, r.trial);
    if (r.healFailure !== undefined)
      throw new LabError(`could not heal ${o.fault} on ${target.node}: ${message(r.healFailure)}`, { cause: r.healFailure, hint: 'the fault is recorded as pending; fix the cause and run `pvelab heal`' });
    if (r.trial.outcome === 'aborted' || env.signal.aborted) throw new InterruptedError(`interrupted during trial ${i + 1}; ${o.fault} on ${target.node} was healed`);
    if (r.failure !== undefined) throw r.failure;
    // Settle: the node is back, the lab healthy again (HA done with the node, failback included), quiet.
    await waitNodeBack(env.runner(target.node), { ...wait, timeoutMs: o.nodeTimeoutMs });
    await waitHealthy(env, { ...wait, timeoutMs: o.healthTimeoutMs }, `the lab to settle after healing ${target.node}`, others(env.names, target.node));
    if (i + 1 < o.trials) {
      env.log.info(`  settled; next trial in ${formatDuration(o.settleMs, 0)}`);
      await sleep(o.settleMs, env.signal);
    }
  }
  return trials;
}

interface TrialRun {
  trial: TrialRecord;
  failure?: unknown;
  healFailure?: unknown;
}

async function runTrial(env: LoopEnv, o: LoopOptions, index: number, owner: string, target: FaultTarget): Promise<TrialRun> {
  const fault = env.faults(o.fault);
  const rest = others(env.names, target.node);
  const session = startTrial({
    index,
    url: env.url,
    sid: env.names.guest.haSid,
    nodeBefore: owner,
    intervalMs: o.intervalMs,
    timeoutMs: o.probeTimeoutMs,
    haRunners: rest.map((n) => env.runner(n)),
    haIntervalMs: o.haIntervalMs,
    signal: env.signal,
  });
  const domains = new Map(env.names.nodes.map((n) => [n.domain, n.name]));
  const unsubscribe = env.libvirt?.onLifecycle((e) => {
    const node = domains.get(e.domain);
    if (node) session.libvirtEvent({ domain: e.domain, node, event: e.type, detail: e.detail });
  });
  await sleep(o.baselineMs, env.signal);
  if (env.signal.aborted) {
    unsubscribe?.();
    await session.stop();
    throw new InterruptedError(`interrupted before trial ${index + 1}; no fault was injected`);
  }
  let outcome: TrialRecord['outcome'] = 'error';
  let failure: unknown;
  let healFailure: unknown;
  let pending = false;
  let healed = false;
  const heal = async () => {
    if (!pending || healed) return;
    try {
      await session.heal(() => fault.heal(target));
      healed = true;
      await env.pending.remove({ fault: fault.id, node: target.node });
      env.log.info(`  healed ${fault.id} on ${target.node}`);
    } catch (err) {
      healFailure = err;
      session.note(`healing failed: ${message(err)}`);
    }
  };
  try {
    await env.pending.add(fault.id, target, env.command);
    pending = true; // from here on the fault may be in effect: heal whatever happens
    await session.inject({ kind: fault.id, target: target.node, detail: fault.describe(target) }, () => fault.inject(target));
    if (!fault.recoversWhileActive) {
      await sleep(o.holdMs, env.signal);
      await heal();
      if (healFailure !== undefined) throw healFailure;
    }
    const w = await session.waitRecovered({ timeoutMs: o.trialTimeoutMs, stableMs: o.stableMs });
    outcome = w.outcome;
    if (outcome === 'timeout') session.note(`the guest did not answer again within ${formatDuration(o.trialTimeoutMs, 0)}`);
  } catch (err) {
    failure = err;
    outcome = env.signal.aborted ? 'aborted' : 'error';
  } finally {
    await heal();
    unsubscribe?.();
    await session.stop();
  }
  if (!pending) throw failure; // the pending record could not be written: nothing was injected
  await readJournals(env, session, rest);
  const err = failure !== undefined && outcome === 'error' ? message(failure) : undefined;
  return { trial: session.record(outcome, err), failure: outcome === 'aborted' ? undefined : failure, healFailure };
}

/** HA journals and clock offsets of the nodes that stayed up (the CRM master is among them). */
async function readJournals(env: LoopEnv, s: TrialSession, nodes: readonly string[]): Promise<void> {
  const until = Date.now();
  await Promise.all(
    nodes.map(async (node) => {
      const r = env.runner(node);
      const off = await clockOffset(r, 2).catch(() => undefined);
      if (off) s.setClockOffset(node, off.offsetMs);
      s.addJournal(await readJournalCapture(r, node, s.sinceWall(), until));
    }),
  );
}

function logTrial(env: LoopEnv, t: TrialRecord): void {
  const tl = buildTimeline({ clock: env.clock }, t);
  const d = tl.downtime.ms === null ? `downtime not measured (${tl.downtime.reason ?? 'no outage'})` : `downtime ${formatDuration(tl.downtime.ms, 1)}`;
  env.log.info(`  ${t.outcome}: ${d}${tl.nodeAfter ? `, ${t.service.sid} now on ${tl.nodeAfter}` : ''}`);
}

function others(names: LabNames, node: string): string[] {
  return names.nodes.map((n) => n.name).filter((n) => n !== node);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
