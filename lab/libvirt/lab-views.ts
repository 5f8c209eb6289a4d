// Pure mapping from the lab (Lab + LabNames) to the template views: the lab network and each node's
// domain. Every name, MAC, IP and path comes from config/names.ts, and the root disk from the storage
// spec (storage/spec.ts); the only values defined here are drive targets and disk serials.
import { formatIp, parseIp } from '../config/ipv4.js';
import type { Lab, LabNames } from '../config/names.js';
import { ConfigError } from '../core/errors.js';
import { nodeRootDisk } from '../storage/spec.js';
import type { CdromView, DiskView, DomainView, NetworkView } from './render.js';

/** Install: CD first and the domain stops when the installer reboots; run: disk only, reboots restart. */
export type NodePhase = 'install' | 'run';

/** Drives of every node: root disk, ZFS data disk, installer CD, answer CD. */
export const DRIVES = { root: 'vda', zfs: 'vdb', installer: 'sda', answer: 'sdb' } as const;
/** Disk serials, visible in the guest as /dev/disk/by-id/virtio-<serial>. */
export const diskSerial = (kind: 'root' | 'zfs'): string => `pvelab-${kind}`;

export interface FirmwarePaths {
  code: string;
  varsTemplate: string;
}
/** OVMF without Secure Boot, as Debian and Ubuntu ship it (package ovmf). */
export const DEBIAN_OVMF: FirmwarePaths = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd' };

/**
 * Dynamic DHCP ranges between start and end (inclusive) that leave out every address in `keepFree`
 * (gateway, reserved node IPs, the guest's IP): the span is split around them.
 */
export function dhcpRanges(start: string, end: string, keepFree: readonly string[]): { start: string; end: string }[] {
  const s = parseIp(start);
  const e = parseIp(end);
  if (s === null || e === null || s > e) return [];
  const holes = [...new Set(keepFree.map(parseIp).filter((ip): ip is number => ip !== null && ip >= s && ip <= e))].sort((a, b) => a - b);
  const out: { start: string; end: string }[] = [];
  let from = s;
  for (const h of holes) {
    if (h > from) out.push({ start: formatIp(from), end: formatIp(h - 1) });
    from = h + 1;
  }
  if (from <= e) out.push({ start: formatIp(from), end: formatIp(e) });
  return out;
}

export function labNetworkView(lab: Lab, names: LabNames, forward: NetworkView['forward'] = 'nat'): NetworkView {
  const n = names.network;
  const keepFree = [n.gateway, names.guest.ip, ...names.nodes.map((x) => x.ip)];
  return {
    name: n.name,
    mark: { ns: names.metadataNs, lab: lab.name },
    forward,
    bridge: n.bridge,
    gateway: n.gateway,
    netmask: n.netmask,
    dnsDomain: lab.pve.domain,
    ranges: dhcpRanges(n.dhcpStart, n.dhcpEnd, keepFree),
    hosts: names.nodes.map((x) => ({ mac: x.mac, ip: x.ip, name: x.name })),
  };
}

export interface NodeDomainOptions {
  phase: NodePhase;
  /** The prepared installer ISO; undefined leaves the drive empty. */
  installerIso?: string | undefined;
  /** The node's answer medium (default names.nodes[i].answerIso); null leaves the drive empty. */
  answerIso?: string | null | undefined;
  firmware?: FirmwarePaths | undefined;
  /** Direct kernel boot: only for the TCG test guest and the Proxmox stand-in, never for real nodes. */
  kernelBoot?: DomainView['kernelBoot'];
}

/** The root disk as the storage engineer's spec attaches it (storage/spec.ts nodeRootDisk). */
function rootDisk(lab: Lab, names: LabNames, index: number): DiskView {
  const base = { target: DRIVES.root, serial: diskSerial('root') };
  const d = nodeRootDisk(lab, names, index);
  switch (d.kind) {
    case 'block':
      return { ...base, kind: 'block', dev: d.path };
    case 'file':
      return { ...base, kind: 'file', file: d.path, format: d.format };
    case 'iscsi':
      if (d.chapUser !== undefined)
        throw new ConfigError([{ path: 'storage.chap', message: 'CHAP is not supported with storage.layout "iscsi" yet (QEMU would need a libvirt secret); use layout "lvm" or "qcow2", or set chap: false' }]);
      return { ...base, kind: 'iscsi', iqn: d.iqn, lun: d.lun, host: d.host, port: d.port, initiatorIqn: d.initiatorIqn };
  }
}

export function nodeDomainView(lab: Lab, names: LabNames, index: number, opts: NodeDomainOptions): DomainView {
  const node = names.nodes[index];
  if (!node) throw new RangeError(`no node with index ${index}`);
  const install = opts.phase === 'install';
  const root = { ...rootDisk(lab, names, index), bootOrder: install ? 2 : 1 };
  const zfs: DiskView = { kind: 'file', file: node.zfsImage, format: 'qcow2', target: DRIVES.zfs, serial: diskSerial('zfs') };
  const answer = opts.answerIso === undefined ? node.answerIso : opts.answerIso ?? undefined;
  const cdroms: CdromView[] = [
    { target: DRIVES.installer, file: install ? opts.installerIso : undefined, bootOrder: install ? 1 : undefined },
    { target: DRIVES.answer, file: install ? answer : undefined },
  ];
  const cpu = lab.libvirt.cpu;
  const fw = opts.firmware ?? DEBIAN_OVMF;
  return {
    type: lab.libvirt.domainType,
    name: node.domain,
    title: `pvelab ${lab.name}: ${node.fqdn}`,
    mark: { ns: names.metadataNs, lab: lab.name, node: node.name },
    vcpus: node.vcpus,
    memoryMiB: node.memoryMiB,
    cpu: typeof cpu === 'string' ? { mode: cpu } : { mode: 'custom', model: cpu.model },
    machine: 'q35',
    firmware: lab.libvirt.firmware === 'uefi' ? { kind: 'uefi', code: fw.code, varsTemplate: fw.varsTemplate, nvram: node.nvram } : { kind: 'bios' },
    kernelBoot: opts.kernelBoot,
    disks: [root, zfs],
    cdroms,
    nic: { network: names.network.name, mac: node.mac, linkUp: true },
    serialLog: node.serialLog,
    graphics: lab.libvirt.graphics,
    watchdog: lab.libvirt.watchdog,
    onPoweroff: 'destroy',
    onReboot: install ? 'destroy' : 'restart',
    onCrash: 'destroy',
    extraDeviceXml: nodeExtraDeviceXml(lab.libvirt.extraDeviceXml, node.name, node.domain),
  };
}


/** The lab file's extra device XML for one node: "{node}" and "{domain}" stand for its names. */
export function nodeExtraDeviceXml(xml: string | undefined, node: string, domain: string): string | undefined {
  return xml?.replaceAll('{node}', node).replaceAll('{domain}', domain);
}
