// pvelab plan: the steps, which are done, which would run and the commands they would send
// (secrets masked). Changes nothing.
import type { Command } from 'commander';
import type { AppContext } from './app.js';
import type { StepOutcome } from '../core/pipeline.js';
import { labSteps } from '../steps/index.js';
import { runPipeline } from './run-steps.js';
import { mask } from '../core/secrets.js';

export function printPlan(app: AppContext, out: StepOutcome[]): void {
  if (app.options().json) return app.print(mask(JSON.stringify(out.map(({ ms: _ms, ...o }) => o), null, 2)));
  const lines = out.flatMap((o) => [
    `${o.result === 'done' ? '✓' : '•'} ${o.title} — ${o.result === 'done' ? 'done' : `would apply: ${o.detail ?? ''}`}`,
    ...(o.commands ?? []).map((c) => `    $ ${c}`),
  ]);
  app.print(mask(lines.join('\n')));
}

export function register(program: Command, app: AppContext): void {
  program
    .command('plan')
    .description('show what `up` would do: each step, whether it is done, and the commands it would run')
    .action(async () => {
      const loaded = await app.loadLab();
      printPlan(app, await runPipeline(app, loaded, labSteps(loaded.lab), 'plan', 'pvelab plan'));
    });
}
