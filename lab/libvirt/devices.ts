// Device-level edits on domain XML, for virDomainUpdateDeviceFlags: the NIC with a given MAC with its
// link state changed (the "isolate" fault), and a CD-ROM with new media (or none). Plus a summary of a
// domain definition for drift checks. Pure: XML text in, XML text out.
import { LabError } from '../core/errors.js';
import { child, cloneXml, elements, parseXml, path, serializeXml, setChild, textOf, type XmlElement } from './xml.js';

const sameMac = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

function devices(domainXml: string): XmlElement {
  const root = parseXml(domainXml);
  const d = child(root, 'devices');
  if (!d) throw new LabError('domain XML has no <devices> element');
  return d;
}

function findInterface(domainXml: string, mac: string): XmlElement | undefined {
  return elements(devices(domainXml), 'interface').find((i) => sameMac(child(i, 'mac')?.attrs['address'], mac));
}

function findDisk(domainXml: string, target: string): XmlElement | undefined {
  return elements(devices(domainXml), 'disk').find((d) => child(d, 'target')?.attrs['dev'] === target);
}

/** Link state of the NIC with that MAC ('up' when no <link> element), or undefined when there is none. */
export function linkState(domainXml: string, mac: string): 'up' | 'down' | undefined {
  const nic = findInterface(domainXml, mac);
  if (!nic) return undefined;
  return child(nic, 'link')?.attrs['state'] === 'down' ? 'down' : 'up';
}

/** The <interface> with that MAC, as device XML with <link state=…/> set. */
export function interfaceWithLink(domainXml: string, mac: string, state: 'up' | 'down', domain = 'the domain'): string {
  const nic = findInterface(domainXml, mac);
  if (!nic) throw new LabError(`${domain} has no network interface with MAC ${mac}`, { hint: 'check the MAC in `virsh domiflist`' });
  const edited = cloneXml(nic);
  setChild(edited, 'link', { name: 'link', attrs: { state }, children: [] });
  return serializeXml(edited);
}

/** The file in the CD-ROM at `target` (null when empty), or undefined when there is no such CD-ROM. */
export function cdromMedia(domainXml: string, target: string): string | null | undefined {
  const disk = findDisk(domainXml, target);
  if (!disk || disk.attrs['device'] !== 'cdrom') return undefined;
  return child(disk, 'source')?.attrs['file'] ?? null;
}

/** The CD-ROM at `target` as device XML holding `file` (null: ejected). */
export function cdromWithMedia(domainXml: string, target: string, file: string | null, domain = 'the domain'): string {
  const disk = findDisk(domainXml, target);
  if (!disk || disk.attrs['device'] !== 'cdrom')
    throw new LabError(`${domain} has no CD-ROM drive ${target}`, { hint: 'check the drives with `virsh domblklist --details`' });
  const edited = cloneXml(disk);
  edited.attrs['type'] = 'file';
  setChild(edited, 'source', file === null ? undefined : { name: 'source', attrs: { file }, children: [] });
  return serializeXml(edited);
}

/** What pvelab compares between a defined domain and the lab file. */
export interface DomainSummary {
  vcpus: number;
  memoryMiB: number;
  macs: string[];
  networks: string[];
  type: string;
}

const KIB_PER_UNIT: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024 };

export function summarizeDomain(domainXml: string): DomainSummary {
  const root = parseXml(domainXml);
  const mem = child(root, 'memory');
  const unit = (mem?.attrs['unit'] ?? 'KiB').toLowerCase();
  const kib = Number(textOf(mem)) * (KIB_PER_UNIT[unit] ?? 1);
  const nics = elements(path(root, 'devices') ?? root, 'interface');
  return {
    type: root.attrs['type'] ?? '',
    vcpus: Number(textOf(child(root, 'vcpu'))),
    memoryMiB: Math.round(kib / 1024),
    macs: nics.map((n) => (child(n, 'mac')?.attrs['address'] ?? '').toLowerCase()),
    networks: nics.map((n) => child(n, 'source')?.attrs['network'] ?? ''),
  };
}
