// pvelab down [--yes] [--name LAB] [--keep-cache]: every step's undo in reverse order. Each undo finds
// its objects by pvelab's marks (libvirt metadata, IQN, LVM tag, file locations), so it works with the
// state directory and the lab file gone; it touches nothing without our mark; running it twice succeeds.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { AppContext, LoadedLab } from './app.js';
import { UsageError } from '../core/errors.js';
import { LabState } from '../core/state.js';
import { labNames, pvelabHome, type Lab } from '../config/names.js';
import { parseLabObject, resolveLab } from '../config/load.js';
import { labSteps } from '../steps/index.js';
import { runPipeline } from './run-steps.js';

/**
 * The lab to tear down: as it was built (the journal keeps the lab file it was built from), else the
 * lab file, else — `--name` with no state at all — the default lab of that name, whose derived names
 * are enough to find every marked object.
 */
export async function labForDown(app: AppContext, name: string | undefined): Promise<LoadedLab> {
  const home = pvelabHome();
  const fromJournal = async (labName: string): Promise<LoadedLab | undefined> => {
    const state = new LabState(`${home}/${labName}`, labName);
    const j = await state.readJournal().catch(() => undefined);
    if (!j?.config) return undefined;
    const lab = j.config as Lab;
    return { spec: lab as unknown as LoadedLab['spec'], lab, names: labNames(lab, home), state, source: `${state.journalPath} (as built)` };
  };
  if (name !== undefined) {
    if (!/^[a-z][a-z0-9-]{0,11}$/.test(name)) throw new UsageError(`--name "${name}" is not a lab name`, { hint: 'lab names are 1-12 characters: a-z, 0-9 and "-"' });
    const j = await fromJournal(name);
    if (j) return j;
    const lab = resolveLab(parseLabObject({ name }), [], '10.77.0.0/24');
    return { spec: parseLabObject({ name }), lab, names: labNames(lab, home), state: new LabState(`${home}/${name}`, name), source: `marks of lab "${name}"` };
  }
  const loaded = await app.loadLab();
  return (await fromJournal(loaded.lab.name)) ?? loaded;
}

async function confirm(labName: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Remove lab "${labName}" and everything pvelab built for it? Type the lab name to confirm: `);
    return answer.trim() === labName;
  } finally {
    rl.close();
  }
}

export function register(program: Command, app: AppContext): void {
  program
    .command('down')
    .description('remove the lab and everything pvelab built for it (nothing else); safe to run twice')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--name <lab>', 'the lab to remove, found by its marks (works without the lab file or state)')
    .option('--keep-cache', 'keep the downloaded ISO and container template caches')
    .action(async (opts: { yes?: boolean; name?: string; keepCache?: boolean }) => {
      const loaded = await labForDown(app, opts.name);
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new UsageError('`pvelab down` removes the whole lab; confirm with --yes', { hint: `pvelab down --yes${opts.name ? ` --name ${opts.name}` : ''}` });
        if (!(await confirm(loaded.lab.name))) throw new UsageError('not confirmed; nothing was removed');
      }
      app.log.info(`pvelab down: lab "${loaded.lab.name}" (${loaded.source})`);
      const out = await runPipeline(app, loaded, labSteps(loaded.lab, loaded.names), 'down', 'pvelab down', { keepCache: opts.keepCache ?? false });
      if (app.options().json) app.print(JSON.stringify({ lab: loaded.lab.name, removed: out.map((o) => o.id) }, null, 2));
      else app.log.info(`✓ lab "${loaded.lab.name}" removed`);
    });
}
