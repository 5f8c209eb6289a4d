// Point-in-time copies of the lab's disk images. Reflinks (copy-on-write clones: XFS with reflink,
// btrfs) make a 100 GiB image copy take milliseconds; elsewhere a sparse-aware copy moves only the
// allocated extents (GNU cp walks SEEK_DATA/SEEK_HOLE), never the holes.
import { rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Runner } from '../exec/runner.js';

export type CopyMode = 'reflink' | 'sparse';

/** Whether files in `dir` can be reflinked (tries a clone of a tiny probe file). */
export async function reflinkSupported(host: Runner, dir: string): Promise<boolean> {
  const a = join(dir, `.pvelab-reflink-probe-${process.pid}`);
  const b = `${a}.clone`;
  try {
    await writeFile(a, 'probe');
    const r = await host.run(['cp', '--reflink=always', a, b], { allowExit: [1] });
    return r.exitCode === 0;
  } finally {
    await rm(a, { force: true });
    await rm(b, { force: true });
  }
}

export interface CopyResult {
  mode: CopyMode;
  apparentBytes: number;
  allocatedBytes: number;
  ms: number;
}

/** Copies one image, replacing dst atomically (temp name + rename) so a crash never leaves half a disk. */
export async function copyImage(host: Runner, src: string, dst: string, mode: CopyMode): Promise<CopyResult> {
  const t0 = performance.now();
  const tmp = join(dirname(dst), `.${process.pid}.partial-${dst.split('/').pop()}`);
  await rm(tmp, { force: true });
  try {
    await host.run(['cp', mode === 'reflink' ? '--reflink=always' : '--sparse=always', '--', src, tmp]);
    await host.run(['mv', '-f', '--', tmp, dst]);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const s = await stat(dst);
  return { mode, apparentBytes: s.size, allocatedBytes: s.blocks * 512, ms: performance.now() - t0 };
}
