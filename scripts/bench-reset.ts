// npm run bench:reset — class reset of a 100 GiB sparse lab: how long `snapshot save` and the disk
// part of `reset` take with reflinks (XFS reflink=1 on a loop device made here) and with sparse-aware
// copies (this machine's own filesystem). Prints the figures; asserts nothing.
// The lab: a 100 GiB shared LUN holding the three nodes' root LVs (~2.5 GiB written each, like a fresh
// Proxmox install) and the guest, plus three 16 GiB ZFS data disks with a little data each.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../lab/exec/local.js';
import { restoreSnapshot, saveSnapshot } from '../lab/snapshot/store.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const host = new LocalRunner();
const dataGiB = Number(process.env['BENCH_DATA_GIB'] ?? 8);

function makeDisk(path: string, size: number, extents: { at: number; bytes: number }[]): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  const chunk = Buffer.alloc(4 * MiB, 0x5a);
  for (const e of extents) for (let o = 0; o < e.bytes; o += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, e.bytes - o), e.at + o);
  closeSync(fd);
}

function makeLab(dir: string): string[] {
  const lun = join(dir, 'shared-lun.img');
  const perNode = (dataGiB * GiB) / 3;
  makeDisk(lun, 100 * GiB, [0, 1, 2].map((i) => ({ at: i * 32 * GiB + GiB, bytes: Math.floor(perNode / MiB) * MiB })));
  const zfs = [1, 2, 3].map((i) => join(dir, `pve${i}-zfs.qcow2`));
  for (const z of zfs) makeDisk(z, 16 * GiB, [{ at: 0, bytes: 64 * MiB }]);
  return [lun, ...zfs];
}

async function measure(label: string, dir: string, mode: 'reflink' | 'sparse'): Promise<void> {
  process.stderr.write(`[${label}] writing a 100 GiB sparse lab with ${dataGiB} GiB of data in ${dir}…\n`);
  const disks = makeLab(dir);
  execFileSync('sync');
  let t = performance.now();
  await saveSnapshot({ host, imagesDir: dir, lab: 'bench', labHash: 'h', name: 'golden', disks, mode });
  const save = (performance.now() - t) / 1000;
  t = performance.now();
  await restoreSnapshot({ host, imagesDir: dir, name: 'golden', labHash: 'h', mode });
  execFileSync('sync');
  const reset = (performance.now() - t) / 1000;
  console.log(`${label.padEnd(28)} mode=${mode.padEnd(7)} snapshot save ${save.toFixed(2).padStart(7)} s   reset (disks) ${reset.toFixed(2).padStart(7)} s   goal ≤ 60 s: ${reset <= 60 ? 'met' : 'NOT met'}`);
}

const scratch = mkdtempSync(join(tmpdir(), 'pvelab-bench-reset-'));
let loop = '';
const mnt = join(scratch, 'xfs');
try {
  console.log(`class reset of a 100 GiB sparse lab (${dataGiB} GiB written), on ${execFileSync('uname', ['-n']).toString().trim()}`);
  const sparseDir = join(scratch, 'ext');
  execFileSync('mkdir', ['-p', sparseDir, mnt]);
  await measure(`${execFileSync('stat', ['-f', '-c', '%T', scratch]).toString().trim()} (this machine)`, sparseDir, 'sparse');
  execFileSync('rm', ['-rf', sparseDir]);
  const img = join(scratch, 'xfs.img');
  execFileSync('truncate', ['-s', '200G', img]);
  execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', img]);
  loop = execFileSync('losetup', ['--find', '--show', img]).toString().trim();
  execFileSync('mount', [loop, mnt]);
  await measure('xfs reflink=1 (loop)', mnt, 'reflink');
  await measure('xfs reflink=1 (loop)', mnt, 'sparse');
} finally {
  try { execFileSync('umount', ['-l', mnt]); } catch { /* not mounted */ }
  if (loop) execFileSync('losetup', ['-d', loop]);
  execFileSync('rm', ['-rf', scratch]);
}
