// What the lab's host storage should look like: targets, LUN files, images, the VG and its root LVs.
// Pure: a function of (lab, names) only, so check(), apply(), undo() and `plan` all agree, and a rerun
// finds the same objects. Every name here is derived from names.ts values; the new ones (per-node
// root targets/files, SCSI ids, CHAP user) are documented on their fields.
import type { Lab, LabNames } from '../config/names.js';
import { shortHash } from '../config/names.js';

export const ISCSI_PORT = 3260;
export const GiB = 2 ** 30;

export interface LunSpec {
  lun: number;
  /** Backing file (a sparse raw file). */
  path: string;
  sizeBytes: number;
  /** Stable SCSI identity (≤ 24 / ≤ 36 chars), so /dev/disk/by-id survives a tid change after reboot. */
  scsiId: string;
  scsiSn: string;
}

export interface TargetSpec {
  iqn: string;
  role: 'shared' | 'node-root';
  node?: string;
  luns: LunSpec[];
  /** initiator-address ACL entries (tgt ORs them with initiator-name entries; we use addresses only). */
  acl: string[];
  /** CHAP incoming user bound to the target, when storage.chap is on. */
  chapUser?: string;
}

export interface ImageSpec {
  path: string;
  sizeBytes: number;
  format: 'raw' | 'qcow2';
  role: 'lun' | 'node-lun' | 'root' | 'zfs';
  node?: string;
}

export interface RootLvSpec {
  node: string;
  name: string;
  sizeBytes: number;
}

export interface HostStorage {
  layout: Lab['storage']['layout'];
  /** Our ownership mark on targets: the IQN itself, or it followed by ":" (names.iscsi.iqn). */
  iqnBase: string;
  portal: string;
  port: number;
  chapUser?: string;
  confFileName: string;
  targets: TargetSpec[];
  /** Every file the storage steps create, LUN backing files first. */
  images: ImageSpec[];
  vg: { name: string; tag: string; rootLvs: RootLvSpec[] };
}

/** CHAP user name of a lab (our mark on tgt accounts). */
export const chapUserOf = (names: LabNames): string => `pvelab-${names.lab}`;

/** IQN of a node's own root-disk target (layout iscsi). */
export const nodeRootIqn = (names: LabNames, node: string): string => `${names.iscsi.iqn}:root-${node}`;

/** Raw backing file of a node's root LUN (layout iscsi). */
export const nodeLunImage = (names: LabNames, node: string): string => `${names.imagesDir}/${node}-root.img`;

/** True when `iqn` belongs to the lab whose base IQN is `base` (exact, or base + ":..."). */
export function isOurIqn(base: string, iqn: string): boolean {
  return iqn === base || iqn.startsWith(`${base}:`);
}

function lunSpec(iqn: string, lun: number, path: string, sizeBytes: number): LunSpec {
  const h = shortHash(`${iqn}/${lun}`, 12);
  return { lun, path, sizeBytes, scsiId: `pvelab-${h}`, scsiSn: `pvl${h}` };
}

export function hostStorage(lab: Lab, names: LabNames): HostStorage {
  const layout = lab.storage.layout;
  const chapUser = lab.storage.chap ? chapUserOf(names) : undefined;
  const portal = names.iscsi.portal;
  const rootBytes = lab.nodeDefaults.rootGiB * GiB;
  const shared: TargetSpec = {
    iqn: names.iscsi.iqn,
    role: 'shared',
    luns: [lunSpec(names.iscsi.iqn, 1, names.iscsi.lunImage, lab.storage.lunGiB * GiB)],
    // The lab subnet (PVE nodes) and the host's own lab address (host login, QEMU's initiator).
    acl: unique([names.iscsi.initiatorAcl, portal]),
    ...(chapUser ? { chapUser } : {}),
  };
  const targets: TargetSpec[] = [shared];
  const images: ImageSpec[] = [{ path: names.iscsi.lunImage, sizeBytes: lab.storage.lunGiB * GiB, format: 'raw', role: 'lun' }];
  for (const n of names.nodes) {
    if (layout === 'iscsi') {
      const iqn = nodeRootIqn(names, n.name);
      const path = nodeLunImage(names, n.name);
      // Only QEMU's initiator on the host attaches a node's root LUN; it connects from the portal address.
      targets.push({ iqn, role: 'node-root', node: n.name, luns: [lunSpec(iqn, 1, path, rootBytes)], acl: [portal], ...(chapUser ? { chapUser } : {}) });
      images.push({ path, sizeBytes: rootBytes, format: 'raw', role: 'node-lun', node: n.name });
    } else if (layout === 'qcow2') {
      images.push({ path: n.rootImage, sizeBytes: rootBytes, format: 'qcow2', role: 'root', node: n.name });
    }
  }
  for (const n of names.nodes) images.push({ path: n.zfsImage, sizeBytes: lab.nodeDefaults.zfsGiB * GiB, format: 'qcow2', role: 'zfs', node: n.name });
  const rootLvs = layout === 'lvm' ? names.nodes.map((n) => ({ node: n.name, name: n.rootLv, sizeBytes: rootBytes })) : [];
  return {
    layout,
    iqnBase: names.iscsi.iqn,
    portal,
    port: ISCSI_PORT,
    ...(chapUser ? { chapUser } : {}),
    confFileName: names.iscsi.tgtConfFile.slice(names.iscsi.tgtConfFile.lastIndexOf('/') + 1),
    targets,
    images,
    vg: { name: names.lvm.vg, tag: names.lvm.tag, rootLvs },
  };
}

/** /dev/disk/by-path name udev gives LUN `lun` of `iqn` reached through portal:port (open-iscsi). */
export function byPathName(portal: string, port: number, iqn: string, lun: number): string {
  return `ip-${portal}:${port}-iscsi-${iqn}-lun-${lun}`;
}

/** How a node's root disk is attached; what the libvirt domain XML needs. */
export type NodeRootDisk =
  | { kind: 'block'; path: string }
  | { kind: 'file'; path: string; format: 'qcow2' }
  | { kind: 'iscsi'; host: string; port: number; iqn: string; lun: number; initiatorIqn: string; chapUser?: string };

export function nodeRootDisk(lab: Lab, names: LabNames, nodeIndex: number): NodeRootDisk {
  const n = names.nodes[nodeIndex];
  if (!n) throw new RangeError(`no node #${nodeIndex}`);
  switch (lab.storage.layout) {
    case 'lvm':
      return { kind: 'block', path: `/dev/${names.lvm.vg}/${n.rootLv}` };
    case 'qcow2':
      return { kind: 'file', path: n.rootImage, format: 'qcow2' };
    case 'iscsi':
      return {
        kind: 'iscsi', host: names.iscsi.portal, port: ISCSI_PORT, iqn: nodeRootIqn(names, n.name), lun: 1, initiatorIqn: n.initiatorIqn,
        ...(lab.storage.chap ? { chapUser: chapUserOf(names) } : {}),
      };
  }
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
