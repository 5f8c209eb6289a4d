// Golden-snapshot disk copies for real: sparse-aware copies on this machine's ext4 and reflinks on an
// XFS (reflink=1) filesystem on a loop device that the test creates, mounts and removes.
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, writeSync, closeSync, readFileSync, statSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRunner } from '../../lab/exec/local.js';
import { listSnapshots, restoreSnapshot, saveSnapshot } from '../../lab/snapshot/store.js';
import { reflinkSupported } from '../../lab/snapshot/copy.js';

const host = new LocalRunner();

/** A sparse "disk": `size` apparent bytes, 1 MiB of recognisable data at a few offsets. */
function makeDisk(path: string, size: number, seed: string): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const off of [0, size / 3, size - 2 ** 20]) writeSync(fd, Buffer.alloc(2 ** 20, `${seed}@${off}`), 0, 2 ** 20, Math.floor(off / 4096) * 4096);
  closeSync(fd);
}
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function exercise(dir: () => string, expectMode: 'reflink' | 'sparse') {
  it(`saves and restores sparse disks (${expectMode})`, async () => {
    const images = dir();
    const lun = join(images, 'shared-lun.img');
    const zfs = join(images, 'pve1-zfs.qcow2');
    makeDisk(lun, 256 * 2 ** 20, 'lun');
    makeDisk(zfs, 256 * 2 ** 20, 'zfs');
    const before = { lun: sha(lun), zfs: sha(zfs) };
    const m = await saveSnapshot({ host, imagesDir: images, lab: 't', labHash: 'h1', name: 'golden', disks: [lun, zfs, join(images, 'absent.img')] });
    expect(m.mode).toBe(expectMode);
    expect(m.files.map((f) => f.copy)).toEqual(['shared-lun.img', 'pve1-zfs.qcow2']);
    const copy = join(images, 'snapshots/golden/shared-lun.img');
    expect(statSync(copy).size).toBe(256 * 2 ** 20);
    expect(statSync(copy).blocks * 512).toBeLessThan(16 * 2 ** 20); // holes stayed holes
    // class happens: the disks change
    makeDisk(lun, 256 * 2 ** 20, 'students-were-here');
    expect(sha(lun)).not.toBe(before.lun);
    await expect(restoreSnapshot({ host, imagesDir: images, name: 'golden', labHash: 'other' })).rejects.toThrow(/different lab file/);
    await restoreSnapshot({ host, imagesDir: images, name: 'golden', labHash: 'h1' });
    expect(sha(lun)).toBe(before.lun);
    expect(sha(zfs)).toBe(before.zfs);
    expect(statSync(lun).blocks * 512).toBeLessThan(16 * 2 ** 20);
    expect((await listSnapshots(images)).map((s) => s.name)).toEqual(['golden']);
  });
}

describe('snapshot copies on this machine', () => {
  let d = '';
  beforeAll(() => { d = mkdtempSync(join(tmpdir(), 'pvelab-snap-')); });
  afterAll(() => execFileSync('rm', ['-rf', d]));
  it('detects that the scratch filesystem has no reflink (or has), consistently with cp', async () => {
    const r = await reflinkSupported(host, d);
    let cpSays = true;
    execFileSync('sh', ['-c', `echo x > ${d}/a`]);
    try { execFileSync('cp', ['--reflink=always', `${d}/a`, `${d}/b`], { stdio: 'ignore' }); } catch { cpSays = false; }
    expect(r).toBe(cpSays);
  });
  const fsType = execFileSync('stat', ['-f', '-c', '%T', tmpdir()]).toString().trim();
  if (fsType === 'ext2/ext3') exercise(() => d, 'sparse');
});

describe('snapshot copies on XFS with reflink', () => {
  let mnt = '';
  let loop = '';
  let scratch = '';
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'pvelab-xfs-'));
    const img = join(scratch, 'xfs.img');
    execFileSync('truncate', ['-s', '4G', img]);
    execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', img]);
    loop = execFileSync('losetup', ['--find', '--show', img]).toString().trim();
    mnt = join(scratch, 'mnt');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', [loop, mnt]);
  });
  afterAll(() => {
    if (mnt) execFileSync('umount', ['-l', mnt]);
    if (loop) execFileSync('losetup', ['-d', loop]);
    if (scratch) execFileSync('rm', ['-rf', scratch]);
  });
  exercise(() => mnt, 'reflink');
});
