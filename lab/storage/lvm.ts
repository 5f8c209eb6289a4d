// LVM on the host: the lab VG on the shared LUN and the nodes' root LVs. Reads use
// `--reportformat json --units b --nosuffix` (lvm2 ≥ 2.02.158; one parser for pvs/vgs/lvs). Marks: the VG
// and each root LV carry the lab tag (--addtag); the PV gets a UUID derived from the lab (pvUuidOf), so
// an orphan PV left by an interrupted run is recognisably ours. Signature probing: blkid -p (low-level
// superblock + partition-table probe, no cache).
import { createHash } from 'node:crypto';
import type { Runner, RunOptions } from '../exec/runner.js';

/** lvm2 prints "File descriptor N leaked" warnings when its parent leaks fds; they are noise here. */
const ENV: RunOptions['env'] = { LVM_SUPPRESS_FD_WARNINGS: '1' };
const REPORT = ['--reportformat', 'json', '--units', 'b', '--nosuffix'];
/** ECMD_FAILED: lvm2's exit code when the named object does not exist (among other failures). */
export const LVM_EXIT_FAILED = 5;

export interface Pv { name: string; vg: string; uuid: string; sizeBytes: number }
export interface Vg { name: string; tags: string[]; sizeBytes: number; freeBytes: number; pvCount: number; lvCount: number }
export interface Lv { name: string; vg: string; tags: string[]; sizeBytes: number; path: string; attr: string; active: boolean }

export interface Signature {
  /** blkid TYPE (e.g. LVM2_member, ext4), PTTYPE for a partition table, or undefined when blank. */
  type: string | undefined;
  uuid: string | undefined;
  /** Raw `KEY=value` lines (blkid -o export), for messages. */
  fields: Record<string, string>;
}

/** Rows of one report kind from lvm2's JSON (`{"report":[{"vg":[{...}]}]}`); values are strings. */
export function parseLvmReport(json: string, kind: 'pv' | 'vg' | 'lv'): Record<string, string>[] {
  const j = JSON.parse(json) as { report?: Record<string, Record<string, string>[]>[] };
  return (j.report ?? []).flatMap((r) => r[kind] ?? []);
}

const tags = (s: string | undefined) => (s ? s.split(',').filter((t) => t !== '') : []);
const num = (s: string | undefined) => Number(s ?? 0);

/** Parses `blkid -p -o export DEV` (exit 2 = nothing found → blank). */
export function parseBlkidExport(text: string): Signature {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).replace(/\\(.)/g, '$1');
  }
  return { type: fields['TYPE'] ?? (fields['PTTYPE'] ? `partition table (${fields['PTTYPE']})` : undefined), uuid: fields['UUID'], fields };
}

/** The PV UUID pvelab gives a lab's PV: "pvelab" + 26 hex digits, in lvm2's 6-4-4-4-4-4-6 grouping. */
export function pvUuidOf(lab: string): string {
  const h = 'pvelab' + createHash('sha256').update(`pvelab-pv:${lab}`).digest('hex').slice(0, 26);
  return [h.slice(0, 6), h.slice(6, 10), h.slice(10, 14), h.slice(14, 18), h.slice(18, 22), h.slice(22, 26), h.slice(26, 32)].join('-');
}

/** lvm2 size argument: whole GiB as "<n>g", anything else in bytes ("<n>b"). */
export function lvmSize(bytes: number): string {
  return bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30}g` : `${bytes}b`;
}

export const lvmArgv = {
  pvs: (dev?: string) => ['pvs', ...REPORT, '-o', 'pv_name,vg_name,pv_uuid,pv_size', ...(dev ? [dev] : [])],
  vgs: (vg?: string) => ['vgs', ...REPORT, '-o', 'vg_name,vg_tags,vg_size,vg_free,pv_count,lv_count', ...(vg ? [vg] : [])],
  lvs: (vg: string) => ['lvs', ...REPORT, '-o', 'lv_name,vg_name,lv_tags,lv_size,lv_path,lv_attr', vg],
  blkid: (dev: string) => ['blkid', '-p', '-o', 'export', dev],
  pvcreate: (dev: string, uuid: string) => ['pvcreate', '--uuid', uuid, '--norestorefile', dev],
  vgcreate: (vg: string, dev: string, tag: string) => ['vgcreate', '--addtag', tag, vg, dev],
  lvcreate: (vg: string, lv: string, bytes: number, tag: string) => ['lvcreate', '--yes', '--name', lv, '--size', lvmSize(bytes), '--addtag', tag, vg],
  lvactivate: (vg: string, lv: string) => ['lvchange', '--activate', 'y', `${vg}/${lv}`],
  lvremove: (vg: string, lv: string) => ['lvremove', '--yes', `${vg}/${lv}`],
  vgremove: (vg: string) => ['vgremove', '--yes', '--force', vg],
  pvremove: (dev: string) => ['pvremove', '--yes', dev],
};

export class Lvm {
  constructor(readonly runner: Runner) {}

  private async report(argv: string[], kind: 'pv' | 'vg' | 'lv'): Promise<Record<string, string>[]> {
    const r = await this.runner.run(argv, { env: ENV, allowExit: [LVM_EXIT_FAILED] });
    return r.stdout.trim() ? parseLvmReport(r.stdout, kind) : [];
  }

  async pvs(dev?: string): Promise<Pv[]> {
    return (await this.report(lvmArgv.pvs(dev), 'pv')).map((r) => ({ name: r['pv_name'] ?? '', vg: r['vg_name'] ?? '', uuid: r['pv_uuid'] ?? '', sizeBytes: num(r['pv_size']) }));
  }

  /** All VGs, or the one named (empty when it does not exist). */
  async vgs(vg?: string): Promise<Vg[]> {
    return (await this.report(lvmArgv.vgs(vg), 'vg')).map((r) => ({
      name: r['vg_name'] ?? '', tags: tags(r['vg_tags']), sizeBytes: num(r['vg_size']), freeBytes: num(r['vg_free']), pvCount: num(r['pv_count']), lvCount: num(r['lv_count']),
    }));
  }

  /** LVs of a VG (empty when the VG does not exist). */
  async lvs(vg: string): Promise<Lv[]> {
    return (await this.report(lvmArgv.lvs(vg), 'lv')).map((r) => ({
      name: r['lv_name'] ?? '', vg: r['vg_name'] ?? '', tags: tags(r['lv_tags']), sizeBytes: num(r['lv_size']), path: r['lv_path'] ?? '',
      attr: r['lv_attr'] ?? '', active: (r['lv_attr'] ?? '').charAt(4) === 'a',
    }));
  }

  async isBlockDevice(dev: string): Promise<boolean> {
    return (await this.runner.run(['test', '-b', dev], { allowExit: [1] })).exitCode === 0;
  }

  /** Low-level probe of the device's first signature (blkid -p; exit 2 = blank). */
  async signature(dev: string): Promise<Signature> {
    const r = await this.runner.run(lvmArgv.blkid(dev), { allowExit: [2] });
    return r.exitCode === 2 ? { type: undefined, uuid: undefined, fields: {} } : parseBlkidExport(r.stdout);
  }

  async pvcreate(dev: string, uuid: string): Promise<void> {
    await this.runner.run(lvmArgv.pvcreate(dev, uuid), { env: ENV });
  }

  async vgcreate(vg: string, dev: string, tag: string): Promise<void> {
    await this.runner.run(lvmArgv.vgcreate(vg, dev, tag), { env: ENV });
  }

  async lvcreate(vg: string, lv: string, bytes: number, tag: string): Promise<void> {
    await this.runner.run(lvmArgv.lvcreate(vg, lv, bytes, tag), { env: ENV });
  }

  async lvactivate(vg: string, lv: string): Promise<void> {
    await this.runner.run(lvmArgv.lvactivate(vg, lv), { env: ENV });
  }

  async lvremove(vg: string, lv: string): Promise<void> {
    await this.runner.run(lvmArgv.lvremove(vg, lv), { env: ENV });
  }

  async vgremove(vg: string): Promise<void> {
    await this.runner.run(lvmArgv.vgremove(vg), { env: ENV });
  }

  async pvremove(dev: string): Promise<void> {
    await this.runner.run(lvmArgv.pvremove(dev), { env: ENV });
  }
}
