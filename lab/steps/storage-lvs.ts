// Layout lvm: one root LV per node in the lab VG, tagged with the lab, active on the host (libvirt hands
// /dev/<vg>/<lv> to the node). An LV with a root LV's name but without our tag, or with another size,
// is drift. undo removes only LVs that carry our tag and a root-LV name.
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { lvmArgv, type Lv } from '../storage/lvm.js';
import { gib, specOf, unlessMissingTool } from './storage-common.js';

type Row = { want: ReturnType<typeof specOf>['vg']['rootLvs'][number]; have: Lv | undefined };

async function rows(ctx: StepContext): Promise<Row[]> {
  const { name, rootLvs } = specOf(ctx).vg;
  const lvs = await need(ctx, 'lvm').lvs(name);
  return rootLvs.map((want) => ({ want, have: lvs.find((l) => l.name === want.name) }));
}

function driftOf(ctx: StepContext, r: Row): string | undefined {
  if (!r.have) return undefined;
  if (!r.have.tags.includes(ctx.names.lvm.tag)) return `${r.have.vg}/${r.have.name} exists without the tag ${ctx.names.lvm.tag}`;
  if (r.have.sizeBytes !== r.want.sizeBytes) return `${r.have.vg}/${r.have.name} is ${gib(r.have.sizeBytes)}, the lab wants ${gib(r.want.sizeBytes)}`;
  return undefined;
}

export const rootLvsStep: Step = {
  id: 'storage.root-lvs',
  title: 'Creating the nodes\' root LVs',
  async check(ctx): Promise<StepStatus> {
    const rs = await rows(ctx);
    for (const r of rs) {
      const d = driftOf(ctx, r);
      if (d) return { kind: 'drift', detail: d, hint: 'the node\'s disk may hold an installed system: remove the LV by hand (lvremove) only if that is fine' };
    }
    const missing = rs.filter((r) => !r.have).map((r) => r.want.name);
    if (missing.length) return { kind: 'todo', reason: `missing LVs: ${missing.join(', ')}` };
    const inactive = rs.filter((r) => !r.have!.active).map((r) => r.want.name);
    if (inactive.length) return { kind: 'todo', reason: `inactive LVs: ${inactive.join(', ')}` };
    return { kind: 'done', detail: rs.map((r) => `${r.have!.path} (${gib(r.want.sizeBytes)})`).join(', ') };
  },
  async apply(ctx) {
    const lvm = need(ctx, 'lvm');
    const { name, tag } = specOf(ctx).vg;
    const vg = (await lvm.vgs(name))[0];
    if (!vg || !vg.tags.includes(tag)) throw new LabError(`the lab volume group ${name} is missing`, { hint: 'the storage.vg step creates it; run `pvelab up` again' });
    const rs = await rows(ctx);
    for (const r of rs) {
      const d = driftOf(ctx, r);
      if (d) throw new LabError(`refusing to touch ${r.want.name}: ${d}`);
    }
    const needBytes = rs.filter((r) => !r.have).reduce((a, r) => a + r.want.sizeBytes, 0);
    if (needBytes > vg.freeBytes) throw new LabError(`volume group ${name} has ${gib(vg.freeBytes)} free, the missing root LVs need ${gib(needBytes)}`, { hint: 'raise storage.lunGiB (after `pvelab down`) or lower nodeDefaults.rootGiB' });
    for (const r of rs) {
      if (!r.have) {
        ctx.progress(`lvcreate ${name}/${r.want.name} (${gib(r.want.sizeBytes)})`);
        await lvm.lvcreate(name, r.want.name, r.want.sizeBytes, tag);
      } else if (!r.have.active) await lvm.lvactivate(name, r.want.name);
    }
  },
  async undo(ctx) {
    const lvm = need(ctx, 'lvm');
    const { name, tag, rootLvs } = specOf(ctx).vg;
    await unlessMissingTool(async () => {
      const vg = (await lvm.vgs(name))[0];
      if (!vg || !vg.tags.includes(tag)) return;
      for (const lv of await lvm.lvs(name)) if (lv.tags.includes(tag) && rootLvs.some((r) => r.name === lv.name)) await lvm.lvremove(name, lv.name);
    });
  },
  describe(ctx) {
    const { name, tag, rootLvs } = specOf(ctx).vg;
    return rootLvs.map((r) => lvmArgv.lvcreate(name, r.name, r.sizeBytes, tag).join(' '));
  },
};
