// The real CLI through the launcher, as a user runs it: exit codes, stdout vs stderr, field names.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const fixtures = join(repo, 'test/fixtures/lab');
const pvelab = (args: string[], env: Record<string, string> = {}) =>
  execa(join(repo, 'pvelab'), args, { reject: false, cwd: repo, env: { PVELAB_HOME: '/tmp/pvelab-cli-test-home', ...env } });

beforeAll(async () => {
  // First run installs/builds if needed; later runs must be quiet and fast.
  const r = await pvelab(['--version']);
  expect(r.exitCode).toBe(0);
}, 300_000);

describe('pvelab CLI', () => {
  it('prints help and version on stdout with exit 0', async () => {
    const help = await pvelab(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('doctor');
    expect(help.stdout).toContain('config');
    const v = await pvelab(['--version']);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version);
    expect(v.stderr).toBe('');
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await pvelab(['frobnicate'])).exitCode).toBe(2);
    expect((await pvelab(['doctor', '--no-such-flag'])).exitCode).toBe(2);
  });

  it.each(readdirSync(join(fixtures, 'invalid')))('config validate rejects %s with exit 2 naming the field', async (f) => {
    const file = join(fixtures, 'invalid', f);
    const want = /^# expect: (.+)$/m.exec(readFileSync(file, 'utf8'))![1]!.trim();
    const r = await pvelab(['config', 'validate', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(want);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^✗ /);
  });

  it('config validate accepts a valid file', async () => {
    const r = await pvelab(['config', 'validate', join(fixtures, 'valid/full.yaml')]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('valid');
  });

  it('config show prints the effective lab as YAML, --json as JSON', async () => {
    const y = await pvelab(['config', 'show']);
    expect(y.exitCode).toBe(0);
    expect(y.stdout).toMatch(/^# effective lab from built-in default/);
    expect(y.stdout).toMatch(/cidr: 10\.\d+\.\d+\.0\/24/);
    const j = await pvelab(['--json', '-c', join(fixtures, 'valid/full.yaml'), 'config', 'show']);
    expect(JSON.parse(j.stdout).network.cidr).toBe('10.88.0.0/24');
  });

  it('config schema prints a JSON Schema', async () => {
    const r = await pvelab(['config', 'schema']);
    expect(JSON.parse(r.stdout).type).toBe('object');
  });

  it('doctor --json explains that this host cannot run nested KVM guests and exits non-zero', async () => {
    const r = await pvelab(['doctor', '--json']);
    const out = JSON.parse(r.stdout) as { ready: boolean; checks: { id: string; status: string; detail: string; fix?: string }[] };
    const flags = out.checks.find((c) => c.id === 'cpu-flags')!;
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    if (/\b(vmx|svm)\b/.test(cpuinfo)) {
      expect(flags.status).toBe('ok');
    } else {
      expect(flags.status).toBe('fail');
      expect(flags.detail).toMatch(/neither vmx nor svm/);
      expect(flags.fix).toBeTruthy();
      expect(out.ready).toBe(false);
      expect(r.exitCode).toBe(1);
    }
    for (const c of out.checks) if (c.status !== 'ok') expect(c.fix, c.id).toBeTruthy();
  });
});
