// Signals against a real process running the trial loop (failover-loop-child.ts, wired like
// lab/main.ts): SIGINT and SIGTERM heal the fault in effect before the process exits (130); kill -9
// leaves the fault in the pending-fault record, and healPending (what `pvelab heal` and the next run do)
// undoes it from another process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { healPending, PendingFaults } from '../../lab/failover/pending.js';
import { FakeFault, FakeLab, testNames } from './failover-loop-fakes.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = join(REPO, 'test/unit/failover-loop-child.ts');
const TSX = join(REPO, 'node_modules/tsx/dist/cli.mjs');

let dir: string;
let child: ChildProcess | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pvelab-sig-'));
});
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(): { exit: Promise<{ code: number | null; signal: string | null; out: string }> } {
  const c = spawn(process.execPath, [TSX, CHILD, dir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  let out = '';
  let err = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    c.on('exit', (code, signal) => resolve({ code, signal, out: out + (code !== 130 && code !== 0 ? err : '') })),
  );
  return { exit };
}

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const marker = () => join(dir, 'fault-pve1');

// A child process starts through tsx (compiles on the fly): seconds on a loaded 2-core machine.
const SPAWN_TIMEOUT = 120_000;

describe('signals during a trial', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    test(`${sig}: the fault is healed before exit, exit 130, nothing pending`, async () => {
      const { exit } = start();
      await until('the fault', () => existsSync(marker()));
      expect((await new PendingFaults(dir).list()).map((e) => `${e.fault} ${e.node}`)).toEqual(['link-down pve1']);
      await new Promise((r) => setTimeout(r, 150)); // recording
      child!.kill(sig);
      const r = await exit;
      expect(r.code, r.out).toBe(130);
      const res = JSON.parse(r.out.trim().split('\n').pop()!) as { error: string; calls: string[]; outcomes: string[]; healedAt: (number | null)[] };
      expect(res).toMatchObject({ error: 'InterruptedError', calls: ['inject pve1', 'heal pve1'], outcomes: ['aborted'] });
      expect(res.healedAt[0]).not.toBeNull();
      expect(existsSync(marker())).toBe(false);
      expect(await new PendingFaults(dir).list()).toEqual([]);
    }, SPAWN_TIMEOUT);
  }

  test('kill -9: the fault stays recorded as pending; healPending from another process heals it', async () => {
    const { exit } = start();
    await until('the fault', () => existsSync(marker()));
    child!.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    expect(existsSync(marker())).toBe(true);
    const pending = new PendingFaults(dir);
    expect((await pending.list()).map((e) => `${e.fault} ${e.node} ${e.domain}`)).toEqual(['link-down pve1 pvelab-t1-pve1']);
    const lab = new FakeLab(testNames(dir));
    const fault = new FakeFault(lab, dir);
    const r = await healPending(pending, () => fault);
    expect(r.healed.map((e) => e.node)).toEqual(['pve1']);
    expect(fault.calls).toEqual(['heal pve1']);
    expect(existsSync(marker())).toBe(false);
    expect(await pending.list()).toEqual([]);
  }, SPAWN_TIMEOUT);
});
