// Node-local and SAN facts that are not in /etc/pve: ZFS pools per node, the template cache of the
// `local` dir storage per node (as last listed from the node's disk), container rootfs data per
// volume (model/rootfs.ts), and the iSCSI targets the stand-in can "see" (with the LVM volume
// group each shared LUN carries, the LUN being shared by every node). by-id names follow what tgt
// LUNs look like on Linux ("scsi-3" + NAA 6 id 6000000000000000 0e000000 <tid> <lun>; modelled).

import type { Rootfs } from './rootfs.js';

export interface IscsiLun {
  lun: number;
  size: number; // bytes
}

export interface IscsiTarget {
  portal: string; // ip[:port]
  target: string; // IQN
  tid?: number;
  luns: IscsiLun[];
}

export interface Zpool {
  name: string;
  devices: string[];
  size: number; // bytes
  raid: string; // '' (stripe) | mirror | raidz...
  created: number;
}

export function lunById(tid: number, lun: number): string {
  const h = (n: number) => n.toString(16).padStart(4, '0');
  return `scsi-36000000000000000${'0e000000'}${h(tid)}${h(lun)}`;
}

export function portalHost(p: string): string {
  return p.replace(/:\d+$/, '');
}

export class LocalState {
  readonly zpools = new Map<string, Map<string, Zpool>>();
  /** node -> template file -> size, refreshed from the node's `local` template directory */
  readonly templates = new Map<string, Map<string, number>>();
  /** container rootfs per volume: volid (shared storage) or volid@node (node-local copies) */
  readonly rootfs = new Map<string, Rootfs>();
  /** LUN by-id -> volume group created on it (cluster-wide: the LUN is shared) */
  readonly lunVg = new Map<string, string>();
  /** volume group -> logical volumes (name -> bytes) */
  readonly lvs = new Map<string, Map<string, number>>();
  /** volumes on node-local storage (lvmthin, zfspool, dir): volid -> nodes holding a copy (replication adds targets) */
  readonly volumeNodes = new Map<string, Set<string>>();
  /** aplinfo index downloaded by `pveam update` (node -> true) */
  readonly aplUpdated = new Set<string>();

  constructor(readonly san: IscsiTarget[]) {}

  pools(node: string): Map<string, Zpool> {
    let m = this.zpools.get(node);
    if (!m) this.zpools.set(node, (m = new Map()));
    return m;
  }

  cache(node: string): Map<string, number> {
    let s = this.templates.get(node);
    if (!s) this.templates.set(node, (s = new Map()));
    return s;
  }

  targetsAt(portal: string): IscsiTarget[] {
    return this.san.filter((t) => portalHost(t.portal) === portalHost(portal));
  }

  lvsOf(vg: string): Map<string, number> {
    let m = this.lvs.get(vg);
    if (!m) this.lvs.set(vg, (m = new Map()));
    return m;
  }
}
