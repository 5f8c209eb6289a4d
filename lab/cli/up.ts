// pvelab up [--dry-run]: build the lab, or continue building it (every step checks the world first,
// so running it again resumes where it stopped and changes nothing that is already right).
import type { Command } from 'commander';
import type { AppContext } from './app.js';
import { labSteps } from '../steps/index.js';
import { runPipeline } from './run-steps.js';
import { UsageError } from '../core/errors.js';
import type { Step } from '../core/step.js';

/** The steps up to and including the first whose id is `until` or starts with `until.` (e.g. "nodes.install", "pve.cluster"). */
export function stepsUntil(steps: Step[], until: string | undefined): Step[] {
  if (until === undefined) return steps;
  let last = -1;
  steps.forEach((s, i) => {
    if (s.id === until || s.id.startsWith(`${until}.`) || s.id.startsWith(`${until}-`)) last = i;
  });
  if (last < 0) throw new UsageError(`--until ${until}: no such step`, { hint: `steps: ${steps.map((s) => s.id).join(', ')}` });
  return steps.slice(0, last + 1);
}
import { printPlan } from './plan.js';

export function register(program: Command, app: AppContext): void {
  program
    .command('up')
    .description('build the lab (or resume building it); safe to run again')
    .option('--dry-run', 'show the steps, which are done and the commands the others would run; change nothing')
    .option('--until <step>', 'stop after this step (id or group, e.g. nodes.install to let a class build the cluster by hand); see `pvelab plan --json` for ids')
    .action(async (opts: { dryRun?: boolean; until?: string }) => {
      const loaded = await app.loadLab();
      const steps = stepsUntil(labSteps(loaded.lab, loaded.names), opts.until);
      if (opts.dryRun) return printPlan(app, await runPipeline(app, loaded, steps, 'plan', 'pvelab up --dry-run'));
      app.log.info(`pvelab up: lab "${loaded.lab.name}" (${loaded.source}), network ${loaded.lab.network.cidr}`);
      try {
        const out = await runPipeline(app, loaded, steps, 'up', 'pvelab up');
        const applied = out.filter((o) => o.result === 'applied').length;
        const summary = applied === 0 ? 'nothing to do: the lab is already as the lab file says' : `${applied} step(s) applied, ${out.length - applied} already done`;
        if (app.options().json) app.print(JSON.stringify({ lab: loaded.lab.name, steps: out }, null, 2));
        else app.log.info(`✓ ${summary}`);
      } catch (err) {
        app.log.info('`pvelab up` resumes from the failed step when run again; `pvelab down` removes everything pvelab built.');
        throw err;
      }
    });
}
