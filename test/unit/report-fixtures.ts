// A small multi-trial run built from the basic1 simulator timings, shared by the report tests (not a test file).
import type { RunRecord, TrialRecord } from '../../lab/failover/record.js';
import { BASE_WALL, fixture, monoOf, run, simJournal, simLines, simPolls, simTime, trial, worldSamples } from './failover-fixtures.js';

export const basic1 = simLines(fixture('ha-sim-test-basic1-node-network-off.log.txt'));

/** Trial i of the basic1 world: guest+app back `bootS` after the LRM start; variants drop data or time out. */
export function basic1Trial(i: number, bootS: number, variant: 'full' | 'polls-only' | 'timeout' = 'full', kind = 'link-down'): TrialRecord {
  const cut = simTime(basic1, 'network node3 off');
  const lrm = simTime(basic1, 'service status vm:103 started', 'node2/lrm');
  const back = variant === 'timeout' ? Infinity : lrm + bootS;
  return trial(
    {
      fault: { kind, target: 'node3', injectedAt: monoOf(cut), injectedWall: BASE_WALL + cut * 1000, healedAt: null },
      service: { sid: 'vm:103', url: 'http://192.0.2.100/', nodeBefore: 'node3' },
      probe: { intervalMs: 500, timeoutMs: 400 },
      window: { start: monoOf(100), end: monoOf(variant === 'timeout' ? 300 : 320) },
      outcome: variant === 'timeout' ? 'timeout' : 'recovered',
      http: worldSamples(100, variant === 'timeout' ? 300 : 320, 500, (s) => (s < cut ? 'node3' : s >= back ? 'node2' : null)),
      journal: variant === 'full' ? simJournal(basic1) : [],
      ha: variant === 'timeout' ? [] : simPolls(basic1, 'node1', 100, 320),
    },
    i,
  );
}

export function sampleRun(extra: Partial<RunRecord> = {}): RunRecord {
  return run([basic1Trial(0, 12), basic1Trial(1, 19, 'polls-only'), basic1Trial(2, 15, 'timeout'), basic1Trial(3, 9, 'full', 'node-poweroff')], extra);
}
