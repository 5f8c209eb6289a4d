// Every name and address derived from the lab: libvirt objects, bridge, IQN, VG/LV, tags, MACs, IPs,
// paths. Pure: the same lab always yields the same names, and two labs with different names never
// share one (the lab name, or a hash of it, is part of each).
import { createHash } from 'node:crypto';
import type { LabSpec } from './schema.js';
import { type Cidr, formatIp, netmask, nthHost, parseCidr, parseIp } from './ipv4.js';

/** A lab whose network.cidr has been resolved (never "auto"). */
export type Lab = Omit<LabSpec, 'network'> & { network: Omit<LabSpec['network'], 'cidr'> & { cidr: string } };

/** XML namespace of the ownership mark in libvirt <metadata>. */
export const METADATA_NS = 'https://pvelab.dev/xmlns/lab/1';
export const METADATA_PREFIX = 'pvelab';

export const gatewayIp = (lan: Cidr): number => nthHost(lan, 1);
export const nodeIp = (lan: Cidr, explicit: string | undefined, index: number): number =>
  explicit !== undefined ? (parseIp(explicit) ?? 0) : nthHost(lan, 11 + index);
export const guestIp = (lan: Cidr, explicit: string | undefined): number =>
  explicit !== undefined ? (parseIp(explicit) ?? 0) : nthHost(lan, 100);

/** Short stable hash of a string, hex. */
export function shortHash(text: string, hexChars = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}

/** Linux bridge name for a lab (≤ 15 characters, readable when the lab name is short). */
export function bridgeName(lab: string): string {
  return lab.length <= 9 ? `pvlbr-${lab}` : `pvl-${lab.slice(0, 6)}-${shortHash(lab, 4)}`;
}

function mac(prefix: string, lab: string, last: number): string {
  const h = shortHash(lab, 4);
  return `${prefix}:${h.slice(0, 2)}:${h.slice(2, 4)}:${last.toString(16).padStart(2, '0')}`;
}

export interface NodeNames {
  name: string;
  index: number;
  domain: string;
  fqdn: string;
  ip: string;
  mac: string;
  vcpus: number;
  memoryMiB: number;
  rootLv: string;
  rootImage: string;
  zfsImage: string;
  nvram: string;
  serialLog: string;
  answerIso: string;
  initiatorIqn: string;
}

export interface LabNames {
  lab: string;
  home: string;
  stateDir: string;
  imagesDir: string;
  tag: string;
  metadataNs: string;
  network: { name: string; bridge: string; cidr: string; prefix: number; gateway: string; netmask: string; dns: string; dhcpStart: string; dhcpEnd: string };
  nodes: NodeNames[];
  guest: { vmid: number; hostname: string; ip: string; mac: string; haSid: string };
  iscsi: { iqn: string; lunImage: string; portal: string; tgtConfFile: string; initiatorAcl: string };
  lvm: { vg: string; tag: string };
  pve: { clusterName: string; zfsPool: string; storageIscsi: string; storageLvm: string; storageZfs: string; haGroup: string; haRule: string };
}

/** Root of all pvelab state on this host (PVELAB_HOME overrides, for tests). */
export function pvelabHome(env: NodeJS.ProcessEnv = process.env): string {
  return env['PVELAB_HOME'] ?? '/var/lib/pvelab';
}

export function labNames(lab: Lab, home = pvelabHome()): LabNames {
  const lan = parseCidr(lab.network.cidr);
  if (!lan) throw new Error(`unresolved or invalid network.cidr ${lab.network.cidr}`);
  const stateDir = `${home}/${lab.name}`;
  // An explicit storage.dir may be shared by several labs (one big disk): each lab keeps its images
  // in a directory of its own there, so no two labs ever touch the same file.
  const imagesDir = lab.storage.dir !== undefined ? `${lab.storage.dir.replace(/\/+$/, '')}/pvelab-${lab.name}` : `${stateDir}/images`;
  const gateway = formatIp(gatewayIp(lan));
  const iqn = `iqn.2024-01.dev.pvelab:${lab.name}`;
  const tag = `pvelab_${lab.name.replace(/-/g, '_')}`;
  const nodes = lab.nodes.map((n, index): NodeNames => {
    const domain = `pvelab-${lab.name}-${n.name}`;
    return {
      name: n.name,
      index,
      domain,
      fqdn: `${n.name}.${lab.pve.domain}`,
      ip: formatIp(nodeIp(lan, n.ip, index)),
      mac: mac('52:54:00', lab.name, 0x10 + index),
      vcpus: n.vcpus ?? lab.nodeDefaults.vcpus,
      memoryMiB: n.memoryMiB ?? lab.nodeDefaults.memoryMiB,
      rootLv: `lv_${n.name.replace(/-/g, '_')}`,
      rootImage: `${imagesDir}/${n.name}-root.qcow2`,
      zfsImage: `${imagesDir}/${n.name}-zfs.qcow2`,
      nvram: `${imagesDir}/${n.name}-VARS.fd`,
      serialLog: `${stateDir}/logs/${n.name}-serial.log`,
      answerIso: `${stateDir}/answer/${n.name}-answer.iso`,
      initiatorIqn: `${iqn}.${n.name}`,
    };
  });
  return {
    lab: lab.name,
    home,
    stateDir,
    imagesDir,
    tag,
    metadataNs: METADATA_NS,
    network: {
      name: `pvelab-${lab.name}`,
      bridge: bridgeName(lab.name),
      cidr: lab.network.cidr,
      prefix: lan.prefix,
      gateway,
      netmask: netmask(lan.prefix),
      dns: lab.network.dns ?? gateway,
      dhcpStart: formatIp(nthHost(lan, 200)),
      dhcpEnd: formatIp(nthHost(lan, Math.min(250, 2 ** (32 - lan.prefix) - 2))),
    },
    nodes,
    guest: {
      vmid: lab.guest.vmid,
      hostname: lab.guest.hostname,
      ip: formatIp(guestIp(lan, lab.guest.ip)),
      mac: mac('BC:24:11', lab.name, 0x64).toUpperCase(),
      haSid: `ct:${lab.guest.vmid}`,
    },
    iscsi: {
      iqn,
      lunImage: `${imagesDir}/shared-lun.img`,
      portal: gateway,
      tgtConfFile: `/etc/tgt/conf.d/pvelab-${lab.name}.conf`,
      initiatorAcl: lab.network.cidr,
    },
    lvm: { vg: `vg_${lab.name.replace(/-/g, '_')}`, tag },
    pve: {
      clusterName: lab.name,
      zfsPool: lab.storage.zfsPool,
      storageIscsi: 'lab-san',
      storageLvm: 'lab-lvm',
      storageZfs: 'lab-zfs',
      haGroup: 'lab-ha',
      haRule: 'lab-ha',
    },
  };
}
