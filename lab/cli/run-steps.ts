// Shared driver for commands that run the pipeline (up, down, plan): lock, services, interactive or
// plain progress, the closing line that says how to resume or clean up.
import type { AppContext, LoadedLab } from './app.js';
import type { Services, Step } from '../core/step.js';
import { runDown, runPlan, runUp, type StepOutcome } from '../core/pipeline.js';
import { openServices } from './services.js';

export type Mode = 'up' | 'down' | 'plan';

export async function runPipeline(app: AppContext, loaded: LoadedLab, steps: Step[], mode: Mode, command: string, opts: { keepCache?: boolean; services?: Partial<Services> } = {}): Promise<StepOutcome[]> {
  // A caller that already holds the lock and the services (snapshot, reset) passes its services.
  const release = mode === 'plan' || opts.services ? async () => {} : await loaded.state.lock(command);
  const services: { value: Partial<Services>; close: () => Promise<void> } = opts.services ? { value: opts.services, close: async () => {} } : await openServices(app, loaded);
  const interactive = process.stderr.isTTY === true && (app.options().verbose ?? 0) === 0 && !app.options().json;
  const make = app.stepContext(loaded, services.value, { dryRun: mode === 'plan', keepCache: opts.keepCache ?? false });
  try {
    if (mode === 'up') return await runUp(steps, make, { interactive });
    if (mode === 'down') return await runDown(steps, make, { interactive });
    return await runPlan(steps, make);
  } finally {
    await services.close();
    await release();
  }
}
