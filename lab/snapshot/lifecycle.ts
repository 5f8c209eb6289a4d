// Stopping the lab's node VMs around a snapshot or reset, and letting go of the shared LUN so the
// restored file is what tgt serves afterwards (tgtd keeps its backing file open: the LUN is removed
// from tgt before the file is replaced, and `up` adds it back).
import type { StepContext } from '../core/step.js';
import { need } from '../core/step.js';
import { ownedDomains } from '../libvirt/owned.js';
import { hostLoginStep } from '../steps/storage-login.js';
import { targetStep } from '../steps/storage-target.js';

/** Stops every node VM of the lab: cleanly (ACPI, then forced at the deadline) or at once. */
export async function stopNodes(ctx: StepContext, how: 'clean' | 'now', timeoutMs = 180_000): Promise<void> {
  const lv = need(ctx, 'libvirt');
  const running = (await ownedDomains(lv, ctx.lab.name)).filter((d) => d.state !== 'shutoff');
  await Promise.all(
    running.map(async (d) => {
      ctx.progress(`${how === 'clean' ? 'shutting down' : 'powering off'} ${d.name}`);
      if (how === 'clean') await lv.shutdown(d.name, { timeoutMs, force: true, signal: ctx.signal });
      else await lv.destroy(d.name);
    }),
  );
}

/** Releases the shared storage before its files are replaced: host LVs off, host logout, targets removed. */
export async function releaseSharedStorage(ctx: StepContext): Promise<void> {
  if (ctx.lab.storage.layout === 'lvm') {
    await ctx.host.run(['vgchange', '-an', ctx.names.lvm.vg], { allowExit: [5] });
    await hostLoginStep.undo!(ctx);
  }
  await targetStep.undo!(ctx);
}
