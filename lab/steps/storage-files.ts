// Image-file steps: sparse raw LUN backing files, qcow2 root disks (layout qcow2), qcow2 ZFS data disks.
// check(): every file exists with the lab's size and format (a different one is drift: it may hold data).
// apply(): preflight for the directory and free space first, then creates only the missing files.
// undo(): rm -f of exactly these paths.
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { imageArgv } from '../storage/images.js';
import type { ImageSpec } from '../storage/spec.js';
import { assertNoProblems, gib, imagesDirProblems, specOf } from './storage-common.js';

type Have = { ok: true } | { ok: false; missing: true } | { ok: false; missing: false; why: string };

async function inspect(ctx: StepContext, i: ImageSpec): Promise<Have> {
  const img = need(ctx, 'images');
  const st = await img.stat(i.path);
  if (!st.exists) return { ok: false, missing: true };
  if (i.format === 'raw') {
    return st.sizeBytes === i.sizeBytes ? { ok: true } : { ok: false, missing: false, why: `${i.path} is ${gib(st.sizeBytes)}, the lab wants ${gib(i.sizeBytes)}` };
  }
  const info = await img.info(i.path, 'qcow2');
  if (!info) return { ok: false, missing: false, why: `${i.path} exists but is not a qcow2 image` };
  if (info.virtualSize !== i.sizeBytes) return { ok: false, missing: false, why: `${i.path} is a ${gib(info.virtualSize)} qcow2, the lab wants ${gib(i.sizeBytes)}` };
  return { ok: true };
}

export function imageStep(id: string, title: string, select: (all: readonly ImageSpec[]) => ImageSpec[]): Step {
  const images = (ctx: StepContext) => select(specOf(ctx).images);
  return {
    id,
    title,
    async check(ctx): Promise<StepStatus> {
      const list = images(ctx);
      const missing: string[] = [];
      for (const i of list) {
        const h = await inspect(ctx, i);
        if (h.ok) continue;
        if (!h.missing) return { kind: 'drift', detail: h.why, hint: `move the file away (it may hold data), or \`pvelab down\` to remove the lab's images` };
        missing.push(i.path);
      }
      if (missing.length) return { kind: 'todo', reason: `missing: ${missing.join(', ')}` };
      return { kind: 'done', detail: list.length ? list.map((i) => `${i.path} (${gib(i.sizeBytes)} ${i.format})`).join(', ') : 'nothing for this layout' };
    },
    async apply(ctx) {
      const list = images(ctx);
      if (list.length === 0) return;
      const img = need(ctx, 'images');
      assertNoProblems(await imagesDirProblems(ctx, list));
      if (!(await img.probeDir(ctx.names.imagesDir)).exists) await img.mkdir(ctx.names.imagesDir);
      for (const i of list) {
        const h = await inspect(ctx, i);
        if (h.ok) continue;
        if (!h.missing) throw new LabError(`refusing to replace ${i.path}: ${h.why}`, { hint: 'move the file away (it may hold data), or `pvelab down`' });
        ctx.progress(`creating ${i.path} (${gib(i.sizeBytes)} ${i.format}, sparse)`);
        if (i.format === 'raw') await img.createSparse(i.path, i.sizeBytes);
        else await img.createQcow2(i.path, i.sizeBytes);
      }
    },
    async undo(ctx) {
      const img = need(ctx, 'images');
      for (const i of images(ctx)) await img.remove(i.path);
      // the lab's own directory inside an explicit storage.dir goes with its last image
      if (ctx.lab.storage.dir !== undefined) await img.removeDirIfEmpty(ctx.names.imagesDir);
    },
    describe(ctx) {
      return images(ctx).map((i) => (i.format === 'raw' ? imageArgv.sparse(i.path, i.sizeBytes) : imageArgv.qcow2(i.path, i.sizeBytes)).join(' '));
    },
  };
}

/** LUN backing files: the shared LUN, and each node's root LUN in layout iscsi. */
export const lunFilesStep = imageStep('storage.lun-files', 'Creating the sparse LUN backing files', (all) => all.filter((i) => i.role === 'lun' || i.role === 'node-lun'));

/** Layout qcow2: one root image per node. */
export const rootImagesStep = imageStep('storage.root-images', 'Creating the nodes\' qcow2 root disks', (all) => all.filter((i) => i.role === 'root'));

/** One qcow2 ZFS data disk per node (names.nodes[i].zfsImage). */
export const zfsImagesStep = imageStep('storage.zfs-images', 'Creating the nodes\' ZFS data disks', (all) => all.filter((i) => i.role === 'zfs'));
