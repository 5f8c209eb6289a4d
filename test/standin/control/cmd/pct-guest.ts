// The container-content side of pct: unpacking the ostemplate (a template or a vzdump archive,
// PVE::LXC::Create restore_tar_archive: "extracting archive '<path>'" + tar --totals) onto the new
// rootfs volume, and `pct exec` (lxc-attach) answered by model/ct-exec.ts. After an exec changed
// what the CT's Apache serves, the effects serve the new state before pct exec returns.
import type { GuestConf } from '../model/cfs.js';
import type { ClusterModel } from '../model/cluster.js';
import { ctExec } from '../model/ct-exec.js';
import { die } from '../model/perl.js';
import { type Rootfs, ctRootfs, emptyRootfs, put, rootfsFromArchive, serveKey, serveOf, setVolumeData } from '../model/rootfs.js';
import type { Ctx } from './io.js';
import type { WorkerIo } from './worker.js';

/** GNU tar --totals size: "520212480 (497MiB, 155MiB/s)" */
export function tarTotals(bytes: number, seconds: number): string {
  const h = (n: number) => {
    const u = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
    return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)}${u[i]}`;
  };
  return `${bytes} (${h(bytes)}, ${h(bytes / Math.max(seconds, 0.001))}/s)`;
}

/** unpack the ostemplate archive (read from the node by readArchive) into the new CT's rootfs */
export function unpackArchive(vmid: number, path: string, data: Buffer, w: WorkerIo): Rootfs {
  w.print(`extracting archive '${path}'\n`);
  let unpacked;
  try {
    unpacked = rootfsFromArchive(data);
  } catch (e) {
    const flag = /\.zst$/.test(path) ? ' --zstd' : /\.gz$/.test(path) ? ' -z' : /\.xz$/.test(path) ? ' -J' : '';
    w.print(`stand-in: cannot read the archive: ${(e as Error).message}\n`);
    throw die(`command 'tar xpf -${flag} --totals --one-file-system -p --sparse --numeric-owner -C /var/lib/lxc/${vmid}/rootfs --skip-old-files --anchored --exclude './dev/*'' failed: exit code 2`);
  }
  w.print(`Total bytes read: ${tarTotals(unpacked.tarBytes, 3)}\nDetected container architecture: amd64\n`);
  return unpacked.fs;
}

/** PVE::LXC::Setup at create: hostname files */
export function setupRootfs(fs: Rootfs, hostname: string): void {
  put(fs, '/etc/hostname', `${hostname}\n`);
}

export function storeRootfs(m: ClusterModel, node: string, volid: string, fs: Rootfs | undefined): void {
  setVolumeData(m, node, volid, fs ?? emptyRootfs());
}

/** `pct exec <vmid> -- argv`: the CT is running on ctx.node */
export async function pctExec(ctx: Ctx, g: GuestConf, argv: string[]): Promise<number> {
  const m = ctx.m;
  let fs = ctRootfs(m, ctx.node, g);
  if (!fs) storeRootfs(m, ctx.node, g.conf.rootfs?.split(',')[0] ?? `vm-${g.vmid}`, (fs = emptyRootfs()));
  const before = serveKey(serveOf(fs));
  let rest: string | undefined;
  const rc = await ctExec({
    m, node: ctx.node, g, fs, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
    stdin: async () => {
      if (rest !== undefined) return '';
      rest = await ctx.stdin.readAll();
      return rest;
    },
    readLine: () => (rest !== undefined ? Promise.resolve(null) : ctx.stdin.readLine()),
    out: ctx.out,
    err: ctx.err,
  }, argv);
  const after = serveOf(fs);
  if (serveKey(after) !== before && m.guests.isRunning(ctx.node, g.vmid)) await m.effects.serveGuest(ctx.node, g, after);
  return rc;
}
