// Storage operations as seen from one node: `pvesm add` (validation, cfs lock, on_add_hook,
// activation on the local node), storage status (PVE::Storage::storage_info + API index fields),
// volume lists (`pvesm list`), iSCSI discovery (`pvesm scan iscsi`), volume allocation for CTs.
// Sizes are modelled (dir 30 GiB, local-lvm 60 GiB; LUNs and pools as configured).
import type { ClusterModel } from './cluster.js';
import { lunById, portalHost } from './local.js';
import { PveError, die } from './perl.js';
import { checkStorageConfig, contentOf, enabledOn } from './storage.js';

const GiB = 2 ** 30;

/** cfs_lock_file on an inquorate node: retries 10 s, then "cfs-lock '<id>' error: no quorum!" */
export async function cfsLock<T>(m: ClusterModel, node: string, lockid: string, stderr: (s: string) => void, code: () => T): Promise<T> {
  if (!m.view(node).writable) {
    for (let s = 1; s <= 9; s++) {
      await m.clock.sleep(m.t.cfsLockTimeout / 10);
      stderr(`trying to acquire cfs lock '${lockid}' ...\n`);
    }
    await m.clock.sleep(m.t.cfsLockTimeout / 10);
    throw die(`cfs-lock '${lockid}' error: no quorum!`);
  }
  return code();
}

export async function addStorage(m: ClusterModel, node: string, type: string, id: string, param: Record<string, string>, stderr: (s: string) => void): Promise<void> {
  const { opts, warnings } = checkStorageConfig(type, id, param);
  for (const w of warnings) stderr(`${w}\n`);
  try {
    await cfsLock(m, node, 'file-storage_cfg', stderr, () => {
      const db = m.view(node).db;
      if (db.storage.has(id)) throw die(`storage ID '${id}' already defined`);
      if (type === 'lvm' && opts.base) onAddLvm(m, node, opts);
      if (enabledOn(opts, node)) activate(m, node, id, type, opts);
      db.storage.set(id, { type, opts });
    });
  } catch (e) {
    if (e instanceof PveError && !e.code) throw die(`create storage failed: ${e.message}`);
    throw e;
  }
}

function baseLun(m: ClusterModel, node: string, base: string): { byId: string; size: number } {
  const [baseid, volname] = [base.slice(0, base.indexOf(':')), base.slice(base.indexOf(':') + 1)];
  const bcfg = m.view(node).db.storage.get(baseid);
  if (!bcfg) throw die(`base storage ID '${baseid}' does not exist`);
  if (bcfg.type !== 'iscsi') throw die(`unsupported base type '${bcfg.type}'`);
  const mm = /^\d+\.\d+\.(\d+)\.(\S+)$/.exec(volname);
  if (!mm) throw die(`unable to parse iscsi volume name '${volname}'`);
  const t = m.local.targetsAt(bcfg.opts.portal!).find((x) => x.target === bcfg.opts.target);
  const lun = t?.luns.find((l) => l.lun === Number(mm[1]) && lunById(t.tid ?? 1, l.lun) === mm[2]);
  if (!t || !lun || !m.node(node).linked) {
    throw die(`command '/sbin/pvs --separator : --noheadings --units k --unbuffered --nosuffix --options pv_name,pv_size,vg_name,pv_uuid /dev/disk/by-id/${mm[2]}' failed: exit code 5`);
  }
  return { byId: mm[2]!, size: lun.size };
}

/** LVMPlugin on_add_hook: PV+VG on the base LUN unless it already carries this VG. */
function onAddLvm(m: ClusterModel, node: string, opts: Record<string, string>): void {
  const { byId } = baseLun(m, node, opts.base!);
  const vg = m.local.lunVg.get(byId);
  if (vg && vg !== opts.vgname) throw die(`device '/dev/disk/by-id/${byId}' is already used by volume group '${vg}'`);
  m.local.lunVg.set(byId, opts.vgname!);
}

function activate(m: ClusterModel, node: string, id: string, type: string, opts: Record<string, string>): void {
  if (type === 'zfspool') {
    const pool = opts.pool!.split('/')[0]!;
    if (!m.local.pools(node).has(pool)) {
      throw die(`could not activate storage '${id}', zfs error: cannot import '${pool}': no such pool available`);
    }
  }
}

export interface StorageInfo {
  storage: string;
  type: string;
  content: string;
  enabled: number;
  active: number;
  shared: number;
  total: number;
  used: number;
  avail: number;
  used_fraction?: number;
}

export function storageInfo(m: ClusterModel, node: string): StorageInfo[] {
  const out: StorageInfo[] = [];
  const n = m.node(node);
  for (const [id, { type, opts }] of m.view(node).db.storage) {
    const enabled = enabledOn(opts, node);
    const e: StorageInfo = { storage: id, type, content: contentOf(opts, type).join(','), enabled: enabled ? 1 : 0, active: 0, shared: type === 'iscsi' || opts.shared === '1' ? 1 : 0, total: 0, used: 0, avail: 0 };
    if (enabled) {
      let total = 0;
      let used = 0;
      let active = true;
      if (type === 'dir') [total, used] = [30 * GiB, 3 * GiB];
      else if (type === 'lvmthin') [total, used] = [60 * GiB, volumes(m, node, id).reduce((s, v) => s + v.size, 0)];
      else if (type === 'zfspool') {
        const p = m.local.pools(node).get(opts.pool!.split('/')[0]!);
        active = !!p;
        [total, used] = [p?.size ?? 0, volumes(m, node, id).reduce((s, v) => s + v.size, 0)];
      } else if (type === 'iscsi') active = n.linked && m.local.targetsAt(opts.portal!).some((t) => t.target === opts.target);
      else if (type === 'lvm') {
        const lun = [...m.local.lunVg].find(([, vg]) => vg === opts.vgname);
        const size = m.local.san.flatMap((t) => t.luns.map((l) => ({ id: lunById(t.tid ?? 1, l.lun), size: l.size }))).find((l) => l.id === lun?.[0])?.size;
        active = !!lun && size !== undefined && (!opts.base || n.linked);
        total = size ? size - 4 * 2 ** 20 : 0;
        used = [...m.local.lvsOf(opts.vgname!).values()].reduce((s, v) => s + v, 0);
      }
      if (active) Object.assign(e, { active: 1, total, used, avail: total - used }, total > 0 ? { used_fraction: used / total } : {});
    }
    out.push(e);
  }
  return out;
}

export interface Volume {
  volid: string;
  format: string;
  content: string;
  size: number;
  vmid?: number;
}

export function volumes(m: ClusterModel, node: string, id: string): Volume[] {
  const s = m.view(node).db.storage.get(id);
  if (!s) return [];
  const out: Volume[] = [];
  if (s.type === 'iscsi') {
    const t = m.local.targetsAt(s.opts.portal!).find((x) => x.target === s.opts.target);
    if (t && m.node(node).linked) for (const l of t.luns) out.push({ volid: `${id}:0.0.${l.lun}.${lunById(t.tid ?? 1, l.lun)}`, format: 'raw', content: 'images', size: l.size });
  }
  // templates as last listed from the node's disk (callers refresh first: ClusterModel.refreshTemplates)
  if (s.type === 'dir') for (const [f, size] of [...m.local.cache(node)].sort()) out.push({ volid: `${id}:vztmpl/${f}`, format: f.replace(/^.*\.tar\./, 'tar.').replace(/^tar\.(\w+)$/, 't$1'), content: 'vztmpl', size });
  for (const g of m.view(node).db.guests.values()) {
    const rootfs = g.conf.rootfs?.split(',')[0] ?? '';
    if (!rootfs.startsWith(`${id}:`)) continue;
    if (s.type !== 'lvm' && s.type !== 'iscsi' && !(s.type === 'zfspool' || s.type === 'lvmthin') ) continue;
    if ((s.type === 'zfspool' || s.type === 'lvmthin') && g.node !== node) continue;
    const size = Number(/size=(\d+)G/.exec(g.conf.rootfs ?? '')?.[1] ?? 4) * GiB;
    out.push({ volid: rootfs, format: s.type === 'zfspool' ? 'subvol' : 'raw', content: 'rootdir', size, vmid: g.vmid });
  }
  return out;
}

export function scanIscsi(m: ClusterModel, node: string, portal: string): Array<{ target: string; portal: string }> {
  if (!/^[\w.-]+(:\d+)?$/.test(portal)) throw die(`unable to parse/resolve portal address '${portal}'`);
  if (!m.node(node).linked) return [];
  return m.local.targetsAt(portal).map((t) => ({ target: t.target, portal: `${portalHost(t.portal)}:${/:(\d+)$/.exec(t.portal)?.[1] ?? 3260}` }));
}

export { GiB };
