// Gate before any storage object exists: the image directory (present, a directory, writable), room for
// every image still to be made, and the portal address (the LUN-vs-root-LVs size is a lab-file rule).
// All problems are reported together as one PreflightError; nothing to undo.
import type { Step, StepStatus } from '../core/step.js';
import { assertNoProblems, storageProblems } from './storage-common.js';

export const storagePreflightStep: Step = {
  id: 'storage.preflight',
  title: 'Checking host storage (image directory, free space, portal)',
  async check(ctx): Promise<StepStatus> {
    const p = await storageProblems(ctx);
    return p.length === 0 ? { kind: 'done', detail: `images in ${ctx.names.imagesDir}, portal ${ctx.names.iscsi.portal}` } : { kind: 'todo', reason: p.join('; ') };
  },
  async apply(ctx) {
    assertNoProblems(await storageProblems(ctx));
  },
};
