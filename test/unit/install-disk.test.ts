// "Has an installer written this root disk?" for every storage layout: where the host reads the disk,
// the exact argv, and real answers from qemu-img and cmp on scratch images.
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames } from '../../lab/config/names.js';
import { LabError } from '../../lab/core/errors.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { headProbeArgv, qcow2HeadWritten, rootDiskSource, rootDiskWritten } from '../../lab/install/disk.js';

const lab = (layout: string) => resolveLab(parseLabObject({ name: 'd1', network: { cidr: '10.99.0.0/24' }, storage: { layout, dir: '/srv/img' } }), []);

describe('root disk source per storage layout', () => {
  it('qcow2 image, LV block device, or the LUN backing file of layout iscsi', () => {
    for (const [layout, want] of [
      ['qcow2', { kind: 'qcow2', path: '/srv/img/pvelab-d1/pve2-root.qcow2' }],
      ['lvm', { kind: 'raw', path: '/dev/vg_d1/lv_pve2' }],
      ['iscsi', { kind: 'raw', path: '/srv/img/pvelab-d1/pve2-root.img' }],
    ] as const) {
      const l = lab(layout);
      expect(rootDiskSource(l, labNames(l, '/h'), 1)).toEqual(want);
    }
  });
  it('argv: qemu-img map (shared lock) for qcow2, cmp of the first 4 KiB against zeros otherwise', () => {
    expect(headProbeArgv({ kind: 'qcow2', path: '/a.qcow2' })).toEqual(['qemu-img', 'map', '--output=json', '--force-share', '-f', 'qcow2', '/a.qcow2']);
    expect(headProbeArgv({ kind: 'raw', path: '/dev/vg/lv' })).toEqual(['cmp', '-s', '-n', '4096', '/dev/vg/lv', '/dev/zero']);
  });
  it('qemu-img map JSON: data allocated within the head, or not', () => {
    expect(qcow2HeadWritten('[{ "start": 0, "length": 17179869184, "depth": 0, "present": false, "zero": true, "data": false}]')).toBe(false);
    expect(qcow2HeadWritten('[{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": 327680},\n{ "start": 65536, "length": 1073676288, "depth": 0, "present": false, "zero": true, "data": false}]')).toBe(true);
    expect(qcow2HeadWritten('[{ "start": 0, "length": 1048576, "data": false, "zero": true}, { "start": 1048576, "length": 65536, "data": true, "zero": false}]')).toBe(false);
  });
});

const noQemuImg = existsSync('/usr/bin/qemu-img') ? undefined : 'qemu-img (apt-get install qemu-utils)';
describe.skipIf(!!noQemuImg)(`real images ${noQemuImg ? `(skipped: ${noQemuImg} missing)` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvelab-install-disk-'));
  const host = new LocalRunner();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('a fresh qcow2 is blank; after a write into its first sector it is written', async () => {
    const img = join(dir, 'r.qcow2');
    await host.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'preallocation=off', img, '1G']);
    expect(await rootDiskWritten(host, { kind: 'qcow2', path: img })).toBe(false);
    await host.run(['qemu-io', '-f', 'qcow2', '-c', 'write -P 0x55 0 512', img]);
    expect(await rootDiskWritten(host, { kind: 'qcow2', path: img })).toBe(true);
  });
  it('a sparse raw file is blank; one byte in the head makes it written; a byte past 4 KiB does not', async () => {
    const raw = join(dir, 'r.img');
    writeFileSync(raw, Buffer.alloc(0));
    truncateSync(raw, 1 << 20);
    expect(await rootDiskWritten(host, { kind: 'raw', path: raw })).toBe(false);
    const fd = openSync(raw, 'r+');
    writeSync(fd, Buffer.from([1]), 0, 1, 5000);
    expect(await rootDiskWritten(host, { kind: 'raw', path: raw })).toBe(false);
    writeSync(fd, Buffer.from([0xeb]), 0, 1, 0);
    closeSync(fd);
    expect(await rootDiskWritten(host, { kind: 'raw', path: raw })).toBe(true);
  });
  it('a missing disk is an error naming it', async () => {
    await expect(rootDiskWritten(host, { kind: 'raw', path: join(dir, 'nope.img') })).rejects.toThrow(LabError);
    await expect(rootDiskWritten(host, { kind: 'raw', path: join(dir, 'nope.img') })).rejects.toThrow(/cannot read the root disk .*nope\.img/);
  });
});
