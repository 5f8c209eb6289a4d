// Replay check: the stand-in model, driven with the hardware events of pve-ha-manager's simulator
// tests test-basic1 (non-master node network off) and test-basic5 (CRM master network off, power
// on again later), reproduces the expected state-change timeline within one CRM loop (10 s) from
// the cut on, through every phase including node1's return. The simulator steps every daemon once
// per 20 s round, so the replay runs the model in simulator mode (replay.ts): same rounds and slots,
// no time inside an iteration, watchdog = power off. The live stand-in keeps the real daemons' loops.
// Fixtures: ../shared/fixtures/pve/ha-sim-test-basic{1,5}-*.log.txt and ha-sim-test-basic1-inputs.txt.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Match, parseSimLog, replay } from '../standin/control/replay.js';

const FIX = new URL('../../../shared/fixtures/pve/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, FIX), 'utf8');

function table(matches: Match[]): string {
  return matches.map((x) => `${String(x.expected.t).padStart(4)} ${x.actual ? `${x.actual.t.toFixed(0).padStart(4)} ${x.delta! >= 0 ? '+' : ''}${x.delta!.toFixed(0).padStart(3)}` : x.skipped ? '   - n/a    ' : '   - MISSING'}  ${x.actual?.who ?? x.expected.who}: ${x.expected.msg}`).join('\n');
}

function servicesFromInputs(text: string): Record<string, { node: string; state?: string }> {
  const sec = text.split('## service_config')[1]!.split('## ')[0]!;
  return JSON.parse(sec);
}

function check(ms: Match[], min: number, tolerance: number): void {
  const compared = ms.filter((x) => !x.skipped);
  expect(compared.length).toBeGreaterThanOrEqual(min);
  for (const x of compared) {
    const what = `${x.expected.t} ${x.expected.who}: ${x.expected.msg}`;
    expect(x.actual, what).toBeDefined();
    expect(Math.abs(x.delta!), what).toBeLessThanOrEqual(tolerance);
  }
}

describe('stand-in replay of HA simulator timelines', () => {
  it('test-basic1: node3 network off -> unknown, fence, acknowledged, recovered on node2', async () => {
    const expected = parseSimLog(read('ha-sim-test-basic1-node-network-off.log.txt'));
    const services = servicesFromInputs(read('ha-sim-test-basic1-inputs.txt'));
    const { matches } = await replay({ nodes: ['node1', 'node2', 'node3'], services }, expected, 720);
    console.log(`test-basic1 (expected t, model t, delta):\n${table(matches)}`);
    check(matches.filter((x) => x.expected.t >= 120), 12, 10);
  });

  it('test-basic5: master node1 network off -> new master, fence, recovery; node1 back -> migrated home', async () => {
    const expected = parseSimLog(read('ha-sim-test-basic5-master-network-off.log.txt'));
    // inputs of src/test/test-basic5 (pve-ha-manager b71218f): service_config + rules_config
    const services = { 'vm:101': { node: 'node1', state: 'enabled' }, 'vm:102': { node: 'node2', state: 'enabled' }, 'vm:103': { node: 'node3', state: 'enabled' } };
    const rules = [{ id: 'vm101-should-be-on-node1', type: 'node-affinity', opts: { nodes: 'node1', resources: 'vm:101' } }];
    const { matches } = await replay({ nodes: ['node1', 'node2', 'node3'], services, rules }, expected, 1100);
    console.log(`test-basic5 (expected t, model t, delta):\n${table(matches)}`);
    check(matches.filter((x) => x.expected.t >= 120), 20, 10);
    // node1's return: startup, slave, back online, migrated home, started there
    expect(matches.filter((x) => x.expected.t >= 500 && x.actual).length).toBe(matches.filter((x) => x.expected.t >= 500).length);
  });
});
