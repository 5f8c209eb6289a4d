import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityStep, labDiff, labHash } from '../../lab/steps/identity.js';
import { keysStep } from '../../lab/steps/keys.js';
import { runUp, DriftError } from '../../lab/core/pipeline.js';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab } from '../../lab/config/names.js';
import { LabState } from '../../lab/core/state.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LocalRunner } from '../../lab/exec/local.js';
import type { Step, StepContext } from '../../lab/core/step.js';

const mk = (o: object) => resolveLab(parseLabObject({ network: { cidr: '10.88.0.0/24' }, ...o }), []);

function ctxFor(lab: Lab, state: LabState) {
  return (_s: Step, progress: (t: string) => void): StepContext => ({
    lab, names: labNames(lab, '/tmp/x'), log: memoryLogger(), host: new LocalRunner(), state, signal: new AbortController().signal, services: {}, progress, dryRun: false,
  });
}

describe('lab identity', () => {
  it('hashes independently of key order', () => {
    expect(labHash({ a: 1, b: { c: 2, d: 3 } })).toBe(labHash({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('lists the differences field by field', () => {
    expect(labDiff(mk({}), mk({ nodeDefaults: { memoryMiB: 6144 }, guest: { hostname: 'www' } }))).toEqual([
      'guest.hostname: "web" → "www"',
      'nodeDefaults.memoryMiB: 4096 → 6144',
    ]);
  });

  it('refuses a changed lab file over an existing lab, showing the difference', async () => {
    const state = new LabState(mkdtempSync(join(tmpdir(), 'pvelab-id-')), 'lab');
    await runUp([identityStep], ctxFor(mk({}), state));
    expect((await runUp([identityStep], ctxFor(mk({}), state)))[0]!.result).toBe('already done');
    const err = await runUp([identityStep], ctxFor(mk({ nodeDefaults: { vcpus: 4 } }), state)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriftError);
    expect((err as DriftError).message).toContain('nodeDefaults.vcpus: 2 → 4');
    expect((err as DriftError).hint).toContain('pvelab down');
  });
});

describe('lab keys', () => {
  it('creates an ed25519 keypair with mode 0600 once', async () => {
    const state = new LabState(mkdtempSync(join(tmpdir(), 'pvelab-keys-')), 'lab');
    const make = ctxFor(mk({}), state);
    await runUp([keysStep], make);
    const before = statSync(state.sshKeyPath);
    expect(before.mode & 0o777).toBe(0o600);
    expect((await runUp([keysStep], make))[0]!.result).toBe('already done');
    expect(statSync(state.sshKeyPath).ino).toBe(before.ino);
    await keysStep.undo!(make(keysStep, () => {}));
    await keysStep.undo!(make(keysStep, () => {}));
    expect((await keysStep.check(make(keysStep, () => {}))).kind).toBe('todo');
  });
});
