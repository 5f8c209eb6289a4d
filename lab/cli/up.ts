// pvelab up [--dry-run]: build the lab, or continue building it (every step checks the world first,
// so running it again resumes where it stopped and changes nothing that is already right).
import type { Command } from 'commander';
import type { AppContext } from './app.js';
import { labSteps } from '../steps/index.js';
import { runPipeline } from './run-steps.js';
import { printPlan } from './plan.js';

export function register(program: Command, app: AppContext): void {
  program
    .command('up')
    .description('build the lab (or resume building it); safe to run again')
    .option('--dry-run', 'show the steps, which are done and the commands the others would run; change nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      const loaded = await app.loadLab();
      const steps = labSteps(loaded.lab);
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
