// `pct create` inside its worker (pve-container API2/LXC.pm create_vm + PVE::LXC::Create): storage
// checks for the rootfs, volume allocation on lvm (shared LUN VG), lvmthin, zfspool or dir,
// the template or backup archive read from the node's disk (rootfs.ts unpacks it), net0 normalisation (hwaddr BC:24:11:.. generated
// once, the Proxmox OUI, pve-cluster DataCenterConfig.pm; type=veth), config written to
// /etc/pve/nodes/<node>/lxc/<vmid>.conf.
import { createHash } from 'node:crypto';
import type { ClusterModel } from './cluster.js';
import { die, paramError } from './perl.js';
import { contentOf, enabledOn } from './storage.js';

export function parseNet(v: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const kv of v.split(',')) {
    const i = kv.indexOf('=');
    if (i < 0) o.name = kv;
    else o[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return o;
}

export function printNet(o: Record<string, string>): string {
  const keys = Object.keys(o).filter((k) => k !== 'name').sort();
  return [`name=${o.name ?? 'eth0'}`, ...keys.map((k) => `${k}=${o[k]}`)].join(',');
}

export function macFor(node: string, vmid: number, key: string, now: number): string {
  const b = createHash('sha1').update(`${node}|${vmid}|${key}|${now}`).digest();
  return ['BC', '24', '11', ...[...b.subarray(0, 3)].map((x) => x.toString(16).toUpperCase().padStart(2, '0'))].join(':');
}

/** storage checks done before the worker ($check_and_activate_storage). Returns [storeid, sizeGiB]. */
export function checkRootfs(m: ClusterModel, node: string, rootfs: string, storageParam: string | undefined): [string, number] {
  const mm = /^(?:([a-z][\w.-]*):)?(\d+(?:\.\d+)?)(?:,.*)?$/i.exec(rootfs);
  const storeid = mm?.[1] ?? storageParam ?? 'local';
  const size = Number(mm?.[2] ?? 4);
  const s = m.view(node).db.storage.get(storeid);
  if (!s) throw die(`storage '${storeid}' does not exist`);
  if (!enabledOn(s.opts, node)) throw die(s.opts.disable === '1' ? `storage '${storeid}' is disabled` : `storage '${storeid}' is not available on node '${node}'`);
  if (!contentOf(s.opts, s.type).includes('rootdir')) throw paramError({ storage: `storage '${storeid}' does not support container directories` });
  if (s.type === 'zfspool' && !m.local.pools(node).has(s.opts.pool!.split('/')[0]!)) {
    throw die(`could not activate storage '${storeid}', zfs error: cannot import '${s.opts.pool!.split('/')[0]}': no such pool available`);
  }
  return [storeid, size];
}

/** allocate the rootfs volume; returns the volid and the lines the real tools print */
export function allocRootfs(m: ClusterModel, node: string, vmid: number, storeid: string, sizeG: number): { volid: string; out: string } {
  const s = m.view(node).db.storage.get(storeid)!;
  const used = new Set([...m.view(node).db.guests.values()].map((g) => g.conf.rootfs?.split(',')[0]));
  let n = 0;
  const name = (p: string) => {
    while (used.has(`${storeid}:${p}-${vmid}-disk-${n}`)) n++;
    return `${p}-${vmid}-disk-${n}`;
  };
  if (s.type === 'lvm') {
    const lvs = m.local.lvsOf(s.opts.vgname!);
    if (![...m.local.lunVg.values()].includes(s.opts.vgname!) && s.opts.base) throw die(`no such volume group '${s.opts.vgname}'`);
    const lv = name('vm');
    lvs.set(lv, sizeG * 2 ** 30);
    return { volid: `${storeid}:${lv}`, out: `  Logical volume "${lv}" created.\n` };
  }
  const local = (volid: string, out: string) => {
    m.local.volumeNodes.set(volid, new Set([node]));
    return { volid, out };
  };
  if (s.type === 'lvmthin') {
    const lv = name('vm');
    return local(`${storeid}:${lv}`, `  Logical volume "${lv}" created.\n`);
  }
  if (s.type === 'zfspool') return local(`${storeid}:${name('subvol')}`, '');
  if (s.type === 'dir') return local(`${storeid}:${vmid}/vm-${vmid}-disk-${n}.raw`, `Formatting '/var/lib/vz/images/${vmid}/vm-${vmid}-disk-${n}.raw', fmt=raw size=${sizeG * 2 ** 30} preallocation=off\n`);
  throw die(`storage '${storeid}' does not support containers`);
}

/** why the CT's root volume cannot be used on `node` (node-local volume elsewhere), or undefined */
export function volumeProblem(m: ClusterModel, node: string, rootfs: string | undefined): string | undefined {
  const volid = rootfs?.split(',')[0];
  if (!volid) return undefined;
  const holders = m.local.volumeNodes.get(volid);
  if (!holders || holders.has(node)) return undefined;
  const [sid, name] = volid.split(':') as [string, string];
  const s = m.view(node).db.storage.get(sid);
  if (s?.type === 'zfspool') return `zfs error: cannot open '${s.opts.pool}/${name}': dataset does not exist`;
  if (s?.type === 'lvmthin') return `no such logical volume ${s.opts.vgname}/${name}`;
  return `volume '${volid}' does not exist`;
}

/** ostemplate (`<storage>:vztmpl/<file>`, `<storage>:backup/<file>` or an absolute path) -> the
 *  archive file on the node (PVE::Storage::abs_filesystem_path), or the upstream error */
export async function readArchive(m: ClusterModel, node: string, ostemplate: string): Promise<{ path: string; data: Buffer }> {
  let path = ostemplate;
  if (!ostemplate.startsWith('/')) {
    const mm = /^([a-z][\w.-]*):(vztmpl|backup)\/(.+)$/i.exec(ostemplate);
    if (!mm) throw die(`unable to parse volume ID '${ostemplate}'`);
    const s = m.view(node).db.storage.get(mm[1]!);
    if (!s) throw die(`storage '${mm[1]}' does not exist`);
    if (s.type !== 'dir') throw die(`can't find file '${ostemplate}'`);
    path = `${s.opts.path}/${mm[2] === 'vztmpl' ? 'template/cache' : 'dump'}/${mm[3]}`;
  }
  const data = await m.effects.readNodeFile(node, path);
  if (!data) throw die(`can't find file '${ostemplate}'`);
  return { path, data };
}
