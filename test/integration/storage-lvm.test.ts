// LVM on the shared LUN (layout lvm). The host cannot log in with open-iscsi here (no initiator in the
// kernel), so the LUN's backing file is attached as a loop device and the by-path link the login step
// waits for points at it — the VG and root-LV steps then run unchanged with the real lvm2 tools. Proof
// goes back through iSCSI (libiscsi via qemu-io/qemu-img from an initiator host): the LUN carries the
// LVM label and the lab tag. lvcreate cannot run without device-mapper: the root LVs (tagged, as
// lvcreate would make them) and a PVE guest disk are placed with lvm2's own vgcfgrestore to test undo.
import { mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreflightError } from '../../lab/core/errors.js';
import { runDown, runUp } from '../../lab/core/pipeline.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { IscsiAdm } from '../../lab/storage/iscsiadm.js';
import { Lvm } from '../../lab/storage/lvm.js';
import { byPathName } from '../../lab/storage/spec.js';
import { rootLvsStep } from '../../lab/steps/storage-lvs.js';
import { lunFilesStep } from '../../lab/steps/storage-files.js';
import { storagePreflightStep } from '../../lab/steps/storage-preflight.js';
import { targetStep } from '../../lab/steps/storage-target.js';
import { vgStep } from '../../lab/steps/storage-vg.js';
import { run } from '../helpers/run.js';
import { iscsiUrl, missingPrereq, startStorageNs, type StorageNs } from './storage-env.js';

const LVM_ENV = { ...process.env, LVM_SUPPRESS_FD_WARNINGS: '1' };
const lvmRun = (argv: string[], allowFail = false) => run(argv, { env: LVM_ENV, allowFail });
const missing = missingPrereq(['tgtd', 'tgtadm', 'qemu-io', 'qemu-img', 'vgcreate', 'vgcfgrestore', 'losetup', 'mkfs.ext4', 'nsenter', 'unshare']);
let env: StorageNs;
const loops: string[] = [];
const decoyVg = `vg_decoy${process.pid % 100000}`;
let lunLoop = '';
let byPath = '';

async function loop(file: string, sizeMiB: number): Promise<string> {
  await run(['truncate', '-s', `${sizeMiB}M`, file]);
  const dev = (await run(['losetup', '--find', '--show', file])).stdout.trim();
  loops.push(dev);
  return dev;
}

beforeAll(async () => {
  if (missing) return;
  env = await startStorageNs('storage-lvm');
});
afterAll(async () => {
  await lvmRun(['vgremove', '--yes', '--force', decoyVg], true);
  for (const d of loops) {
    await lvmRun(['pvremove', '--yes', '--force', d], true);
    await run(['losetup', '-d', d], { allowFail: true });
  }
  await env?.down();
});

describe.skipIf(!!missing)(`lab VG on the shared LUN (real lvm2 on a loop device over the LUN file)${missing ? ` (skipped: ${missing} missing)` : ''}`, () => {
  const lab = () => env.lab({ storage: { layout: 'lvm', lunGiB: 64 } });
  const local = new LocalRunner();
  /** Host side of layout lvm: LVM in the root namespace, the by-path link in a test directory. */
  const hostCtx = () => env.ctx(lab(), { host: local, services: { ...env.services, lvm: new Lvm(local), iscsiadm: new IscsiAdm(local, { byPathDir: join(env.dir, 'by-path') }) } });
  const names = () => hostCtx().names;
  const point = (dev: string) => {
    try { unlinkSync(byPath); } catch { /* first time */ }
    symlinkSync(dev, byPath);
  };

  it('exports the LUN, attaches it as the by-path device the login step would get', async () => {
    await runUp([storagePreflightStep, lunFilesStep, targetStep], () => env.ctx(lab()));
    lunLoop = (await run(['losetup', '--find', '--show', names().iscsi.lunImage])).stdout.trim();
    loops.push(lunLoop);
    mkdirSync(join(env.dir, 'by-path'), { recursive: true });
    byPath = join(env.dir, 'by-path', byPathName(env.gateway, 3260, names().iscsi.iqn, 1));
    point(lunLoop);
    expect(await hostCtx().services.iscsiadm!.device(byPathName(env.gateway, 3260, names().iscsi.iqn, 1))).toBe(lunLoop);
  });

  it('refuses a device with a foreign signature and leaves it intact', async () => {
    const ext4 = await loop(join(env.dir, 'foreign.img'), 32);
    await run(['mkfs.ext4', '-q', '-F', ext4]);
    point(ext4);
    const err = await runUp([vgStep], () => hostCtx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect((err as Error).message).toMatch(new RegExp(`^${ext4} \\(the shared LUN\\) already carries ext4 UUID=\\S+: pvelab never wipes what it did not create$`));
    expect((await run(['blkid', '-p', '-o', 'value', '-s', 'TYPE', ext4])).stdout.trim()).toBe('ext4');
    point(lunLoop);
  });

  it('refuses a same-named VG that is not ours (drift), then creates PV + tagged VG on the LUN', async () => {
    const other = await loop(join(env.dir, 'samename.img'), 32);
    await lvmRun(['vgcreate', names().lvm.vg, other]);
    expect(await vgStep.check(hostCtx())).toMatchObject({ kind: 'drift' });
    await expect(runUp([vgStep], () => hostCtx())).rejects.toThrow(/without the tag/);
    await lvmRun(['vgremove', '--yes', names().lvm.vg]);
    await lvmRun(['pvremove', '--yes', other]);

    const decoyDev = await loop(join(env.dir, 'decoy.img'), 32);
    await lvmRun(['vgcreate', decoyVg, decoyDev]);

    const out = await runUp([vgStep], () => hostCtx());
    expect(out.map((o) => o.result)).toEqual(['applied']);
    expect((await runUp([vgStep], () => hostCtx())).map((o) => o.result)).toEqual(['already done']);
    const vgs = JSON.parse((await lvmRun(['vgs', '--reportformat', 'json', '-o', 'vg_name,vg_tags,pv_count', names().lvm.vg])).stdout);
    expect(vgs.report[0].vg).toEqual([{ vg_name: names().lvm.vg, vg_tags: names().lvm.tag, pv_count: '1' }]);
  });

  it('the LUN read through iSCSI carries the LVM label, our PV UUID, the VG and the lab tag', async () => {
    const url = iscsiUrl(env.gateway, names().iscsi.iqn);
    const label = await env.initiator('inhost', ['qemu-io', '-f', 'raw', '-c', 'read -v 512 8', url]);
    expect(label.stdout).toContain('00000200:  4c 41 42 45 4c 4f 4e 45'); // "LABELONE" in sector 1
    const head = join(env.dir, 'lun-head.bin');
    const dd = await env.initiator('inhost', ['qemu-img', 'dd', '-f', 'raw', '-O', 'raw', 'bs=1M', 'count=1', `if=${url}`, `of=${head}`]);
    expect(dd.exitCode).toBe(0);
    const text = readFileSync(head).toString('latin1');
    expect(text).toContain(`${names().lvm.vg} {`);
    expect(text).toContain(`tags = ["${names().lvm.tag}"]`);
    expect(text).toContain('LVM2 001');
  });

  it('undo removes only tagged LVs, then the tagged VG and our PV; twice; the decoy VG survives', async () => {
    // Place the root LVs as lvcreate would (tagged) and a guest disk as PVE would (untagged).
    const vg = names().lvm.vg;
    const backup = join(env.dir, 'vg.txt');
    await lvmRun(['vgcfgbackup', '-f', backup, vg]);
    const text = readFileSync(backup, 'utf8');
    const extents = 4096; // 16 GiB in 4 MiB extents
    const lv = (name: string, start: number, count: number, tagged: boolean) =>
      `\t\t${name} {\n\t\t\tid = "${name.replace(/[^a-z0-9]/gi, '').padEnd(6, 'x').slice(0, 6)}-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa"\n\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]\n\t\t\tflags = []\n` +
      (tagged ? `\t\t\ttags = ["${names().lvm.tag}"]\n` : '') +
      `\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = ${count}\n\t\t\t\ttype = "striped"\n\t\t\t\tstripe_count = 1\n\t\t\t\tstripes = [\n\t\t\t\t\t"pv0", ${start}\n\t\t\t\t]\n\t\t\t}\n\t\t}\n`;
    const lvsText = names().nodes.map((n, i) => lv(n.rootLv, i * extents, extents, true)).join('') + lv('vm-100-disk-0', 3 * extents, 2, false);
    const edited = text.replace(/\tseqno = (\d+)/, (_m, n: string) => `\tseqno = ${Number(n) + 1}`).replace(/\n}\s*$/, `\n\tlogical_volumes {\n${lvsText}\t}\n}\n`);
    writeFileSync(backup, edited);
    await lvmRun(['vgcfgrestore', '-f', backup, vg]);
    const lvNames = async () => (await hostCtx().services.lvm!.lvs(vg)).map((l) => `${l.name}:${l.tags.join(',')}`);
    expect(await lvNames()).toEqual([...names().nodes.map((n) => `${n.rootLv}:${names().lvm.tag}`), 'vm-100-disk-0:']);

    await rootLvsStep.undo!(hostCtx());
    await rootLvsStep.undo!(hostCtx());
    expect(await lvNames()).toEqual(['vm-100-disk-0:']);

    await runDown([vgStep], () => hostCtx());
    await runDown([vgStep], () => hostCtx());
    expect(await hostCtx().services.lvm!.vgs(vg)).toEqual([]);
    expect((await run(['blkid', '-p', lunLoop], { allowFail: true })).exitCode).toBe(2); // label gone: blank again
    const decoy = await hostCtx().services.lvm!.vgs(decoyVg);
    expect(decoy.map((v) => v.name)).toEqual([decoyVg]);
  });
});
