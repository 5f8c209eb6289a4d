// Every disk image of a lab, as a golden snapshot must keep them: the shared LUN (which in the lvm
// layout also holds the nodes' root LVs), per-node root LUNs (iscsi) or qcow2 roots, ZFS data disks,
// and UEFI NVRAM. Pure.
import type { Lab, LabNames } from '../config/names.js';
import { nodeLunImage } from '../storage/spec.js';

export function labDisks(lab: Lab, names: LabNames): string[] {
  return [
    names.iscsi.lunImage,
    ...names.nodes.flatMap((n) => [
      ...(lab.storage.layout === 'iscsi' ? [nodeLunImage(names, n.name)] : []),
      ...(lab.storage.layout === 'qcow2' ? [n.rootImage] : []),
      n.zfsImage,
      ...(lab.libvirt.firmware === 'uefi' ? [n.nvram] : []),
    ]),
  ];
}
