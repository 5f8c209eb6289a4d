// answer.toml generation for 8.2, 8.3, 8.4 and 9.x, each checked against that release's rules.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames } from '../../lab/config/names.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { LabState } from '../../lab/core/state.js';
import { memoryLogger } from '../../lab/core/log.js';
import { clearSecrets, mask } from '../../lab/core/secrets.js';
import type { StepContext } from '../../lab/core/step.js';
import { macFilter, nodeAnswerInput, renderAnswer } from '../../lab/iso/answer.js';
import { checkAnswerText } from '../../lab/iso/answer-rules.js';
import { release } from '../../lab/iso/release.js';
import { parseToml } from '../../lab/iso/toml.js';
import { hashPassword, passwordHashStep } from '../../lab/steps/answer.js';

const host = new LocalRunner();
const dir = mkdtempSync(join(tmpdir(), 'pvelab-ans-'));
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pvelab-t1', '-f', join(dir, 'id')]);
const pub = readFileSync(join(dir, 'id.pub'), 'utf8');
const lab = resolveLab(parseLabObject({ name: 't1', network: { cidr: '10.99.0.0/24' }, pve: { keyboard: 'de-ch', country: 'ch', timezone: 'Europe/Zurich' } }), []);
const names = labNames(lab, dir);
const node = names.nodes[1]!;
const secrets = { rootPassword: 'correct-horse-battery', rootPasswordHash: '' };

async function answers() {
  secrets.rootPasswordHash = await hashPassword(host, secrets.rootPassword);
  const out = new Map<string, string>();
  for (const r of ['8.2-1', '8.3-1', '8.4-1', '9.0-1', '9.2-1']) out.set(r, renderAnswer(nodeAnswerInput(lab, names, node, release(r), secrets, pub)));
  return out;
}

describe('answer files per release', async () => {
  const all = await answers();

  it('every release gets a file with no issue at all under its own rules', () => {
    for (const [r, text] of all) expect(checkAnswerText(text, release(r)), r).toEqual([]);
  });

  it('9.x / 8.4: kebab-case keys, hashed password, power-off after install', () => {
    const d = parseToml(all.get('9.2-1')!);
    expect(d['global']).toEqual({
      keyboard: 'de-ch',
      country: 'ch',
      fqdn: `pve2.${lab.pve.domain}`,
      mailto: lab.pve.mailto,
      timezone: 'Europe/Zurich',
      'root-password-hashed': secrets.rootPasswordHash,
      'root-ssh-keys': [pub.trim()],
      'reboot-mode': 'power-off',
    });
    expect(d['network']).toEqual({
      source: 'from-answer',
      cidr: `${node.ip}/24`,
      dns: names.network.dns,
      gateway: names.network.gateway,
      filter: { ID_NET_NAME_MAC: `*${node.mac.replace(/:/g, '').toLowerCase()}` },
    });
    expect(d['disk-setup']).toEqual({ filesystem: 'ext4', 'disk-list': ['vda'] });
    expect(all.get('8.4-1')).toBe(all.get('9.2-1')!.replace('9.2-1', '8.4-1'));
  });

  it('8.3: snake_case keys, hashed password, no reboot-mode (the domain stops via on_reboot=destroy)', () => {
    const g = parseToml(all.get('8.3-1')!)['global'] as Record<string, unknown>;
    expect(Object.keys(g)).toEqual(['keyboard', 'country', 'fqdn', 'mailto', 'timezone', 'root_password_hashed', 'root_ssh_keys']);
    expect(parseToml(all.get('8.3-1')!)['disk-setup']).toEqual({ filesystem: 'ext4', disk_list: ['vda'] });
  });

  it('8.2: snake_case keys with the plain password (8.2 ISOs have no hashed form)', () => {
    const g = parseToml(all.get('8.2-1')!)['global'] as Record<string, unknown>;
    expect(g['root_password']).toBe(secrets.rootPassword);
    expect(g['root_password_hashed']).toBeUndefined();
  });

  it('the styles are not interchangeable', () => {
    expect(checkAnswerText(all.get('9.2-1')!, release('8.3-1')).some((i) => i.severity === 'error')).toBe(true);
    expect(checkAnswerText(all.get('8.3-1')!, release('9.2-1')).every((i) => i.severity === 'warning')).toBe(true);
    expect(checkAnswerText(all.get('8.3-1')!, release('9.2-1')).length).toBeGreaterThan(0);
  });

  it('zfs: raid0 on the root disk', () => {
    const zlab = { ...lab, pve: { ...lab.pve, filesystem: 'zfs' as const } };
    for (const r of ['8.3-1', '9.2-1']) {
      const text = renderAnswer(nodeAnswerInput(zlab, names, node, release(r), secrets, pub));
      const ds = parseToml(text)['disk-setup'] as Record<string, unknown>;
      expect(ds['zfs']).toEqual({ raid: 'raid0' });
      expect(ds['filesystem']).toBe('zfs');
    }
  });

  it('refuses to render a file that breaks the rules', () => {
    const bad = { ...lab, pve: { ...lab.pve, timezone: 'Mars/Olympus' } };
    expect(() => renderAnswer(nodeAnswerInput(bad, names, node, release('9.2-1'), secrets, pub))).toThrow(/global.timezone/);
    expect(() => renderAnswer(nodeAnswerInput(lab, names, node, release('9.2-1'), { rootPassword: 'x' }, pub))).toThrow(/hashed root password/);
  });

  it('MAC filter: "*" + lower-case MAC without colons', () => {
    expect(macFilter('52:54:00:AB:cd:0F')).toBe('*525400abcd0f');
  });
});

describe('root password hash step', () => {
  it('hashes once through openssl (password on stdin), verifies, and keeps the secrets file 0600', async () => {
    clearSecrets();
    const state = new LabState(mkdtempSync(join(tmpdir(), 'pvelab-pw-')), 't1');
    const ctx = { lab, names, log: memoryLogger(), host, state, signal: new AbortController().signal, services: {}, progress: () => {}, dryRun: false } as StepContext;
    expect((await passwordHashStep.check(ctx)).kind).toBe('todo');
    await passwordHashStep.apply(ctx);
    const s = await state.secrets();
    expect(s.rootPasswordHash).toMatch(/^\$6\$[^$]+\$[./0-9A-Za-z]{86}$/);
    expect(s.rootPasswordHash).not.toContain(s.rootPassword);
    expect(await passwordHashStep.check(ctx)).toMatchObject({ kind: 'done' });
    expect(statSync(state.secretsPath).mode & 0o777).toBe(0o600);
    expect(mask(`hash ${s.rootPasswordHash}`)).not.toContain(s.rootPasswordHash!);
    await state.updateSecrets({ rootPassword: 'another-password' });
    expect((await passwordHashStep.check(ctx)).kind).toBe('todo');
  });
});
