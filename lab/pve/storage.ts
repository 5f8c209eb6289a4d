// Storage definitions and the formats used to verify them (proxmox.md D; pve-storage API):
//   GET  /storage                          → [{storage,type,content,portal,target,vgname,base,shared,pool,sparse,nodes,…}]
//   POST /storage --storage --type …        = `pvesm add <type> <id> …` (cluster-wide /etc/pve/storage.cfg)
//   GET  /nodes/<n>/storage                → [{storage,type,active,enabled,shared,…}] (per-node activation)
//   GET  /nodes/<n>/storage/<iscsi>/content → [{volid:"<id>:<ch>.<id>.<lun>.<by-id name>",size,…}]
//   GET  /nodes/<n>/disks/list             → [{devpath,size,used?,serial?,mounted,…}]
//   GET  /nodes/<n>/disks/zfs              → [{name,health,size,free,…}]
//   POST /nodes/<n>/disks/zfs --name --raidlevel single --devices /dev/X (runs zpool create)
import type { LabNames } from '../config/names.js';
import { LabError } from '../core/errors.js';
import { type PveParams, truthy } from './pvesh.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (json: unknown): Obj[] => (Array.isArray(json) ? json.filter(isObj) : []);

export interface StorageSpec {
  storage: string;
  type: 'iscsi' | 'lvm' | 'zfspool';
  /** Properties as `pvesh create /storage` takes them. */
  props: PveParams;
}

export function iscsiStorage(n: LabNames): StorageSpec {
  return { storage: n.pve.storageIscsi, type: 'iscsi', props: { portal: n.iscsi.portal, target: n.iscsi.iqn, content: 'none' } };
}

/** Shared LVM on the lab VG; `base` (the LUN volid) makes each node log in to the LUN before using the VG. */
export function lvmStorage(n: LabNames, base?: string): StorageSpec {
  return { storage: n.pve.storageLvm, type: 'lvm', props: { vgname: n.lvm.vg, base, shared: 1, content: 'images,rootdir' } };
}

export function zfsStorage(n: LabNames): StorageSpec {
  return { storage: n.pve.storageZfs, type: 'zfspool', props: { pool: n.pve.zfsPool, content: 'images,rootdir', sparse: 1, nodes: n.nodes.map((x) => x.name).join(',') } };
}

/** Params for `pvesh create /storage`. */
export function storageCreateParams(s: StorageSpec): PveParams {
  return { storage: s.storage, type: s.type, ...s.props };
}

const setOf = (v: unknown) => String(v ?? '').split(',').map((x) => x.trim()).filter(Boolean).sort().join(',');

/** Differences between a configured storage and the spec ("" props are compared as lists). Base is not compared. */
export function storageDiff(existing: Obj, s: StorageSpec): string[] {
  const diffs: string[] = [];
  if (existing['type'] !== s.type) diffs.push(`type is ${String(existing['type'])}, want ${s.type}`);
  for (const [k, want] of Object.entries(s.props)) {
    if (want === undefined || k === 'base') continue;
    const have = existing[k];
    const same = k === 'content' || k === 'nodes' ? setOf(have) === setOf(want) : typeof want === 'number' ? truthy(have) === truthy(want) : String(have ?? '') === String(want);
    if (!same) diffs.push(`${k} is ${JSON.stringify(have ?? null)}, want ${JSON.stringify(want)}`);
  }
  return diffs;
}

export function findStorage(json: unknown, id: string): Obj | undefined {
  return list(json).find((s) => s['storage'] === id);
}

/** From GET /nodes/<n>/storage: is the storage active (usable) on that node? */
export function storageActive(json: unknown, id: string): boolean {
  const s = list(json).find((x) => x['storage'] === id);
  return !!s && truthy(s['active']) && (s['enabled'] === undefined || truthy(s['enabled']));
}

/** LUN volids of an iSCSI storage, from its content listing. */
export function iscsiLuns(json: unknown): string[] {
  return list(json).map((v) => String(v['volid'] ?? '')).filter((v) => /^[^:]+:\d+\.\d+\.\d+\./.test(v));
}

/** /dev/disk/by-id name inside an iSCSI LUN volid ("san:0.0.1.scsi-36…" → "scsi-36…"). */
export function lunByIdName(volid: string): string {
  const rest = volid.slice(volid.indexOf(':') + 1);
  return rest.split('.').slice(3).join('.');
}

/** Physical volumes → VG from `pvs --reportformat json -o pv_name,vg_name`. */
export function parsePvs(json: unknown): { pv: string; vg: string }[] {
  const report = isObj(json) && Array.isArray(json['report']) ? json['report'].filter(isObj) : [];
  return report.flatMap((r) => list(r['pv']).map((p) => ({ pv: String(p['pv_name'] ?? ''), vg: String(p['vg_name'] ?? '') })));
}

export const PVS_ARGV = ['pvs', '--reportformat', 'json', '-o', 'pv_name,vg_name'] as const;

/**
 * The node's empty data disk for ZFS: a whole disk of exactly `sizeBytes`, unused and unmounted.
 * A disk whose serial contains "zfs" wins (set <serial> on the domain's data disk to make this certain).
 */
export function pickZfsDisk(json: unknown, sizeBytes: number): string {
  const disks = list(json).filter((d) => !d['parent'] && typeof d['devpath'] === 'string');
  const bySerial = disks.filter((d) => /zfs/i.test(String(d['serial'] ?? '')));
  if (bySerial.length === 1) return String(bySerial[0]!['devpath']);
  const free = disks.filter((d) => !d['used'] && !truthy(d['mounted']) && Number(d['size']) === sizeBytes);
  if (free.length === 1) return String(free[0]!['devpath']);
  const seen = disks.map((d) => `${String(d['devpath'])} ${Number(d['size'])} B${d['used'] ? ` used by ${String(d['used'])}` : ''}`).join('; ');
  throw new LabError(`cannot tell which disk is the ZFS data disk (want one unused disk of ${sizeBytes} bytes; found ${free.length}): ${seen}`, {
    hint: 'the data disk must be empty; if it holds an old pool, recreate the node with `pvelab down` and `pvelab up`',
  });
}

export function zfsPoolHealth(json: unknown, pool: string): string | undefined {
  const p = list(json).find((x) => x['name'] === pool);
  return p ? String(p['health'] ?? 'UNKNOWN') : undefined;
}

/** Params for POST /nodes/<n>/disks/zfs (a single-disk pool; storage registered separately). */
export function zfsCreateParams(pool: string, devpath: string): PveParams {
  return { name: pool, raidlevel: 'single', devices: devpath, ashift: 12, compression: 'on', add_storage: 0 };
}
