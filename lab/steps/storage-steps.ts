// The host-storage part of the pipeline, in build order, for the lab's storage.layout. `down` walks the
// whole pipeline backwards, so undo order is the reverse: LVs, VG, logout, targets, files.
//   lvm   (seed): LUN file → target → host login → VG → root LVs → ZFS images
//   qcow2:        LUN file → target → qcow2 root images → ZFS images      (no host dm, no host login)
//   iscsi:        LUN files (shared + one per node) → targets → ZFS images (QEMU attaches the LUNs)
// Put after the network step: the portal is the lab bridge's address.
import type { Lab } from '../config/names.js';
import type { Step } from '../core/step.js';
import { lunFilesStep, rootImagesStep, zfsImagesStep } from './storage-files.js';
import { hostLoginStep } from './storage-login.js';
import { rootLvsStep } from './storage-lvs.js';
import { storagePreflightStep } from './storage-preflight.js';
import { targetStep } from './storage-target.js';
import { vgStep } from './storage-vg.js';

export function storageSteps(lab: Lab): Step[] {
  const roots: Step[] = lab.storage.layout === 'lvm' ? [hostLoginStep, vgStep, rootLvsStep] : lab.storage.layout === 'qcow2' ? [rootImagesStep] : [];
  return [storagePreflightStep, lunFilesStep, targetStep, ...roots, zfsImagesStep];
}
