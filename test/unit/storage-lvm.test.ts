// LVM (lvcreate cannot run on this kernel): JSON report parsing on captured lvm2 output, blkid probes,
// and the exact argv of the VG and root-LV steps against recorded outputs.
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError, PreflightError } from '../../lab/core/errors.js';
import { commandFailed, type Runner } from '../../lab/exec/runner.js';
import { IscsiAdm } from '../../lab/storage/iscsiadm.js';
import { hostLoginStep } from '../../lab/steps/storage-login.js';
import { Lvm, lvmSize, parseBlkidExport, parseLvmReport, pvUuidOf } from '../../lab/storage/lvm.js';
import { rootLvsStep } from '../../lab/steps/storage-lvs.js';
import { vgStep } from '../../lab/steps/storage-vg.js';
import { cleanupScratch, FakeRunner, fixture, makeCtx, testLab } from './storage-fakes.js';

afterAll(cleanupScratch);

const GiB = 2 ** 30;
const OUR_UUID = pvUuidOf('t1');

/** A captured report with some values changed (keeps lvm2's real JSON layout). */
function edited(name: string, kind: 'vg' | 'lv' | 'pv', edit: (rows: Record<string, string>[]) => Record<string, string>[]): string {
  const rows = edit(parseLvmReport(fixture(name), kind));
  return JSON.stringify({ report: [{ [kind]: rows }] });
}

describe('lvm2 JSON reports (captured)', () => {
  it('parses pvs, vgs and lvs rows; a missing VG is an empty report', () => {
    expect(parseLvmReport(fixture('pvs.json.txt'), 'pv')).toEqual([{ pv_name: '/dev/sdb', vg_name: 'vg_t1', pv_uuid: 'pvelab-0000-1111-2222-3333-4444-555555', pv_size: '264241152' }]);
    expect(parseLvmReport(fixture('vgs.json.txt'), 'vg')[0]).toMatchObject({ vg_name: 'vg_t1', vg_tags: 'pvelab_t1', lv_count: '3' });
    expect(parseLvmReport(fixture('vgs-missing.json.txt'), 'vg')).toEqual([]);
    expect(parseLvmReport(fixture('lvs.json.txt'), 'lv').map((r) => [r['lv_name'], r['lv_tags']])).toEqual([['lv_pve1', 'pvelab_t1'], ['lv_pve2', 'pvelab_t1'], ['vm-100-disk-0', '']]);
  });

  it('maps rows to typed objects through the driver', async () => {
    const r = new FakeRunner().on(['vgs'], { stdout: fixture('vgs.json.txt') }).on(['lvs'], { stdout: fixture('lvs.json.txt') });
    const lvm = new Lvm(r);
    expect(await lvm.vgs('vg_t1')).toEqual([{ name: 'vg_t1', tags: ['pvelab_t1'], sizeBytes: 264241152, freeBytes: 188743680, pvCount: 1, lvCount: 3 }]);
    const lvs = await lvm.lvs('vg_t1');
    expect(lvs[2]).toEqual({ name: 'vm-100-disk-0', vg: 'vg_t1', tags: [], sizeBytes: 8388608, path: '/dev/vg_t1/vm-100-disk-0', attr: '-wi-XX----', active: false });
    expect(r.calls[0]).toEqual({ argv: ['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,vg_tags,vg_size,vg_free,pv_count,lv_count', 'vg_t1'], env: { LVM_SUPPRESS_FD_WARNINGS: '1' } });
  });

  it('reads blkid probes and derives a stable PV UUID per lab', () => {
    expect(parseBlkidExport(fixture('blkid-ext4.txt'))).toMatchObject({ type: 'ext4', uuid: '6bbf5334-d762-46a6-93ab-c07b68fb5846' });
    expect(parseBlkidExport(fixture('blkid-lvm.txt'))).toMatchObject({ type: 'LVM2_member', fields: { VERSION: 'LVM2 001' } });
    expect(parseBlkidExport('DEVNAME=/dev/sdc\nPTUUID=abc\nPTTYPE=gpt\n').type).toBe('partition table (gpt)');
    expect(OUR_UUID).toMatch(/^pvelab-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{6}$/);
    expect(OUR_UUID.replace(/-/g, '')).toHaveLength(32);
    expect(pvUuidOf('t1')).toBe(OUR_UUID);
    expect(pvUuidOf('t2')).not.toBe(OUR_UUID);
    expect([lvmSize(32 * GiB), lvmSize(1000)]).toEqual(['32g', '1000b']);
  });
});

/** A host whose shared LUN is /dev/sdb behind the by-path link. */
function lunHost() {
  return new FakeRunner()
    .on(['readlink', '-e', '--'], { stdout: '/dev/sdb\n' })
    .on(['test', '-b', '/dev/sdb'], {})
    .on(['vgs'], { exitCode: 5, stdout: fixture('vgs-missing.json.txt'), stderr: '  Volume group "vg_t1" not found\n' })
    .on(['pvcreate'], { stdout: '  Physical volume "/dev/sdb" successfully created.\n' })
    .on(['vgcreate'], { stdout: '  Volume group "vg_t1" successfully created\n' });
}
const services = (r: FakeRunner) => ({ lvm: new Lvm(r), iscsiadm: new IscsiAdm(r) });

describe('VG step', () => {
  it('on a blank LUN: pvcreate with our UUID, vgcreate with the lab tag', async () => {
    const r = lunHost().on(['blkid'], { exitCode: 2 });
    const ctx = makeCtx(testLab(), r, services(r));
    expect(await vgStep.check(ctx)).toEqual({ kind: 'todo', reason: 'no volume group vg_t1' });
    await vgStep.apply(ctx);
    expect(r.commands('blkid', 'pvcreate', 'vgcreate')).toEqual([
      'blkid -p -o export /dev/sdb',
      `pvcreate --uuid ${OUR_UUID} --norestorefile /dev/sdb`,
      'vgcreate --addtag pvelab_t1 vg_t1 /dev/sdb',
    ]);
  });

  it('continues on its own orphan PV (interrupted run) without a second pvcreate', async () => {
    const r = lunHost()
      .on(['blkid'], { stdout: fixture('blkid-lvm.txt').replace('pvelab-0000-1111-2222-3333-4444-555555', OUR_UUID) })
      .on(['pvs'], { stdout: edited('pvs.json.txt', 'pv', (rows) => rows.map((x) => ({ ...x, vg_name: '', pv_uuid: OUR_UUID }))) });
    const ctx = makeCtx(testLab(), r, services(r));
    await vgStep.apply(ctx);
    expect(r.commands('pvcreate', 'vgcreate')).toEqual(['vgcreate --addtag pvelab_t1 vg_t1 /dev/sdb']);
  });

  it('refuses a LUN with a foreign signature and writes nothing', async () => {
    for (const blkid of [fixture('blkid-ext4.txt'), fixture('blkid-lvm.txt')]) {
      const r = lunHost().on(['blkid'], { stdout: blkid }).on(['pvs'], { stdout: fixture('pvs.json.txt') });
      const ctx = makeCtx(testLab(), r, services(r));
      const err = await vgStep.apply(ctx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PreflightError);
      expect((err as Error).message).toMatch(/\/dev\/sdb \(the shared LUN\) already carries (ext4|LVM2_member) UUID=.*pvelab never wipes what it did not create/);
      expect(r.commands('pvcreate', 'vgcreate', 'wipefs')).toEqual([]);
    }
  });

  it('treats a same-named VG without our tag as drift, and leaves it alone on undo', async () => {
    const foreign = edited('vgs.json.txt', 'vg', (rows) => rows.map((x) => ({ ...x, vg_tags: '' })));
    const r = lunHost().on(['vgs'], { stdout: foreign }).on(['pvs'], { stdout: fixture('pvs.json.txt') });
    const ctx = makeCtx(testLab(), r, services(r));
    expect((await vgStep.check(ctx)).kind).toBe('drift');
    await vgStep.undo!(ctx);
    expect(r.commands('lvremove', 'vgremove', 'pvremove')).toEqual([]);
  });

  it('undo removes tagged LVs, the tagged VG and our PV label; a second undo finds nothing', async () => {
    let gone = false;
    const r = lunHost()
      .on(['vgs'], () => (gone ? { exitCode: 5, stdout: fixture('vgs-missing.json.txt') } : { stdout: fixture('vgs.json.txt') }))
      .on(['lvs'], { stdout: fixture('lvs.json.txt') })
      .on(['pvs'], () => ({ stdout: gone ? fixture('vgs-missing.json.txt').replace('"vg"', '"pv"') : edited('pvs.json.txt', 'pv', (rows) => rows.map((x) => ({ ...x, pv_uuid: OUR_UUID }))) }))
      .on(['lvremove'], (a) => ({ stdout: `  Logical volume "${a[2]!.split('/')[1]}" successfully removed.\n` }))
      .on(['vgremove'], () => ((gone = true), { stdout: fixture('vgremove.txt') }))
      .on(['pvremove'], { stdout: '  Labels on physical volume "/dev/sdb" successfully wiped.\n' });
    const ctx = makeCtx(testLab(), r, services(r));
    await vgStep.undo!(ctx);
    await vgStep.undo!(ctx);
    expect(r.commands('lvremove', 'vgremove', 'pvremove')).toEqual([
      'lvremove --yes vg_t1/lv_pve1',
      'lvremove --yes vg_t1/lv_pve2',
      'vgremove --yes --force vg_t1',
      'pvremove --yes /dev/sdb',
    ]);
  });
});

describe('root LV step', () => {
  const lab = testLab({ nodeDefaults: { rootGiB: 16 } });
  const vgBig = edited('vgs.json.txt', 'vg', (rows) => rows.map((x) => ({ ...x, vg_size: String(128 * GiB), vg_free: String(100 * GiB) })));
  const lvs16 = edited('lvs.json.txt', 'lv', (rows) => rows.map((x) => (x['lv_tags'] ? { ...x, lv_size: String(16 * GiB) } : x)));

  it('creates the missing tagged LVs with exact argv and activates inactive ones', async () => {
    const r = new FakeRunner()
      .on(['vgs'], { stdout: vgBig })
      .on(['lvs'], { stdout: lvs16 })
      .on(['lvcreate'], (a) => ({ stdout: fixture('lvcreate-ok.txt').replace('lv_pve1', a[3]!) }))
      .on(['lvchange'], {});
    const ctx = makeCtx(lab, r, services(r));
    expect(await rootLvsStep.check(ctx)).toEqual({ kind: 'todo', reason: 'missing LVs: lv_pve3' });
    await rootLvsStep.apply(ctx);
    expect(r.calls.filter((c) => c.argv[0] === 'lvcreate')).toEqual([
      { argv: ['lvcreate', '--yes', '--name', 'lv_pve3', '--size', '16g', '--addtag', 'pvelab_t1', 'vg_t1'], env: { LVM_SUPPRESS_FD_WARNINGS: '1' } },
    ]);
    expect(r.commands('lvchange')).toEqual(['lvchange --activate y vg_t1/lv_pve1', 'lvchange --activate y vg_t1/lv_pve2']);
  });

  it('stops before lvcreate when the VG is too small, and surfaces lvcreate\'s own failure', async () => {
    const r = new FakeRunner().on(['vgs'], { stdout: fixture('vgs.json.txt') }).on(['lvs'], { stdout: lvs16 });
    await expect(rootLvsStep.apply(makeCtx(lab, r, services(r)))).rejects.toThrow(/volume group vg_t1 has 180 MiB free, the missing root LVs need 16 GiB/);
    expect(r.commands('lvcreate')).toEqual([]);
    const r2 = new FakeRunner().on(['vgs'], { stdout: vgBig }).on(['lvs'], { stdout: lvs16 }).on(['lvchange'], {}).on(['lvcreate'], { exitCode: 5, stderr: fixture('lvcreate-nospace.stderr.txt') });
    const err = await rootLvsStep.apply(makeCtx(lab, r2, services(r2))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toMatch(/^lvcreate exited with code 5 on fake: +Volume group "vg_t1" has insufficient free space/);
    const r3 = new FakeRunner().on(['vgs'], { stdout: vgBig }).on(['lvs'], { stdout: lvs16 }).on(['lvchange'], {}).on(['lvcreate'], { exitCode: 3, stderr: fixture('lvcreate-no-dm.stderr.txt') });
    await expect(rootLvsStep.apply(makeCtx(lab, r3, services(r3)))).rejects.toThrow(/lvcreate exited with code 3 on fake: +Run `lvcreate --help'/);
  });

  it('calls an untagged or resized LV drift', async () => {
    const r = new FakeRunner().on(['vgs'], { stdout: vgBig }).on(['lvs'], { stdout: fixture('lvs.json.txt') });
    expect(await rootLvsStep.check(makeCtx(lab, r, services(r)))).toMatchObject({ kind: 'drift', detail: 'vg_t1/lv_pve1 is 32 MiB, the lab wants 16 GiB' });
    const untagged = edited('lvs.json.txt', 'lv', (rows) => rows.map((x) => ({ ...x, lv_tags: '' })));
    const r2 = new FakeRunner().on(['vgs'], { stdout: vgBig }).on(['lvs'], { stdout: untagged });
    expect(await rootLvsStep.check(makeCtx(lab, r2, services(r2)))).toMatchObject({ kind: 'drift', detail: 'vg_t1/lv_pve1 exists without the tag pvelab_t1' });
  });

  it('undo removes only tagged root LVs, twice without error', async () => {
    let removed = false;
    const r = new FakeRunner()
      .on(['vgs'], { stdout: vgBig })
      .on(['lvs'], () => ({ stdout: removed ? edited('lvs.json.txt', 'lv', (rows) => rows.filter((x) => !x['lv_tags'])) : fixture('lvs.json.txt') }))
      .on(['lvremove'], (a) => ((removed = a[2] === 'vg_t1/lv_pve2' || removed), { stdout: fixture('lvremove.txt') }));
    const ctx = makeCtx(lab, r, services(r));
    await rootLvsStep.undo!(ctx);
    await rootLvsStep.undo!(ctx);
    expect(r.commands('lvremove')).toEqual(['lvremove --yes vg_t1/lv_pve1', 'lvremove --yes vg_t1/lv_pve2']);
  });
});

describe('undo on a host without the tools', () => {
  it('is a no-op when lvm2 / open-iscsi are not installed (nothing of ours can exist there)', async () => {
    const none: Runner = { where: 'host', run: async (argv) => { throw commandFailed('host', argv, { reason: 'is not installed (not found in PATH)' }); } };
    const ctx = makeCtx(testLab(), none, { lvm: new Lvm(none), iscsiadm: new IscsiAdm(none) });
    await expect(rootLvsStep.undo!(ctx)).resolves.toBeUndefined();
    await expect(vgStep.undo!(ctx)).resolves.toBeUndefined();
    await expect(hostLoginStep.undo!(ctx)).resolves.toBeUndefined();
    const broken: Runner = { where: 'host', run: async (argv) => { throw commandFailed('host', argv, { exitCode: 5, stderr: '  Internal error\n' }); } };
    await expect(vgStep.undo!(makeCtx(testLab(), broken, { lvm: new Lvm(broken), iscsiadm: new IscsiAdm(broken) }))).rejects.toThrow(/vgs exited with code 5/);
  });
});
