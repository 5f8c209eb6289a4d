// The iso.* and answer.* steps end to end with a pinned local ISO (pve.iso / --iso FILE): nothing is
// downloaded; the prepared copy goes to a private cache (PVELAB_ISO_DIR) and the answer ISOs to the
// lab's state dir. Runs them through the real pipeline twice (second run: all already done), checks
// every answer medium against the rules, the plan artefacts, undo, and the refusal of a non-capable ISO.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHybridIso } from './iso-hybrid.js';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab } from '../../lab/config/names.js';
import { LabError } from '../../lab/core/errors.js';
import { memoryLogger } from '../../lab/core/log.js';
import { runUp } from '../../lab/core/pipeline.js';
import { LabState } from '../../lab/core/state.js';
import type { Step, StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { checkAnswerText } from '../../lab/iso/answer-rules.js';
import { readAnswerIso } from '../../lab/iso/media.js';
import { release } from '../../lab/iso/release.js';
import { isoSource } from '../../lab/iso/source.js';
import { answerMediaStep, nodeAnswers, passwordHashStep, planAnswerArtefacts } from '../../lab/steps/answer.js';
import { isoFetchStep, isoPrepareStep } from '../../lab/steps/iso.js';
import { keysStep } from '../../lab/steps/keys.js';

const host = new LocalRunner();
const work = mkdtempSync(join(tmpdir(), 'pvelab-isosteps-'));
const stock = join(work, 'pinned.iso');
const oldIso = join(work, 'old.iso');
process.env['PVELAB_ISO_DIR'] = join(work, 'cache');

function setup(iso: string, release = '8.3-1') {
  const lab: Lab = resolveLab(parseLabObject({ name: 't1', network: { cidr: '10.99.0.0/24' }, pve: { iso, filesystem: 'zfs' } }), []);
  const names = labNames(lab, join(work, 'home'));
  const state = new LabState(names.stateDir, lab.name);
  const log = memoryLogger();
  const ctx = (_s: Step, progress: (t: string) => void): StepContext => ({ lab, names, log, host, state, signal: new AbortController().signal, services: {}, progress, dryRun: false });
  return { lab, names, state, ctx, release, log };
}

beforeAll(async () => {
  await buildHybridIso(stock, { work, release: '8.3-1' }); // 8.3: snake_case keys, exercises the older style
  await buildHybridIso(oldIso, { work, release: '8.1-2', capable: false });
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('iso and answer steps with a pinned ISO', () => {
  const t = setup(stock);
  const steps = [keysStep, isoFetchStep, isoPrepareStep, passwordHashStep, answerMediaStep];

  it('applies, then finds everything done', async () => {
    const first = await runUp(steps, t.ctx);
    expect(first.map((o) => `${o.id}:${o.result}`)).toEqual(['lab.keys:applied', 'iso.fetch:already done', 'iso.prepare:applied', 'answer.password:applied', 'answer.media:applied']);
    const again = await runUp(steps, t.ctx);
    expect(again.every((o) => o.result === 'already done')).toBe(true);
  });

  it('knows the release, the pinned path and the prepared copy', async () => {
    const src = await isoSource(t.ctx(isoFetchStep, () => {}));
    expect(src).toMatchObject({ path: stock, pinned: true, prepared: join(work, 'cache', 'proxmox-ve_8.3-1-auto-from-partition.iso') });
    expect(src.release.id).toBe('8.3-1');
    expect(t.log.lines.filter((l) => l.includes('pve.release "latest-9" is ignored'))).toHaveLength(1); // warned once
  });

  it("writes every node's answer medium: PROXMOX-AIS, 0600, the node's MAC, clean under 8.3's rules", async () => {
    const answers = await nodeAnswers(t.ctx(answerMediaStep, () => {}));
    expect(answers.map((a) => a.node)).toEqual(['pve1', 'pve2', 'pve3']);
    for (const [i, a] of answers.entries()) {
      const node = t.names.nodes[i]!;
      expect(a.iso).toBe(node.answerIso);
      expect(statSync(a.iso).mode & 0o777).toBe(0o600);
      const m = await readAnswerIso(host, a.iso);
      expect(m?.volid).toBe('PROXMOX-AIS');
      expect(m?.answer).toBe(a.text);
      expect(checkAnswerText(a.text, release('8.3-1'))).toEqual([]);
      expect(a.text).toContain(`filter.ID_NET_NAME_MAC = "*${node.mac.replace(/:/g, '')}"`);
      expect(a.text).toContain('root_password_hashed = "$6$');
      expect(a.text).toContain('zfs.raid = "raid0"');
      expect(a.text).not.toContain((await t.state.secrets()).rootPassword);
    }
  });

  it('rewrites a medium that no longer matches', async () => {
    const c = t.ctx(answerMediaStep, () => {});
    rmSync(t.names.nodes[2]!.answerIso);
    expect(await answerMediaStep.check(c)).toEqual({ kind: 'todo', reason: 'answer media to write: pve3' });
    await answerMediaStep.apply(c);
    expect((await answerMediaStep.check(c)).kind).toBe('done');
  });

  it('plan artefacts show placeholders for secrets and the prepared mode file', async () => {
    const art = await planAnswerArtefacts(t.ctx(answerMediaStep, () => {}));
    expect(art.map((a) => a.path)).toEqual(['answer/pve1-answer.toml', 'answer/pve2-answer.toml', 'answer/pve3-answer.toml', 'answer/auto-installer-mode.toml']);
    expect(art[0]!.content).toContain('root_password_hashed = "<SHA-512 crypt hash of the lab root password>"');
    expect(art[0]!.content).not.toContain((await t.state.secrets()).rootPasswordHash!);
    expect(art[3]!.content).toBe('mode = "partition"\npartition_label = "proxmox-ais"\n\n[http]\n');
  });

  it('undo removes the answer media and is a no-op the second time', async () => {
    const c = t.ctx(answerMediaStep, () => {});
    await answerMediaStep.undo!(c);
    await answerMediaStep.undo!(c);
    for (const n of t.names.nodes) expect(() => statSync(n.answerIso)).toThrow();
  });

  it('refuses a pinned ISO without /auto-installer-capable with a clear message', async () => {
    const o = setup(oldIso);
    const err = await isoFetchStep.check(o.ctx(isoFetchStep, () => {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toContain('cannot be installed automatically');
  });

  it('refuses a pinned path that does not exist', async () => {
    const o = setup(join(work, 'nope.iso'));
    await expect(isoFetchStep.check(o.ctx(isoFetchStep, () => {}))).rejects.toThrow(/pve.iso .*nope.iso cannot be used/);
  });
});
