// pvelab plan [--out DIR]: the steps, which are done, which would run and the commands they would send
// (secrets masked). Changes nothing; --out also writes every generated artefact into DIR (plan-out.ts).
import type { Command } from 'commander';
import type { AppContext } from './app.js';
import type { StepOutcome } from '../core/pipeline.js';
import { labSteps } from '../steps/index.js';
import { runPipeline } from './run-steps.js';
import { mask } from '../core/secrets.js';
import { writePlanArtefacts } from './plan-out.js';

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
    .option('--out <dir>', 'also write every generated artefact (network and domain XML, answer files, tgt configuration) into DIR for review; secrets masked')
    .action(async (opts: { out?: string }) => {
      const loaded = await app.loadLab();
      printPlan(app, await runPipeline(app, loaded, labSteps(loaded.lab, loaded.names), 'plan', 'pvelab plan'));
      if (opts.out === undefined) return;
      const artefacts = { id: 'plan.out', title: 'Writing the artefacts for review', check: async () => ({ kind: 'done' as const }), apply: async () => {} };
      const ctx = app.stepContext(loaded, {}, { dryRun: true })(artefacts, () => {});
      const files = await writePlanArtefacts(ctx, opts.out);
      app.log.info(`wrote ${files.length} files for review to ${opts.out} (secrets masked):\n${files.map((f) => `  ${f}`).join('\n')}`);
    });
}
