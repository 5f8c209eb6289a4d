// The Proxmox part of the pipeline, in build order (each step relies on the ones above it). It starts
// once every node is installed and answers SSH with the lab key; it ends with a serving HA guest.
import type { Lab, LabNames } from '../config/names.js';
import type { Step } from '../core/step.js';
import { clusterSteps } from './pve-cluster.js';
import { guestCacheStep } from './pve-guest-cache.js';
import { guestApacheStep, guestCreateStep, guestTemplateStep } from './pve-guest.js';
import { haResourceStep, haServingStep, replicationStep } from './pve-ha.js';
import { nodePrepStep } from './pve-node-prep.js';
import { storageIscsiStep, storageLvmStep, storageZfsStep, zfsPoolsStep } from './pve-storage.js';

export function pveSteps(lab: Lab, names: LabNames): Step[] {
  return [
    ...names.nodes.map(nodePrepStep), // host name, /etc/hosts, release, repositories, open-iscsi (per node)
    ...clusterSteps(names.nodes), // create on the first node, join the others one by one, wait for quorum
    storageIscsiStep, // the host's LUN, content none; logged in on every node
    storageLvmStep, // shared LVM on the lab VG of that LUN
    zfsPoolsStep, // one pool per node on its data disk, same name everywhere
    storageZfsStep, // zfspool storage over those pools
    guestTemplateStep, // newest template (online) or the cached Apache template (offline)
    guestCreateStep, // container with the lab's static IP and MAC
    guestApacheStep, // Apache + the page naming the guest
    guestCacheStep, // online: keep an Apache template on the host for offline classes
    haResourceStep, // HA resource + group (PVE 8) or node-affinity rule (PVE 9)
    ...(lab.guest.storage === 'zfs' ? [replicationStep] : []), // ZFS guests need replication for HA
    haServingStep, // HA says started and the page answers over HTTP
  ];
}
