// `pvelab plan --out DIR` (lab/cli/plan-out.ts): every artefact for review, secrets never written, and
// nothing created but DIR. The ISO mirror is a refused loopback port, so the release comes from the lab.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHAP_PLACEHOLDER, writePlanArtefacts } from '../../lab/cli/plan-out.js';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { phaseFacts } from '../../lab/install/phase.js';

const dir = mkdtempSync(join(tmpdir(), 'pvelab-plan-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctxFor(input: Record<string, unknown>, home: string): StepContext {
  const lab = resolveLab(parseLabObject({ name: 'po', network: { cidr: '10.77.5.0/24' }, pve: { release: '8.3-1', isoMirror: 'http://127.0.0.1:9/iso/' }, ...input }), []);
  const names = labNames(lab, home);
  return { lab, names, log: memoryLogger(), host: new LocalRunner(), state: new LabState(names.stateDir, lab.name), signal: new AbortController().signal, services: {}, progress: () => {}, dryRun: true };
}

const list = (root: string): string[] =>
  readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))).sort();

describe('plan --out', () => {
  it('writes network, both phases of every domain, answers, tgt configuration and a README; nothing else is created', async () => {
    const home = join(dir, 'home-a');
    const out = join(dir, 'out-a');
    const ctx = ctxFor({ storage: { layout: 'lvm', chap: true } }, home);
    const files = await writePlanArtefacts(ctx, out);
    expect(files.length).toBe(13);
    expect(list(out)).toEqual([
      'README.txt',
      'answer/auto-installer-mode.toml', 'answer/pve1-answer.toml', 'answer/pve2-answer.toml', 'answer/pve3-answer.toml',
      'domains/pvelab-po-pve1.install.xml', 'domains/pvelab-po-pve1.run.xml', 'domains/pvelab-po-pve2.install.xml',
      'domains/pvelab-po-pve2.run.xml', 'domains/pvelab-po-pve3.install.xml', 'domains/pvelab-po-pve3.run.xml',
      'network/pvelab-po.xml', 'tgt/pvelab-po.conf',
    ]);
    expect(existsSync(home)).toBe(false); // no state dir, no key, no secrets

    const n2 = ctx.names.nodes[1]!;
    const install = readFileSync(join(out, 'domains/pvelab-po-pve2.install.xml'), 'utf8');
    expect(install).toMatch(/^<!-- installer ISO path assumed: /);
    expect(phaseFacts(install)).toMatchObject({ phase: 'install', answerMedia: n2.answerIso, onReboot: 'destroy', firstBoot: 'sda' });
    expect(phaseFacts(install).installerMedia).toMatch(/proxmox-ve_8\.3-1-auto-from-partition\.iso$/);
    expect(phaseFacts(readFileSync(join(out, 'domains/pvelab-po-pve2.run.xml'), 'utf8'))).toEqual({ phase: 'run', installerMedia: null, answerMedia: null, onReboot: 'restart', firstBoot: 'vda' });

    const net = readFileSync(join(out, 'network/pvelab-po.xml'), 'utf8');
    expect(net).toContain(`name="${n2.name}"`);
    expect(net).toContain(`ip="${n2.ip}"`);

    const answer = readFileSync(join(out, 'answer/pve2-answer.toml'), 'utf8');
    expect(answer).toMatch(/^# release 8\.3-1 from pve\.release; the ISO itself was not read/);
    expect(answer).toContain('root_password_hashed = "<SHA-512 crypt hash of the lab root password>"'); // 8.3: snake_case
    expect(answer).toContain(`cidr = "${n2.ip}/24"`);
    expect(readFileSync(join(out, 'answer/auto-installer-mode.toml'), 'utf8')).toContain('mode = "partition"');

    const tgt = readFileSync(join(out, 'tgt/pvelab-po.conf'), 'utf8');
    expect(tgt).toContain(`incominguser pvelab-po ${CHAP_PLACEHOLDER}`);
    expect(tgt).toContain('initiator-address 10.77.5.0/24');
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain('/etc/tgt/conf.d/pvelab-po.conf');
  });

  it('a lab with real secrets: none of them appears in any file', async () => {
    const home = join(dir, 'home-b');
    const ctx = ctxFor({ storage: { layout: 'qcow2', chap: true } }, home);
    await ctx.state.updateSecrets({ rootPassword: 'Very-Secret-Root-1', rootPasswordHash: '$6$saltsalt$' + 'h'.repeat(86), chapPassword: 'Chap-Secret-XYZ12' });
    const out = join(dir, 'out-b');
    await writePlanArtefacts(ctx, out);
    for (const f of list(out)) {
      const text = readFileSync(join(out, f), 'utf8');
      for (const secret of ['Very-Secret-Root-1', 'Chap-Secret-XYZ12', 'h'.repeat(86)]) expect(text, f).not.toContain(secret);
    }
  });
});
