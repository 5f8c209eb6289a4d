// Node disk API paths (pve-storage PVE/API2/Disks.pm `list`, PVE/API2/Disks/ZFS.pm `index`/`create`,
// PVE/Diskmanage.pm get_disks/verify_blockdev_path/assert_disk_unused). The disks are the node's
// modelled data disks (ModelNode.disks; the system disk is not modelled); a disk in a pool is used
// 'ZFS' and carries a GPT. Virtio disks without a serial have no /dev/disk/by-id link, so the pool is
// created on /dev/<name>. Field values udev/SMART would give a virtio disk (vendor 0x1af4, health
// UNKNOWN with skipsmart, wearout N/A, rpm -1, no wwn) are MODELLED.
import { PveError, die } from '../model/perl.js';
import type { Prop } from './args.js';
import type { Ctx } from './io.js';
import type { Route } from './pvesh-routes.js';
import { pvesm } from './pvesm.js';
import { syncWorker } from './worker.js';
import { zpool } from './zpool.js';

const N = '(?<node>[^/]+)';
const opt = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { optional: true }])) as Record<string, Prop>;
const ALLOC = 108 * 1024; // a new pool's alloc (zpool.ts `list`)
const MIN_DISKS: Record<string, number> = { single: 1, mirror: 2, raid10: 4, raidz: 3, raidz2: 4, raidz3: 5, draid: 3, draid2: 4, draid3: 5 };

function poolOf(ctx: Ctx, disk: string): string | undefined {
  return [...ctx.m.local.pools(ctx.node).values()].find((p) => p.devices.includes(disk))?.name;
}

function diskList(ctx: Ctx, p: Record<string, string>): Array<Record<string, unknown>> {
  const disks = ctx.m.disks(ctx.node);
  const out: Array<Record<string, unknown>> = [];
  for (const name of Object.keys(disks).sort()) {
    const used = poolOf(ctx, name) ? 'ZFS' : undefined;
    if (p.type === 'unused' && used) continue;
    out.push({
      vendor: '0x1af4', model: '', size: disks[name], serial: '', gpt: used ? 1 : 0, rpm: -1, type: 'hdd', wwn: 'unknown',
      health: 'UNKNOWN', devpath: `/dev/${name}`, wearout: 'N/A', osdid: -1, 'osdid-list': null, ...(used ? { used } : {}),
    });
  }
  return out;
}

async function createPool(ctx: Ctx, p: Record<string, string>): Promise<string> {
  const name = p.name!;
  const raid = p.raidlevel!;
  if (!(raid in MIN_DISKS)) throw new PveError('Parameter verification failed.\n', 400, { raidlevel: `value '${raid}' does not have a value in the enumeration '${Object.keys(MIN_DISKS).join(', ')}'` });
  if (p['draid-config'] !== undefined && !raid.startsWith('draid')) throw die('draid-config set without using dRAID level');
  const devs = p.devices!.split(/[\s,;]+/).filter(Boolean);
  const disks = ctx.m.disks(ctx.node);
  for (const d of devs) {
    const base = d.replace(/^\/dev\//, '');
    if (!(base in disks)) throw die(`failed to get absolute path to ${d}`);
    if (poolOf(ctx, base)) throw die(`device '/dev/${base}' is already in use`);
  }
  if (ctx.m.local.pools(ctx.node).has(name)) throw die(`pool '${name}' already exists on node '${ctx.node}'`);
  if (raid === 'raid10' && devs.length % 2) throw die('raid10 needs an even number of disks');
  if (raid === 'single' && devs.length > 1) throw die('please give only one disk for single disk mode');
  if (devs.length < MIN_DISKS[raid]!) throw die(`${raid} needs at least ${MIN_DISKS[raid]} disks`);
  const paths = devs.map((d) => `/dev/${d.replace(/^\/dev\//, '')}`);
  const { upid } = await syncWorker(ctx, 'zfscreate', name, async (w) => {
    const cmd = ['/sbin/zpool', 'create', '-o', `ashift=${p.ashift ?? '12'}`, name];
    if (raid === 'raid10') for (let i = 0; i < paths.length; i += 2) cmd.push('mirror', paths[i]!, paths[i + 1]!);
    else if (raid === 'single') cmd.push(paths[0]!);
    else cmd.push(raid, ...paths);
    w.print(`# ${cmd.join(' ')}\n`);
    let err = '';
    if ((await zpool({ ...ctx, out: () => {}, err: (s) => void (err += s) }, cmd.slice(1))) !== 0) throw new PveError(`command '${cmd.join(' ')}' failed: exit code 1\n${err}`);
    w.print(`# /sbin/zfs set compression=${p.compression ?? 'on'} ${name}\n`);
    w.print(`# systemctl enable zfs-import@${name}.service\n`);
    w.print(`Created symlink /etc/systemd/system/zfs-import.target.wants/zfs-import@${name}.service → /lib/systemd/system/zfs-import@.service.\n`);
    if (p.add_storage === '1') {
      let e2 = '';
      const rc = await pvesm({ ...ctx, out: () => {}, err: (s) => void (e2 += s) }, ['add', 'zfspool', name, '--pool', name, '--content', 'rootdir,images', '--nodes', ctx.node]);
      if (rc !== 0) throw new PveError(e2);
    }
  });
  return upid;
}

export const DISK_ROUTES: Route[] = [
  { method: 'GET', re: new RegExp(`^/nodes/${N}/disks/list$`), props: opt('include-partitions', 'skipsmart', 'type'), run: (ctx, p) => diskList(ctx, p) },
  {
    method: 'GET', re: new RegExp(`^/nodes/${N}/disks/zfs$`), run: (ctx) =>
      [...ctx.m.local.pools(ctx.node).values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((z) => ({ name: z.name, size: z.size, alloc: ALLOC, free: z.size - ALLOC, frag: 0, dedup: 1, health: 'ONLINE' })),
  },
  {
    method: 'POST', re: new RegExp(`^/nodes/${N}/disks/zfs$`), props: { name: {}, raidlevel: {}, devices: {}, ...opt('ashift', 'compression', 'add_storage', 'draid-config') },
    run: (ctx, p) => createPool(ctx, p),
  },
];
