// `pvelab report` through commander: latest run, one run in place, several aggregated, errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, test } from 'vitest';
import { createApp } from '../../lab/cli/app.js';
import { register as registerProbe } from '../../lab/cli/probe.js';
import { register } from '../../lab/cli/report.js';
import { writeRunDir } from '../../lab/report/write.js';
import { sampleRun } from './report-fixtures.js';

function cli() {
  const out: string[] = [];
  const program = new Command('pvelab').option('--json').exitOverride();
  const app = createApp(program, new AbortController().signal, (t) => out.push(t));
  register(program, app);
  registerProbe(program, app);
  for (const c of program.commands) c.exitOverride();
  return { out, parse: (...args: string[]) => program.parseAsync(['node', 'pvelab', ...args]) };
}

describe('pvelab report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvelab-report-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('with no runs it says where it looked', async () => {
    await expect(cli().parse('report', '--runs-dir', join(dir, 'empty'))).rejects.toThrow(/no runs under .*empty/);
  });

  test('no argument re-renders the latest run in place', async () => {
    const older = await writeRunDir(sampleRun({ id: '20250101T000000Z-a' }), dir);
    const newer = await writeRunDir(sampleRun({ id: '20250102T000000Z-b' }), dir);
    rmSync(join(newer.dir, 'report.html'));
    const c = cli();
    await c.parse('report', '--runs-dir', dir);
    expect(c.out).toEqual([join(newer.dir, 'trials.csv'), join(newer.dir, 'report.md'), join(newer.dir, 'report.html')]);
    expect(existsSync(join(newer.dir, 'report.html'))).toBe(true);
    expect(older.dir).not.toBe(newer.dir);
  });

  test('several runs are aggregated into one report with all their trials', async () => {
    const a = join(dir, '20250101T000000Z-a');
    const b = join(dir, '20250102T000000Z-b');
    const out = join(dir, 'agg');
    const c = cli();
    await c.parse('--json', 'report', a, join(b, 'run.json'), '--out', out);
    const res = JSON.parse(c.out.join('\n')) as { dir: string; trials: number; runs: string[]; kinds: Array<{ faultKind: string; trials: number }> };
    const one = sampleRun().trials.length;
    expect(res.trials).toBe(2 * one);
    expect(res.runs).toEqual(['20250101T000000Z-a', '20250102T000000Z-b']);
    expect(res.kinds.reduce((s, k) => s + k.trials, 0)).toBe(2 * one);
    const csv = readFileSync(join(out, 'trials.csv'), 'utf8').trim().split('\r\n');
    expect(csv.length).toBe(1 + 2 * one);
  });

  test('a path that is not a run is refused with a hint', async () => {
    await expect(cli().parse('report', join(dir, 'nope'))).rejects.toThrow(/no run at/);
  });
});

describe('pvelab probe argument checks (no traffic is sent)', () => {
  test.each([
    [['probe', 'https://192.0.2.1/'], /only http:\/\//],
    [['probe', 'not a url'], /invalid URL/],
    [['probe', 'http://192.0.2.1/', '--interval', 'fast'], /invalid --interval "fast"/],
    [['probe', 'http://192.0.2.1/', '--min-failed', '0'], /invalid --min-failed/],
  ])('%j is refused', async (args, msg) => {
    await expect(cli().parse(...args)).rejects.toThrow(msg);
  });
});
