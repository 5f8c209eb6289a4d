// HA status poller against scripted runners: parses answers, records failures, moves to the next node.
import { describe, expect, test } from 'vitest';
import type { CommandResult, RunOptions, Runner } from '../../lab/exec/runner.js';
import { MANAGER_STATUS_ARGV } from '../../lab/failover/ha-parse.js';
import { startHaPoller } from '../../lab/failover/ha-poll.js';
import { clockOffset, labHash, newRunRecord, proxmoxVersions } from '../../lab/failover/run-meta.js';

class ScriptedRunner implements Runner {
  calls: string[][] = [];
  constructor(readonly where: string, private readonly answer: (n: number, argv: readonly string[]) => string | Error) {}
  async run(argv: readonly string[], _opts?: RunOptions): Promise<CommandResult> {
    this.calls.push([...argv]);
    const a = this.answer(this.calls.length, argv);
    if (a instanceof Error) throw a;
    return { stdout: a, stderr: '', exitCode: 0 };
  }
}

const status = (node3: string) => JSON.stringify({ manager_status: { master_node: 'node1', node_status: { node1: 'online', node3 }, service_status: {} }, quorum: { node: 'node1', quorate: 1 } });

describe('startHaPoller', () => {
  test('records each poll in order, parsed, and switches node after a failure', async () => {
    const a = new ScriptedRunner('node1', (n) => (n === 2 ? new Error('ssh: connection reset') : status(n === 1 ? 'online' : 'unknown')));
    const b = new ScriptedRunner('node2', () => status('fence'));
    const p = startHaPoller({ runners: [a, b], intervalMs: 5 });
    while (p.snapshots().length < 4) await new Promise((r) => setTimeout(r, 5));
    const snaps = await p.stop();
    expect(a.calls[0]).toEqual([...MANAGER_STATUS_ARGV]);
    expect(snaps[0]).toMatchObject({ via: 'node1', ok: true, status: { nodes: { node3: 'online' }, quorate: true } });
    expect(snaps[1]).toMatchObject({ via: 'node1', ok: false, error: 'ssh: connection reset' });
    expect(snaps[2]).toMatchObject({ via: 'node2', ok: true, status: { nodes: { node3: 'fence' } } });
    for (let i = 1; i < snaps.length; i++) expect(snaps[i]!.t).toBeGreaterThan(snaps[i - 1]!.t);
  });

  test('stop() ends polling: no poll starts afterwards', async () => {
    const a = new ScriptedRunner('node1', () => status('online'));
    const p = startHaPoller({ runners: [a], intervalMs: 5 });
    while (p.snapshots().length < 2) await new Promise((r) => setTimeout(r, 5));
    const snaps = await p.stop();
    const calls = a.calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(a.calls.length).toBe(calls);
    expect(snaps.length).toBe(calls);
  });
});

describe('run metadata', () => {
  test('Proxmox version: common pve-manager version when nodes agree, null otherwise, per-node lines kept', async () => {
    const pv = (v: string) => new ScriptedRunner('x', () => `pve-manager/${v}/2a5fa54a8503f96d (running kernel: 6.8.12-4-pve)\n`);
    const same = await proxmoxVersions({ pve1: pv('8.4.1'), pve2: pv('8.4.1') });
    expect(same.version).toBe('8.4.1');
    expect(Object.keys(same.nodes)).toEqual(['pve1', 'pve2']);
    expect((await proxmoxVersions({ pve1: pv('8.4.1'), pve2: pv('9.0.3') })).version).toBeNull();
  });

  test('clock offset is the node time minus the host time at the round trip midpoint', async () => {
    const ahead = 4321;
    const r = new ScriptedRunner('pve1', () => `${BigInt(Date.now() + ahead) * 1_000_000n}\n`);
    const { offsetMs, rttMs } = await clockOffset(r);
    expect(Math.abs(offsetMs - ahead)).toBeLessThanOrEqual(rttMs + 1);
  });

  test('lab hash depends on content only; a record gets versions and a time-sortable id', async () => {
    const h1 = await labHash({ spec: { b: 1, a: [1, 2] } });
    expect(await labHash({ spec: { a: [1, 2], b: 1 } })).toBe(h1);
    expect(await labHash({ spec: { a: [2, 1], b: 1 } })).not.toBe(h1);
    const rec = newRunRecord({ scenario: { id: 'node-poweroff' }, lab: { name: 't1', hash: h1, source: 'built-in default' }, clock: { wallMs: Date.UTC(2025, 0, 2, 3, 4, 5), monoMs: 1 }, trials: [] });
    expect(rec.id).toBe('20250102T030405Z-node-poweroff');
    expect(rec.pvelab.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(rec.host.node).toBe(process.version);
  });
});
