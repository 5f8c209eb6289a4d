// pvelab failover [--fault link-down|power-off|freeze|storage-loss] [--node owner|NAME] [--trials N]
//                 [--interval 100ms] [--timeout 10m] [--settle 30s] [--runs-dir runs] …
// Breaks the built lab on purpose, N times, and records how HA heals it (lab/failover/loop.ts). After
// every trial the run directory runs/<id>/ is (re)written, so an interrupted run keeps what it measured;
// its files are printed on stdout at the end (--json: one document with the paths and a summary).
// Ctrl-C heals the fault in effect before exiting (exit 130); a second Ctrl-C exits at once and leaves
// the fault pending for `pvelab heal`.
import type { Command } from 'commander';
import { LabError, UsageError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../failover/duration.js';
import { FAULT_KINDS, isFaultKind, makeFault, type Fault, type FaultKind } from '../failover/faults.js';
import { checkTargetOption, runFailover, type LoopOptions } from '../failover/loop.js';
import { PendingFaults } from '../failover/pending.js';
import type { RunRecord, TrialRecord } from '../failover/record.js';
import { clockAnchor, labHash, newRunRecord, proxmoxVersions } from '../failover/run-meta.js';
import { ownedDomains } from '../libvirt/owned.js';
import { writeRunDir, type WrittenReport } from '../report/write.js';
import type { AppContext } from './app.js';
import { openServices } from './services.js';

export interface FailoverCliOptions {
  fault: string;
  node: string;
  trials: string;
  interval?: string;
  timeout?: string;
  settle?: string;
  probeTimeout: string;
  stable: string;
  hold: string;
  haInterval: string;
  runsDir: string;
}

export function register(program: Command, app: AppContext): void {
  program
    .command('failover')
    .description('break the lab on purpose (N trials of one fault, each healed) and measure how fast HA recovers the guest; writes runs/<id>/')
    .option('--fault <kind>', FAULT_KINDS.join(' | '), 'link-down')
    .option('--node <node>', '"owner" (the node running the guest at each trial) or a node name', 'owner')
    .option('--trials <n>', 'number of trials', '1')
    .option('--interval <duration>', 'HTTP probe interval (default: failover.probeIntervalMs of the lab file)')
    .option('--timeout <duration>', 'give up on a trial when the guest has not answered again after this (default: failover.trialTimeoutS)')
    .option('--settle <duration>', 'quiet time after the lab is healthy again, before the next trial (default: failover.settleS)')
    .option('--probe-timeout <duration>', 'a probe without a complete answer within this fails; keep it below 1s', '800ms')
    .option('--stable <duration>', 'the guest must answer this long without a failure to count as recovered', '5s')
    .option('--hold <duration>', 'storage-loss: how long the shared LUN stays offline before it is healed', '60s')
    .option('--ha-interval <duration>', 'HA manager status poll interval during a trial', '1s')
    .option('--runs-dir <dir>', 'where run directories are written', 'runs')
    .action(async (opts: FailoverCliOptions) => {
      await failoverCommand(opts, app);
    });
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`invalid ${what} "${text}"`, { hint: 'a whole number ≥ 1' });
  return n;
}

export async function failoverCommand(opts: FailoverCliOptions, app: AppContext): Promise<WrittenReport | undefined> {
  const loaded = await app.loadLab();
  const { lab, names, state } = loaded;
  if (!isFaultKind(opts.fault)) throw new UsageError(`unknown fault "${opts.fault}"`, { hint: `--fault ${FAULT_KINDS.join(' | ')}` });
  checkTargetOption(opts.node, names);
  const dur = (v: string | undefined, fallbackMs: number, what: string) => (v === undefined ? fallbackMs : parseDuration(v, what));
  const intervalMs = dur(opts.interval, lab.failover.probeIntervalMs, '--interval');
  const loop: Omit<LoopOptions, 'onTrial'> = {
    fault: opts.fault,
    trials: positiveInt(opts.trials, '--trials'),
    node: opts.node,
    intervalMs,
    probeTimeoutMs: parseDuration(opts.probeTimeout, '--probe-timeout'),
    trialTimeoutMs: dur(opts.timeout, lab.failover.trialTimeoutS * 1000, '--timeout'),
    stableMs: parseDuration(opts.stable, '--stable'),
    baselineMs: Math.max(1000, 10 * intervalMs), // good answers before the fault bound the downtime
    settleMs: dur(opts.settle, lab.failover.settleS * 1000, '--settle'),
    holdMs: parseDuration(opts.hold, '--hold'),
    haIntervalMs: parseDuration(opts.haInterval, '--ha-interval'),
    healthTimeoutMs: lab.timeouts.haS * 1000,
    nodeTimeoutMs: lab.timeouts.sshS * 1000,
    waitIntervalMs: 1000,
  };
  if (!(loop.intervalMs >= 10) || !(loop.probeTimeoutMs >= 10) || !(loop.haIntervalMs >= 10)) throw new UsageError('--interval, --probe-timeout and --ha-interval must be at least 10ms');

  const release = await state.lock('pvelab failover');
  const services = await openServices(app, loaded, { sshConnectAttempts: 2 });
  let written: WrittenReport | undefined;
  let last: RunRecord | undefined;
  try {
    const libvirt = services.value.libvirt!;
    const nodes = services.value.nodes!;
    if (!(await state.readJournal())?.configHash || (await ownedDomains(libvirt, lab.name)).length === 0)
      throw new LabError(`lab "${lab.name}" is not built`, { hint: 'build it first with `pvelab up`' });
    const cache = new Map<FaultKind, Fault>();
    const faults = (k: FaultKind) => cache.get(k) ?? cache.set(k, makeFault(k, names, { libvirt, tgt: services.value.tgt })).get(k)!;
    const runner = (n: string) => nodes.runner(n);
    const clock = clockAnchor();
    const v = await libvirt.version().catch(() => undefined);
    const proxmox = await proxmoxVersions(Object.fromEntries(names.nodes.map((n) => [n.name, runner(n.name)])));
    const hash = await labHash({ file: loaded.source === 'built-in default' ? undefined : loaded.source, spec: loaded.spec }).catch(() => null);
    const record = (trials: TrialRecord[]) =>
      newRunRecord({
        scenario: { id: opts.fault, description: `${loop.trials} × ${opts.fault} on ${opts.node === 'owner' ? "the guest's node" : opts.node}` },
        lab: { name: lab.name, hash, source: loaded.source },
        proxmox,
        host: v ? { libvirt: v.libvirt, ...(v.type === 'QEMU' && v.hypervisor ? { qemu: v.hypervisor } : {}) } : {},
        clock,
        trials,
      });
    app.log.info(`pvelab failover: ${loop.trials} × ${opts.fault} on ${opts.node} in lab "${lab.name}", probing http://${names.guest.ip}/ every ${formatDuration(loop.intervalMs, 3)}`);
    await runFailover(
      {
        names,
        runner,
        url: `http://${names.guest.ip}/`,
        log: app.log,
        signal: app.signal,
        faults,
        pending: new PendingFaults(state.dir),
        libvirt,
        clock,
        command: 'pvelab failover',
      },
      {
        ...loop,
        onTrial: async (_t, all) => {
          last = record([...all]);
          written = await writeRunDir(last, opts.runsDir);
        },
      },
    );
  } finally {
    await services.close();
    await release();
    if (written && last) printRun(app, written, last);
  }
  return written;
}

function printRun(app: AppContext, w: WrittenReport, run: RunRecord): void {
  if (!app.options().json) {
    for (const f of w.files) app.print(f);
    return;
  }
  app.print(
    JSON.stringify(
      {
        dir: w.dir,
        files: w.files,
        run: run.id,
        trials: run.trials.map((t) => ({ index: t.index, fault: t.fault.kind, target: t.fault.target, nodeBefore: t.service.nodeBefore, outcome: t.outcome, healed: t.fault.healedAt !== null })),
        kinds: w.model.kinds.map((k) => ({ faultKind: k.faultKind, trials: k.trials, recovered: k.recovered, downtimeMs: k.downtime, recoveryMs: k.recovery })),
      },
      null,
      2,
    ),
  );
}
