// The lab's golden snapshots (pvelab snapshot save) live beside its disks; `up` has nothing to build
// for them, and `down` removes them with the lab: they are copies of the lab's disks.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Step } from '../core/step.js';
import { listSnapshots } from '../snapshot/store.js';

export const snapshotsStep: Step = {
  id: 'lab.snapshots',
  title: 'Golden snapshots',
  async check(ctx) {
    const all = await listSnapshots(ctx.names.imagesDir);
    return { kind: 'done', detail: all.length ? `${all.map((s) => s.name).join(', ')}` : 'none yet (pvelab snapshot save)' };
  },
  async apply() {},
  async undo(ctx) {
    await rm(join(ctx.names.imagesDir, 'snapshots'), { recursive: true, force: true });
  },
};
