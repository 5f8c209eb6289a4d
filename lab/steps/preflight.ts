// Gate before anything is created: `pvelab doctor`'s checks. Nothing to apply — a blocking problem
// stops `up` with every failed check and its fix.
import { PreflightError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { blocking, runChecks, type DoctorCheck } from '../doctor/checks.js';
import { gatherFacts, hostRoutes } from '../doctor/facts.js';

async function rows(ctx: StepContext): Promise<DoctorCheck[]> {
  return runChecks(await gatherFacts(ctx.lab, ctx.names, await hostRoutes(ctx.host)), ctx.lab, ctx.names);
}

export const preflightStep: Step = {
  id: 'host.preflight',
  title: 'Checking the host (pvelab doctor)',
  async check(ctx): Promise<StepStatus> {
    const bad = blocking(await rows(ctx));
    return bad.length === 0 ? { kind: 'done', detail: 'host ready' } : { kind: 'todo', reason: `${bad.length} blocking problem(s)` };
  },
  async apply(ctx) {
    const bad = blocking(await rows(ctx));
    if (bad.length === 0) return;
    throw new PreflightError(`the host is not ready for the lab:\n${bad.map((b) => `  ✗ ${b.title}: ${b.detail}\n      fix: ${b.fix ?? '-'}`).join('\n')}`, {
      hint: 'fix the lines above (sudo scripts/host-setup.sh does most of it), then run `pvelab up` again',
    });
  },
};
