// THE pipeline: the literal, ordered list of steps that `up` applies and `down` undoes in reverse.
// One line per step (or per group); the order is the build order: each step relies on those above it.
import { labNames, type Lab } from '../config/names.js';
import type { Step } from '../core/step.js';
import { answerMediaStep, passwordHashStep } from './answer.js';
import { domainsStep } from './domains.js';
import { identityStep } from './identity.js';
import { installStep } from './install.js';
import { isoFetchStep, isoPrepareStep } from './iso.js';
import { keysStep } from './keys.js';
import { networkStep } from './network.js';
import { preflightStep } from './preflight.js';
import { pveSteps } from './pve-index.js';
import { snapshotsStep } from './snapshots.js';
import { storageSteps } from './storage-steps.js';

export function labSteps(lab: Lab, names = labNames(lab)): Step[] {
  return [
    preflightStep, // pvelab doctor as a gate: nothing is created on a host that is not ready
    identityStep, // record the lab file; refuse a changed one over an existing lab; undo removes the state dir
    keysStep, // the lab's SSH key and generated secrets
    isoFetchStep, // the Proxmox VE ISO: resolved, downloaded with resume, SHA-256 verified, cached (or --iso)
    isoPrepareStep, // the prepared ISO: auto-installer-mode.toml (partition mode), boot images and UUID kept
    passwordHashStep, // root password hash for the answer files
    answerMediaStep, // one PROXMOX-AIS answer ISO per node
    networkStep, // the lab's libvirt NAT network: bridge, DHCP reservations, our mark
    ...storageSteps(lab), // LUN file, tgt target (ACL = lab), node root disks per layout, ZFS disks
    snapshotsStep, // golden snapshots beside the disks: nothing to build; down removes them
    domainsStep(), // the node VMs, defined for installation
    installStep(), // Proxmox VE on every node in parallel: installer until power-off, then boot from disk, SSH up, host key pinned
    ...pveSteps(lab, names), // over SSH: node prep, cluster create/join/quorum, iSCSI + shared LVM + ZFS storage, Apache CT, HA, serving
  ];
}
