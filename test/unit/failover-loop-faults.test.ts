// Fault implementations against a fake libvirt/tgt (exact driver calls, idempotent heals) and the
// pending-fault record (written/removed, one entry per fault and node, damaged file, heal of leftovers).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LabError, UsageError } from '../../lab/core/errors.js';
import type { DomainState, LibvirtDriver } from '../../lab/libvirt/driver.js';
import type { Tgt } from '../../lab/storage/tgt.js';
import { faultTarget, makeFault, type Fault, type FaultKind } from '../../lab/failover/faults.js';
import { healPending, PendingFaults, PENDING_FILE } from '../../lab/failover/pending.js';
import { testNames } from './failover-loop-fakes.js';

class FakeLibvirt {
  calls: string[] = [];
  state = new Map<string, DomainState>();
  link = new Map<string, 'up' | 'down'>();
  async getDomain(name: string) {
    const s = this.state.get(name);
    return s ? { name, uuid: 'u', state: s, persistent: true } : undefined;
  }
  async linkState(name: string, mac: string) {
    return this.state.has(name) ? (this.link.get(`${name}/${mac}`) ?? 'up') : undefined;
  }
  async setLinkState(name: string, mac: string, st: 'up' | 'down') {
    this.calls.push(`link ${name} ${mac} ${st}`);
    this.link.set(`${name}/${mac}`, st);
  }
  async destroy(name: string) {
    this.calls.push(`destroy ${name}`);
    this.state.set(name, 'shutoff');
  }
  async start(name: string) {
    this.calls.push(`start ${name}`);
    this.state.set(name, 'running');
  }
  async suspend(name: string) {
    this.calls.push(`suspend ${name}`);
    this.state.set(name, 'paused');
  }
  async resume(name: string) {
    this.calls.push(`resume ${name}`);
    this.state.set(name, 'running');
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pvelab-faults-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup() {
  const names = testNames(dir);
  const lv = new FakeLibvirt();
  for (const n of names.nodes) lv.state.set(n.domain, 'running');
  const luns = { online: true };
  const tgtCalls: unknown[] = [];
  const tgt = {
    targets: async () => [{ tid: 3, iqn: names.iscsi.iqn, luns: [{ lun: 0, online: true }, { lun: 1, online: luns.online }] }],
    exec: async (c: { params?: { online?: string } }) => {
      tgtCalls.push(c);
      luns.online = c.params?.online === '1';
      return '';
    },
  } as unknown as Tgt;
  const make = (k: FaultKind) => makeFault(k, names, { libvirt: lv as unknown as LibvirtDriver, tgt });
  return { names, lv, make, t: faultTarget(names.nodes[1]!), tgtCalls };
}

async function cycle(f: Fault, t: ReturnType<typeof faultTarget>) {
  const before = await f.isActive(t);
  await f.inject(t);
  const during = await f.isActive(t);
  await f.heal(t);
  await f.heal(t); // idempotent
  return [before, during, await f.isActive(t)];
}

describe('faults', () => {
  test('link-down: the NIC of the node (by its lab MAC) goes down and comes back up once', async () => {
    const { lv, make, t } = setup();
    expect(t).toEqual({ node: 'pve2', domain: 'pvelab-t1-pve2', mac: expect.stringMatching(/^52:54:00:/) });
    expect(await cycle(make('link-down'), t)).toEqual([false, true, false]);
    expect(lv.calls).toEqual([`link pvelab-t1-pve2 ${t.mac} down`, `link pvelab-t1-pve2 ${t.mac} up`]);
  });

  test('power-off: destroy, heal starts it only while it is off', async () => {
    const { lv, make, t } = setup();
    expect(await cycle(make('power-off'), t)).toEqual([false, true, false]);
    expect(lv.calls).toEqual(['destroy pvelab-t1-pve2', 'start pvelab-t1-pve2']);
  });

  test('freeze: suspend, heal resumes only a paused node', async () => {
    const { lv, make, t } = setup();
    expect(await cycle(make('freeze'), t)).toEqual([false, true, false]);
    expect(lv.calls).toEqual(['suspend pvelab-t1-pve2', 'resume pvelab-t1-pve2']);
  });

  test('heal without inject changes nothing; link heal on a powered-off node is a no-op', async () => {
    const { lv, make, t } = setup();
    for (const k of ['link-down', 'power-off', 'freeze'] as const) await make(k).heal(t);
    lv.state.set(t.domain, 'shutoff');
    await make('link-down').heal(t);
    expect(lv.calls).toEqual([]);
  });

  test('storage-loss: LUN 1 of the lab IQN offline, then online (tid looked up)', async () => {
    const { make, t, tgtCalls } = setup();
    const f = make('storage-loss');
    expect(f.recoversWhileActive).toBe(false);
    expect(await cycle(f, t)).toEqual([false, true, false]);
    expect(tgtCalls).toEqual([
      { op: 'lun-params', tid: 3, lun: 1, params: { online: '0' } },
      { op: 'lun-params', tid: 3, lun: 1, params: { online: '1' } },
    ]);
  });

  test('unknown kind is a usage error', () => {
    const { make } = setup();
    expect(() => make('meteor' as FaultKind)).toThrow(UsageError);
  });
});

describe('pending-fault record', () => {
  test('add/remove keep one entry per fault and node; file is private', async () => {
    const { names } = setup();
    const p = new PendingFaults(dir);
    expect(await p.list()).toEqual([]);
    await p.add('link-down', faultTarget(names.nodes[0]!), 'pvelab failover');
    await p.add('link-down', faultTarget(names.nodes[0]!));
    await p.add('freeze', faultTarget(names.nodes[2]!));
    expect((await p.list()).map((e) => `${e.fault} ${e.node} ${e.domain}`)).toEqual(['link-down pve1 pvelab-t1-pve1', 'freeze pve3 pvelab-t1-pve3']);
    expect(statSync(join(dir, PENDING_FILE)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, PENDING_FILE), 'utf8')).pending[0].pid).toBe(process.pid);
    await p.remove({ fault: 'link-down', node: 'pve1' });
    await p.remove({ fault: 'link-down', node: 'pve1' });
    expect((await p.list()).map((e) => e.node)).toEqual(['pve3']);
  });

  test('a damaged record is an error naming the file, never silently dropped', async () => {
    writeFileSync(join(dir, PENDING_FILE), '{"schema":1,"pending":[{"fault":"link-down"}');
    await expect(new PendingFaults(dir).list()).rejects.toThrow(LabError);
  });

  test('healPending heals every entry with the fault of its kind, keeps the ones that fail', async () => {
    const { names, lv, make } = setup();
    const p = new PendingFaults(dir);
    const a = faultTarget(names.nodes[0]!);
    const b = faultTarget(names.nodes[1]!);
    await make('link-down').inject(a);
    await make('power-off').inject(b);
    await p.add('link-down', a);
    await p.add('power-off', b);
    lv.calls.length = 0;
    const broken = make('power-off');
    broken.heal = async () => {
      throw new Error('libvirt gone');
    };
    const r1 = await healPending(p, (k) => (k === 'power-off' ? broken : make(k)));
    expect(r1.healed.map((e) => e.node)).toEqual(['pve1']);
    expect(r1.failed).toEqual([{ entry: expect.objectContaining({ node: 'pve2' }), error: 'libvirt gone' }]);
    expect((await p.list()).map((e) => e.node)).toEqual(['pve2']);
    const r2 = await healPending(p, make);
    expect(r2.healed.map((e) => e.node)).toEqual(['pve2']);
    expect(lv.calls).toEqual([`link pvelab-t1-pve1 ${a.mac} up`, 'start pvelab-t1-pve2']);
    expect(await p.list()).toEqual([]);
  });
});
