// /etc/pve/storage.cfg of the stand-in: section-config text (pve-common SectionConfig write_config:
// "<type>: <id>", then required options sorted, then optional ones sorted, "\t<key> <value>"), the
// installer's defaults (Proxmox/Install/StorageConfig.pm) and `pvesm add` validation for the types
// the lab uses: dir, iscsi, lvm (+ base on an iSCSI LUN: LVMPlugin.pm on_add_hook), lvmthin, zfspool.
// Content lists: Perl hash order upstream (unordered!) — the stand-in writes them sorted.
import type { SectionCfg } from './cfs.js';
import { die } from './perl.js';

interface TypeDef {
  required: string[];
  optional: string[];
  content: string[]; // valid content types
  defaultContent: string[];
  shared?: boolean; // always shared (iscsi)
}

export const TYPES: Record<string, TypeDef> = {
  dir: { required: ['path'], optional: ['content', 'nodes', 'disable', 'shared', 'prune-backups', 'max-protected-backups', 'mkdir', 'create-base-path', 'create-subdirs', 'is_mountpoint', 'bwlimit', 'preallocation', 'format', 'content-dirs'], content: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import', 'none'], defaultContent: ['images', 'rootdir'] },
  iscsi: { required: ['portal', 'target'], optional: ['nodes', 'disable', 'content', 'bwlimit'], content: ['images', 'none'], defaultContent: ['images'], shared: true },
  lvm: { required: ['vgname'], optional: ['nodes', 'shared', 'disable', 'saferemove', 'saferemove-stepsize', 'saferemove_throughput', 'content', 'base', 'tagged_only', 'bwlimit', 'snapshot-as-volume-chain'], content: ['images', 'rootdir'], defaultContent: ['images'] },
  lvmthin: { required: ['thinpool', 'vgname'], optional: ['nodes', 'disable', 'content', 'bwlimit'], content: ['images', 'rootdir'], defaultContent: ['images', 'rootdir'] },
  zfspool: { required: ['pool'], optional: ['blocksize', 'sparse', 'nodes', 'disable', 'content', 'bwlimit', 'mountpoint'], content: ['images', 'rootdir'], defaultContent: ['images', 'rootdir'] },
};

export const ALL_TYPES = ['btrfs', 'cephfs', 'cifs', 'dir', 'esxi', 'iscsi', 'iscsidirect', 'lvm', 'lvmthin', 'nfs', 'pbs', 'rbd', 'zfs', 'zfspool'];
const BOOL = new Set(['shared', 'sparse', 'disable', 'saferemove', 'tagged_only', 'is_mountpoint', 'create-base-path', 'create-subdirs', 'mkdir', 'snapshot-as-volume-chain']);
const INT = new Set(['max-protected-backups', 'saferemove-stepsize']);

/** storage.cfg options of boolean or integer type: JSON numbers in the API (see cfs.ts typedOpts) */
export const STORAGE_NUMERIC: ReadonlySet<string> = new Set([...BOOL, ...INT]);

/** installer defaults: `local` dir + local-lvm (ext4/xfs) or local-zfs (zfs) */
export function defaultStorage(rootfs: 'ext4' | 'zfs'): SectionCfg {
  const m: SectionCfg = new Map();
  m.set('local', { type: 'dir', opts: { path: '/var/lib/vz', content: 'backup,import,iso,vztmpl' } });
  if (rootfs === 'zfs') m.set('local-zfs', { type: 'zfspool', opts: { pool: 'rpool/data', sparse: '1', content: 'images,rootdir' } });
  else m.set('local-lvm', { type: 'lvmthin', opts: { thinpool: 'data', vgname: 'pve', content: 'images,rootdir' } });
  return m;
}

export function renderStorageCfg(cfg: SectionCfg): string {
  let out = '';
  for (const [id, { type, opts }] of cfg) {
    const def = TYPES[type];
    out += `${type}: ${id}\n`;
    if (opts.comment) out += `\tcomment ${opts.comment}\n`;
    if (opts.disable === '1') out += '\tdisable\n';
    const req = [...(def?.required ?? [])].sort();
    const rest = Object.keys(opts).filter((k) => !req.includes(k) && k !== 'comment' && k !== 'disable').sort();
    for (const k of [...req, ...rest]) if (opts[k] !== undefined && opts[k] !== '') out += `\t${k} ${opts[k]}\n`;
    out += '\n';
  }
  return out;
}

const ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;

export interface AddResult {
  opts: Record<string, string>;
  warnings: string[];
}

/** check_config(create) of the type's plugin: allowed/required options, content decoding. */
export function checkStorageConfig(type: string, id: string, param: Record<string, string>): AddResult {
  const def = TYPES[type];
  if (!def) throw die(`storage type '${type}' is not supported by the stand-in`);
  if (!ID_RE.test(id)) throw die(`storage ID '${id}' contains illegal characters`);
  const warnings: string[] = [];
  const opts: Record<string, string> = {};
  for (const [k, v] of Object.entries(param)) {
    if (![...def.required, ...def.optional, 'comment'].includes(k)) throw die(`unexpected property '${k}'`);
    if (k === 'content') {
      const list = v.split(/[,;\s]+/).filter(Boolean);
      const ok = list.filter((c) => {
        if (def.content.includes(c)) return true;
        warnings.push(`storage does not support content type '${c}'`);
        return false;
      });
      if (ok.includes('none') && ok.length > 1) throw die("unable to combine 'none' with other content types");
      opts.content = [...new Set(ok)].sort().join(',') || 'none';
    } else if (k === 'nodes') opts.nodes = v.split(/[,;\s]+/).filter(Boolean).join(',');
    else if (BOOL.has(k)) opts[k] = /^(1|true|yes|on)$/i.test(v) ? '1' : '0';
    else opts[k] = v;
  }
  for (const k of def.required) if (opts[k] === undefined) throw die(`missing value for required option '${k}'`);
  if (type === 'iscsi' && opts.content === undefined) opts.content = 'images';
  return { opts, warnings };
}

export function contentOf(opts: Record<string, string>, type: string): string[] {
  return (opts.content ?? TYPES[type]?.defaultContent.join(',') ?? '').split(',').filter(Boolean);
}

export function enabledOn(opts: Record<string, string>, node: string): boolean {
  if (opts.disable === '1') return false;
  return !opts.nodes || opts.nodes.split(',').includes(node);
}
