// `pvelab failover` / `pvelab heal` option handling through commander: bad input is a usage error
// before the lab lock, libvirt or any node is touched.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, test } from 'vitest';
import { createApp } from '../../lab/cli/app.js';
import { register as registerFailover } from '../../lab/cli/failover.js';
import { register as registerHeal } from '../../lab/cli/heal.js';
import { UsageError } from '../../lab/core/errors.js';

const home = mkdtempSync(join(tmpdir(), 'pvelab-failover-cli-'));
process.env['PVELAB_HOME'] = home;
afterAll(() => rmSync(home, { recursive: true, force: true }));

function cli() {
  const out: string[] = [];
  const program = new Command('pvelab').option('--json').option('-c, --config <file>').exitOverride();
  const app = createApp(program, new AbortController().signal, (t) => out.push(t));
  registerFailover(program, app);
  registerHeal(program, app);
  for (const c of program.commands) c.exitOverride();
  return { out, parse: (...args: string[]) => program.parseAsync(['node', 'pvelab', ...args]) };
}

describe('pvelab failover options', () => {
  test.each([
    [['--fault', 'meteor'], /unknown fault "meteor"/],
    [['--node', 'pve9'], /--node pve9: no such node/],
    [['--trials', '0'], /invalid --trials "0"/],
    [['--trials', '2.5'], /invalid --trials/],
    [['--interval', 'fast'], /invalid --interval "fast"/],
    [['--interval', '5ms'], /at least 10ms/],
    [['--settle', '1x'], /invalid --settle/],
  ])('%j → usage error, nothing touched', async (args, msg) => {
    const err = await cli().parse('failover', ...args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(msg);
    expect(existsSync(join(home, 'lab', 'lock'))).toBe(false);
  });

  test('help names every fault and says the defaults come from the lab file', () => {
    const program = new Command('pvelab');
    registerFailover(program, createApp(program, new AbortController().signal, () => {}));
    const help = program.commands.find((c) => c.name() === 'failover')!.helpInformation();
    for (const k of ['link-down', 'power-off', 'freeze', 'storage-loss', 'failover.probeIntervalMs', 'failover.settleS', 'failover.trialTimeoutS']) expect(help).toContain(k);
  });
});
