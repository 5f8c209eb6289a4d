// Layout lvm: PV + VG on the shared LUN, tagged with the lab (the nodes later use the same VG as shared
// LVM storage). Never wipes what pvelab did not create: the device must be blank, or carry our own PV
// (UUID from pvUuidOf) — any other signature stops with the device and what is on it.
// undo: only a VG with our tag: its tagged LVs, then the VG (with what PVE put in it), then our PV label.
import { LabError, PreflightError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { lvmArgv, pvUuidOf } from '../storage/lvm.js';
import { specOf, unlessMissingTool } from './storage-common.js';
import { sharedLunByPath } from './storage-login.js';

/** The shared LUN's block device on the host, or undefined when the host is not logged in. */
export async function lunDevice(ctx: StepContext): Promise<string | undefined> {
  return need(ctx, 'iscsiadm').device(sharedLunByPath(ctx));
}

async function ourVg(ctx: StepContext): Promise<'ours' | 'foreign' | 'none'> {
  const { name, tag } = specOf(ctx).vg;
  const vg = (await need(ctx, 'lvm').vgs(name))[0];
  return !vg ? 'none' : vg.tags.includes(tag) ? 'ours' : 'foreign';
}

const foreignVg = (ctx: StepContext) => ({
  detail: `a volume group named ${ctx.names.lvm.vg} exists without the tag ${ctx.names.lvm.tag}: it is not this lab's`,
  hint: `rename it (vgrename ${ctx.names.lvm.vg} other_name) or give the lab another name`,
});


/** Undo body: only a VG with our tag — its tagged LVs, the VG (with what PVE put in it), our PV label. */
async function undoVg(ctx: StepContext): Promise<void> {
  const lvm = need(ctx, 'lvm');
  const { name, tag } = specOf(ctx).vg;
  const vg = (await lvm.vgs(name))[0];
  if (vg && !vg.tags.includes(tag)) {
    ctx.log.warn(`volume group ${name} has no tag ${tag}: not this lab's, left alone`);
    return;
  }
  const uuid = pvUuidOf(ctx.names.lab);
  const pvs = (await lvm.pvs()).filter((p) => p.uuid === uuid && (p.vg === '' || p.vg === name));
  if (vg) {
    for (const lv of await lvm.lvs(name)) if (lv.tags.includes(tag)) await lvm.lvremove(name, lv.name);
    await lvm.vgremove(name);
  }
  for (const p of pvs) await lvm.pvremove(p.name);
}

export const vgStep: Step = {
  id: 'storage.vg',
  title: 'Creating the lab volume group on the shared LUN',
  async check(ctx): Promise<StepStatus> {
    const state = await ourVg(ctx);
    if (state === 'foreign') return { kind: 'drift', ...foreignVg(ctx) };
    if (state === 'none') return { kind: 'todo', reason: `no volume group ${ctx.names.lvm.vg}` };
    return { kind: 'done', detail: `${ctx.names.lvm.vg} (tag ${ctx.names.lvm.tag})` };
  },
  async apply(ctx) {
    const lvm = need(ctx, 'lvm');
    const { name, tag } = specOf(ctx).vg;
    const state = await ourVg(ctx);
    if (state === 'ours') return;
    if (state === 'foreign') throw new LabError(foreignVg(ctx).detail, { hint: foreignVg(ctx).hint });
    const dev = await lunDevice(ctx);
    if (!dev || !(await lvm.isBlockDevice(dev))) throw new LabError('the shared LUN is not attached to the host', { hint: 'the storage.host-login step attaches it; run `pvelab up` again' });
    const uuid = pvUuidOf(ctx.names.lab);
    const sig = await lvm.signature(dev);
    if (sig.type !== undefined) {
      const ourPv = sig.type === 'LVM2_member' && sig.uuid === uuid;
      const inVg = ourPv ? (await lvm.pvs(dev))[0]?.vg : undefined;
      if (!ourPv || (inVg && inVg !== name))
        throw new PreflightError(`${dev} (the shared LUN) already carries ${sig.type}${sig.uuid ? ` UUID=${sig.uuid}` : ''}${inVg ? ` in volume group ${inVg}` : ''}: pvelab never wipes what it did not create`, {
          hint: `if its data is yours to lose: wipefs -a ${dev}, then run \`pvelab up\` again`,
        });
    } else {
      ctx.progress(`pvcreate ${dev}`);
      await lvm.pvcreate(dev, uuid);
    }
    ctx.progress(`vgcreate --addtag ${tag} ${name} ${dev}`);
    await lvm.vgcreate(name, dev, tag);
  },
  async undo(ctx) {
    await unlessMissingTool(() => undoVg(ctx));
  },
  async describe(ctx) {
    const dev = (await lunDevice(ctx).catch(() => undefined)) ?? `/dev/disk/by-path/${sharedLunByPath(ctx)}`;
    const { name, tag } = specOf(ctx).vg;
    return [`blkid -p ${dev}   # must be blank`, lvmArgv.pvcreate(dev, pvUuidOf(ctx.names.lab)).join(' '), lvmArgv.vgcreate(name, dev, tag).join(' ')];
  },
};
