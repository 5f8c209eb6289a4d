// Image files and the storage preflight on a fake host: exact argv, drift on a wrong file, every bad
// input reported as one PreflightError before anything is created.
import { afterAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../lab/core/errors.js';
import { runUp } from '../../lab/core/pipeline.js';
import { Images, parseQemuImgInfo } from '../../lab/storage/images.js';
import { hostStorage, nodeRootDisk } from '../../lab/storage/spec.js';
import { lunFilesStep, rootImagesStep, zfsImagesStep } from '../../lab/steps/storage-files.js';
import { storageSteps } from '../../lab/steps/storage-steps.js';
import { cleanupScratch, FakeRunner, fixture, makeCtx, testLab } from './storage-fakes.js';

afterAll(cleanupScratch);

const GiB = 2 ** 30;

/** A host whose image directory exists with `availGiB` free; files appear when created. */
function fsHost(opts: { availGiB?: number; dirExists?: boolean; writable?: boolean } = {}) {
  const files = new Map<string, number>();
  // storage.dir exists (unless dirExists: false); the lab's own pvelab-<lab> directory only once made
  const made = new Set<string>();
  const isDir = (d: string) => (/\/pvelab-[^/]+$/.test(d) ? made.has(d) : opts.dirExists !== false);
  const r = new FakeRunner()
    .on(['test', '-d'], (a) => ({ exitCode: isDir(a[2]!) ? 0 : 1 }))
    .on(['test', '-e'], { exitCode: 1 })
    .on(['test', '-w'], () => ({ exitCode: opts.writable === false ? 1 : 0 }))
    .on(['stat', '-f'], { stdout: `${((opts.availGiB ?? 500) * GiB) / 4096} 4096\n` })
    .on(['stat', '-c'], (a) => (files.has(a[4]!) ? { stdout: `${files.get(a[4]!)} 0 512 regular file\n` } : { exitCode: 1, stderr: 'stat: cannot statx: No such file or directory\n' }))
    .on(['truncate'], (a) => (files.set(a[4]!, Number(a[2])), {}))
    .on(['qemu-img', 'create'], (a) => (files.set(a[7]!, Number(a[8])), {}))
    .on(['qemu-img', 'info'], (a) => ({ stdout: fixture('qemu-img-info.json.txt').replace('17179869184', String(files.get(a[6]!))) }))
    .on(['rm', '-f', '--'], (a) => (files.delete(a[3]!), {}))
    .on(['mkdir'], (a) => (made.add(a.at(-1)!), {}))
    .on(['rmdir'], (a) => {
      const d = a.at(-1)!;
      if (![...files.keys()].some((f) => f.startsWith(`${d}/`))) made.delete(d);
      return {};
    })
    .on(['ip', '-j', '-4', 'addr', 'show'], { stdout: JSON.stringify([{ ifname: 'lo', addr_info: [{ local: '127.0.0.1' }] }]) });
  return { r, files, made };
}

describe('image files', () => {
  it('parses qemu-img info JSON (captured)', () => {
    expect(parseQemuImgInfo(fixture('qemu-img-info.json.txt'))).toEqual({ format: 'qcow2', virtualSize: 16 * GiB });
  });

  it('creates sparse LUN files and qcow2 images with exact argv; undo removes them, twice', async () => {
    const { r, files, made } = fsHost();
    const lab = testLab({ storage: { layout: 'iscsi', dir: '/srv/lab', lunGiB: 64 } });
    const ctx = makeCtx(lab, r, { images: new Images(r) });
    await lunFilesStep.apply(ctx);
    await zfsImagesStep.apply(ctx);
    expect(r.commands('truncate', 'qemu-img')).toEqual([
      `truncate -s ${64 * GiB} -- /srv/lab/pvelab-t1/shared-lun.img`,
      `truncate -s ${32 * GiB} -- /srv/lab/pvelab-t1/pve1-root.img`,
      `truncate -s ${32 * GiB} -- /srv/lab/pvelab-t1/pve2-root.img`,
      `truncate -s ${32 * GiB} -- /srv/lab/pvelab-t1/pve3-root.img`,
      `qemu-img create -q -f qcow2 -o preallocation=off /srv/lab/pvelab-t1/pve1-zfs.qcow2 ${16 * GiB}`,
      `qemu-img create -q -f qcow2 -o preallocation=off /srv/lab/pvelab-t1/pve2-zfs.qcow2 ${16 * GiB}`,
      `qemu-img create -q -f qcow2 -o preallocation=off /srv/lab/pvelab-t1/pve3-zfs.qcow2 ${16 * GiB}`,
    ]);
    expect((await lunFilesStep.check(ctx)).kind).toBe('done');
    expect((await zfsImagesStep.check(ctx)).kind).toBe('done');
    expect(await rootImagesStep.check(ctx)).toEqual({ kind: 'done', detail: 'nothing for this layout' });
    expect(r.commands('mkdir')).toEqual(['mkdir -p -m 0700 -- /srv/lab/pvelab-t1']);
    await lunFilesStep.undo!(ctx);
    await lunFilesStep.undo!(ctx);
    expect([...files.keys()].filter((f) => f.endsWith('.img'))).toEqual([]);
    expect(made.has('/srv/lab/pvelab-t1')).toBe(true); // the ZFS images are still in it
    await zfsImagesStep.undo!(ctx);
    expect(files.size).toBe(0);
    expect(made.has('/srv/lab/pvelab-t1')).toBe(false); // gone with the last image, storage.dir stays
    expect(r.commands('rmdir').at(-1)).toBe('rmdir --ignore-fail-on-non-empty -- /srv/lab/pvelab-t1');
  });

  it('calls a file of another size drift and refuses to replace it', async () => {
    const { r, files } = fsHost();
    const ctx = makeCtx(testLab({ storage: { dir: '/srv/lab' } }), r, { images: new Images(r) });
    files.set('/srv/lab/pvelab-t1/shared-lun.img', 5 * GiB);
    expect(await lunFilesStep.check(ctx)).toMatchObject({ kind: 'drift', detail: '/srv/lab/pvelab-t1/shared-lun.img is 5 GiB, the lab wants 128 GiB' });
    await expect(lunFilesStep.apply(ctx)).rejects.toThrow(/refusing to replace \/srv\/lab\/pvelab-t1\/shared-lun.img/);
    expect(r.commands('truncate')).toEqual([]);
  });
});

describe('storage preflight (bad input → one clear error, nothing created)', () => {
  const run = async (lab: ReturnType<typeof testLab>, host: ReturnType<typeof fsHost>, portal?: string) => {
    const base = makeCtx(lab, host.r, { images: new Images(host.r) });
    const names = portal ? { ...base.names, iscsi: { ...base.names.iscsi, portal } } : base.names;
    const err = await runUp(storageSteps(lab), () => ({ ...base, names })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect(host.r.commands('truncate', 'qemu-img', 'mkdir', 'tgtadm', 'tgtd', 'install')).toEqual([]);
    expect(host.files.size).toBe(0);
    return (err as PreflightError).message;
  };

  it('a LUN larger than the free space', async () => {
    expect(await run(testLab({ storage: { dir: '/srv/lab', lunGiB: 100, layout: 'qcow2' } }), fsHost({ availGiB: 50 }))).toBe(
      'host storage: /srv/lab/pvelab-t1/shared-lun.img would be 100 GiB but only 50 GiB is free in /srv/lab',
    );
  });

  it('a missing or read-only storage.dir', async () => {
    expect(await run(testLab({ storage: { dir: '/nope' } }), fsHost({ dirExists: false }))).toBe('host storage: storage.dir /nope does not exist');
    expect(await run(testLab({ storage: { dir: '/ro' } }), fsHost({ writable: false }))).toBe('host storage: the image directory /ro is read-only');
  });

  it('a portal address that is neither on the host nor the lab bridge address', async () => {
    expect(await run(testLab({ storage: { dir: '/srv/lab' } }), fsHost(), '10.99.99.99')).toBe(
      'host storage: the iSCSI portal 10.99.99.99 is not an address of this host nor the lab bridge address 10.77.5.1',
    );
  });

});

describe('node root disks (for the domain XML)', () => {
  it('follows the layout', () => {
    const names = makeCtx(testLab(), new FakeRunner(), {}).names;
    expect(nodeRootDisk(testLab(), names, 0)).toEqual({ kind: 'block', path: '/dev/vg_t1/lv_pve1' });
    expect(nodeRootDisk(testLab({ storage: { layout: 'qcow2' } }), names, 1)).toEqual({ kind: 'file', path: names.nodes[1]!.rootImage, format: 'qcow2' });
    expect(nodeRootDisk(testLab({ storage: { layout: 'iscsi', chap: true } }), names, 2)).toEqual({
      kind: 'iscsi', host: '10.77.5.1', port: 3260, iqn: 'iqn.2024-01.dev.pvelab:t1:root-pve3', lun: 1, initiatorIqn: 'iqn.2024-01.dev.pvelab:t1.pve3', chapUser: 'pvelab-t1',
    });
    const spec = hostStorage(testLab({ storage: { layout: 'iscsi' } }), names);
    expect(spec.targets.map((t) => [t.iqn, t.acl])).toEqual([
      ['iqn.2024-01.dev.pvelab:t1', ['10.77.5.0/24', '10.77.5.1']],
      ['iqn.2024-01.dev.pvelab:t1:root-pve1', ['10.77.5.1']],
      ['iqn.2024-01.dev.pvelab:t1:root-pve2', ['10.77.5.1']],
      ['iqn.2024-01.dev.pvelab:t1:root-pve3', ['10.77.5.1']],
    ]);
  });
});
