// Storage: the iSCSI LUN (portal = the host on the lab network, content none), shared LVM on the lab
// VG, one ZFS pool per node on its data disk, and a zfspool storage. Storage definitions are
// cluster-wide: registered once via the first node, then verified active on every node (pvesh JSON).
import type { LabNames } from '../config/names.js';
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { waitFor } from '../core/wait.js';
import {
  PVS_ARGV, type StorageSpec, findStorage, iscsiLuns, iscsiStorage, lunByIdName, lvmStorage, parsePvs, pickZfsDisk, storageActive, storageCreateParams, storageDiff, zfsCreateParams, zfsPoolHealth, zfsStorage,
} from '../pve/storage.js';
import { andList, firstNode, progressOutput, pveshOf, runnerOf } from './pve-common.js';

async function inactiveOn(ctx: StepContext, id: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of ctx.names.nodes) if (!storageActive(await pveshOf(ctx, n.name).get(`/nodes/${n.name}/storage`), id)) out.push(n.name);
  return out;
}

async function inspectStorage(ctx: StepContext, spec: StorageSpec): Promise<StepStatus> {
  const existing = findStorage(await pveshOf(ctx, firstNode(ctx).name).get('/storage'), spec.storage);
  if (!existing) return { kind: 'todo', reason: `storage ${spec.storage} is not defined` };
  const diffs = storageDiff(existing, spec);
  if (diffs.length)
    return { kind: 'drift', detail: `storage ${spec.storage} differs from the lab: ${diffs.join('; ')}`, hint: `remove it with \`pvesm remove ${spec.storage}\` on a node (guests on it must go first), then run \`pvelab up\` again` };
  const inactive = await inactiveOn(ctx, spec.storage);
  if (inactive.length) return { kind: 'todo', reason: `storage ${spec.storage} is not active on ${andList(inactive)}` };
  return { kind: 'done', detail: `${spec.type} storage ${spec.storage} active on every node` };
}

async function ensureStorage(ctx: StepContext, spec: () => Promise<StorageSpec>, id: string): Promise<void> {
  const first = firstNode(ctx).name;
  if (!findStorage(await pveshOf(ctx, first).get('/storage'), id)) await pveshOf(ctx, first).create('/storage', storageCreateParams(await spec()));
  await waitFor(
    async () => {
      const inactive = await inactiveOn(ctx, id);
      return inactive.length ? { done: false, seen: `inactive on ${andList(inactive)}` } : { done: true, value: undefined };
    },
    { what: `storage ${id} to be active on every node`, timeoutMs: 180_000, intervalMs: 3000, signal: ctx.signal, hint: `\`pvesm status\` on the node says why; for iSCSI check the target on the host (${ctx.names.iscsi.portal}:3260)` },
  );
}

export const storageIscsiStep: Step = {
  id: 'pve.storage-iscsi',
  title: 'Adding the shared iSCSI LUN as Proxmox storage',
  check: (ctx) => inspectStorage(ctx, iscsiStorage(ctx.names)),
  apply: (ctx) => ensureStorage(ctx, async () => iscsiStorage(ctx.names), ctx.names.pve.storageIscsi),
  async undo() {},
  describe: (ctx) => [`pvesh create /storage --storage ${ctx.names.pve.storageIscsi} --type iscsi --portal ${ctx.names.iscsi.portal} --target ${ctx.names.iscsi.iqn} --content none`],
};

/** The LUN that carries the lab VG: the only LUN, or the one whose device is a PV of the VG. */
export async function lvmBaseVolume(ctx: StepContext): Promise<string> {
  const n: LabNames = ctx.names;
  const first = firstNode(ctx).name;
  const luns = iscsiLuns(await pveshOf(ctx, first).get(`/nodes/${first}/storage/${n.pve.storageIscsi}/content`));
  if (luns.length === 1) return luns[0]!;
  if (luns.length === 0) throw new LabError(`the iSCSI storage ${n.pve.storageIscsi} shows no LUN on ${first}`, { hint: `check the target ${n.iscsi.iqn} on the host exports the shared LUN to ${n.iscsi.initiatorAcl}` });
  const run = runnerOf(ctx, first);
  const pvs = parsePvs(JSON.parse((await run.run(PVS_ARGV)).stdout));
  for (const volid of luns) {
    const dev = (await run.run(['readlink', '-f', `/dev/disk/by-id/${lunByIdName(volid)}`], { allowExit: [1] })).stdout.trim();
    if (pvs.some((p) => p.pv === dev && p.vg === n.lvm.vg)) return volid;
  }
  throw new LabError(`none of the LUNs of ${n.pve.storageIscsi} (${luns.join(', ')}) holds the volume group ${n.lvm.vg}`, { hint: 'the host builds the VG on the shared LUN; run `pvelab up` from the start' });
}

export const storageLvmStep: Step = {
  id: 'pve.storage-lvm',
  title: 'Adding shared LVM on the iSCSI LUN',
  check: (ctx) => inspectStorage(ctx, lvmStorage(ctx.names)),
  apply: (ctx) => ensureStorage(ctx, async () => lvmStorage(ctx.names, await lvmBaseVolume(ctx)), ctx.names.pve.storageLvm),
  async undo() {},
  describe: (ctx) => [`pvesh create /storage --storage ${ctx.names.pve.storageLvm} --type lvm --vgname ${ctx.names.lvm.vg} --base <LUN of ${ctx.names.pve.storageIscsi}> --shared 1 --content images,rootdir`],
};

async function poolStates(ctx: StepContext): Promise<{ node: string; health: string | undefined }[]> {
  const pool = ctx.names.pve.zfsPool;
  const out: { node: string; health: string | undefined }[] = [];
  for (const n of ctx.names.nodes) out.push({ node: n.name, health: zfsPoolHealth(await pveshOf(ctx, n.name).get(`/nodes/${n.name}/disks/zfs`), pool) });
  return out;
}

export const zfsPoolsStep: Step = {
  id: 'pve.zfs-pools',
  title: 'Creating a ZFS pool on every node',
  async check(ctx) {
    const pool = ctx.names.pve.zfsPool;
    const states = await poolStates(ctx);
    const sick = states.filter((s) => s.health !== undefined && s.health !== 'ONLINE');
    if (sick.length) return { kind: 'drift', detail: `ZFS pool ${pool} is ${sick.map((s) => `${s.health} on ${s.node}`).join(', ')}`, hint: '`zpool status` on the node tells why; a damaged lab node is best recreated (`pvelab down`, `pvelab up`)' };
    const missing = states.filter((s) => s.health === undefined).map((s) => s.node);
    return missing.length ? { kind: 'todo', reason: `no pool ${pool} on ${andList(missing)}` } : { kind: 'done', detail: `${pool} ONLINE on every node` };
  },
  async apply(ctx) {
    const pool = ctx.names.pve.zfsPool;
    const size = ctx.lab.nodeDefaults.zfsGiB * 1024 ** 3;
    for (const s of await poolStates(ctx)) {
      if (s.health !== undefined) continue;
      const pvesh = pveshOf(ctx, s.node);
      const disk = pickZfsDisk(await pvesh.get(`/nodes/${s.node}/disks/list`, { skipsmart: 1 }), size);
      ctx.progress(`${s.node}: zpool ${pool} on ${disk}`);
      await pvesh.create(`/nodes/${s.node}/disks/zfs`, zfsCreateParams(pool, disk), { timeoutMs: 5 * 60_000, onOutput: progressOutput(ctx, s.node) });
    }
  },
  async undo() {},
  describe: (ctx) => ctx.names.nodes.map((n) => `pvesh create /nodes/${n.name}/disks/zfs --name ${ctx.names.pve.zfsPool} --raidlevel single --devices <empty ${ctx.lab.nodeDefaults.zfsGiB} GiB disk> --ashift 12 --compression on --add_storage 0`),
};

export const storageZfsStep: Step = {
  id: 'pve.storage-zfs',
  title: 'Adding the ZFS pools as Proxmox storage',
  check: (ctx) => inspectStorage(ctx, zfsStorage(ctx.names)),
  apply: (ctx) => ensureStorage(ctx, async () => zfsStorage(ctx.names), ctx.names.pve.storageZfs),
  async undo() {},
  describe: (ctx) => [`pvesh create /storage --storage ${ctx.names.pve.storageZfs} --type zfspool --pool ${ctx.names.pve.zfsPool} --content images,rootdir --sparse 1 --nodes ${ctx.names.nodes.map((n) => n.name).join(',')}`],
};
