// Child process for failover-loop-signal.test.ts: runs the trial loop on the fake lab with the same
// signal wiring as lab/main.ts (first SIGINT/SIGTERM aborts, a second exits at once with 130). The fault
// leaves a marker file <dir>/fault-<node> while in effect; the guest never recovers, so the loop
// records until it is stopped. Prints one JSON line at the end; exit 130 after an interrupt.
import { memoryLogger } from '../../lab/core/log.js';
import { InterruptedError } from '../../lab/core/errors.js';
import { runFailover } from '../../lab/failover/loop.js';
import { PendingFaults } from '../../lab/failover/pending.js';
import type { TrialRecord } from '../../lab/failover/record.js';
import { clockAnchor } from '../../lab/failover/run-meta.js';
import { FakeFault, FakeLab, fastOptions, testNames } from './failover-loop-fakes.js';

const dir = process.argv[2]!;
const controller = new AbortController();
let interrupts = 0;
const onSignal = () => {
  if (++interrupts === 1) controller.abort();
  else process.exit(130);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const names = testNames(dir);
const lab = await new FakeLab(names).start();
lab.recovers = false;
const fault = new FakeFault(lab, dir);
const trials: TrialRecord[] = [];
let code = 0;
let error = '';
try {
  await runFailover(
    { names, runner: (n) => lab.runner(n), url: lab.url, log: memoryLogger(), signal: controller.signal, faults: () => fault, pending: new PendingFaults(dir), clock: clockAnchor() },
    fastOptions({ trials: 1, trialTimeoutMs: 120_000, onTrial: async (t) => void trials.push(t) }),
  );
} catch (err) {
  error = err instanceof Error ? err.name : String(err);
  code = err instanceof InterruptedError ? 130 : 1;
}
await lab.stop();
process.stdout.write(JSON.stringify({ error, calls: fault.calls, outcomes: trials.map((t) => t.outcome), healedAt: trials.map((t) => t.fault.healedAt) }) + '\n');
process.exit(code);
