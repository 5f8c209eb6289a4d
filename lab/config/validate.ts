// Cross-field rules of the lab file that one field's schema cannot express. Pure: returns the issues,
// each naming the field and the fix; an empty list means the lab is consistent.
import type { ConfigIssue } from '../core/errors.js';
import type { LabSpec } from './schema.js';
import { broadcast, contains, formatIp, overlaps, parseCidr, parseIp } from './ipv4.js';
import { nodeIp, guestIp, gatewayIp } from './names.js';

export function validateLab(spec: LabSpec): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  const seen = new Map<string, number>();
  spec.nodes.forEach((n, i) => {
    const prev = seen.get(n.name);
    if (prev !== undefined) add(`nodes[${i}].name`, `"${n.name}" is already the name of nodes[${prev}]; node names must be unique`);
    else seen.set(n.name, i);
  });
  if (spec.nodes.some((n) => n.name === spec.guest.hostname))
    add('guest.hostname', `"${spec.guest.hostname}" is also a node name; give the guest its own name`);

  const cpu = spec.libvirt.cpu;
  if (spec.libvirt.domainType === 'qemu' && (cpu === 'host-passthrough' || cpu === 'host-model'))
    add('libvirt.cpu', `${cpu} needs libvirt.domainType "kvm"; with "qemu" (TCG) name a model, for example cpu: { model: qemu64 }`);
  if (spec.libvirt.extraDeviceXml !== undefined && !/^\s*<[\s\S]*>\s*$/.test(spec.libvirt.extraDeviceXml))
    add('libvirt.extraDeviceXml', 'must be XML elements for <devices>, for example "<rng model=\'virtio\'><backend model=\'random\'>/dev/urandom</backend></rng>"');
  if (!/^(UTC|[A-Z][A-Za-z_+-]+(\/[A-Za-z0-9_+-]+){1,2})$/.test(spec.pve.timezone))
    add('pve.timezone', `"${spec.pve.timezone}" is not a time zone name; use "UTC" or an Area/City name such as "Europe/Ljubljana"`);

  const need = spec.storage.layout === 'lvm' ? spec.nodeDefaults.rootGiB * spec.nodes.length + spec.guest.diskGiB + 4 : spec.guest.diskGiB + 4;
  if (spec.storage.lunGiB < need)
    add('storage.lunGiB', `${spec.storage.lunGiB} GiB cannot hold ${spec.storage.layout === 'lvm' ? `${spec.nodes.length} root LVs of ${spec.nodeDefaults.rootGiB} GiB, ` : ''}the guest's ${spec.guest.diskGiB} GiB and LVM metadata; set it to at least ${need}`);
  if (spec.guest.storage === 'zfs' && spec.guest.diskGiB >= spec.nodeDefaults.zfsGiB)
    add('guest.diskGiB', `a ${spec.guest.diskGiB} GiB guest does not fit the ${spec.nodeDefaults.zfsGiB} GiB ZFS data disk; lower it or raise nodeDefaults.zfsGiB`);

  issues.push(...validateAddresses(spec));
  return issues;
}

function validateAddresses(spec: LabSpec): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const checkCidr = (path: string, text: string) => {
    const c = parseCidr(text);
    if (!c) return add(path, `"${text}" is not a valid IPv4 network; write it like "10.77.0.0/24"`), null;
    if (c.prefix < 16 || c.prefix > 24) return add(path, `/${c.prefix} is outside /16../24; a lab network is normally a /24 such as "10.77.0.0/24"`), null;
    if (c.addr !== c.base) return add(path, `"${text}" has host bits set; did you mean "${formatIp(c.base)}/${c.prefix}"?`), null;
    return c;
  };
  for (const [path, ip] of [['network.dns', spec.network.dns], ['guest.ip', spec.guest.ip]] as const)
    if (ip !== undefined && parseIp(ip) === null) add(path, `"${ip}" is not a valid IPv4 address`);
  spec.nodes.forEach((n, i) => {
    if (n.ip !== undefined && parseIp(n.ip) === null) add(`nodes[${i}].ip`, `"${n.ip}" is not a valid IPv4 address`);
  });
  const storage = spec.network.storageCidr === undefined ? null : checkCidr('network.storageCidr', spec.network.storageCidr);
  if (spec.network.cidr === 'auto' || issues.length > 0) return issues;
  const lan = checkCidr('network.cidr', spec.network.cidr);
  if (!lan) return issues;
  if (storage && overlaps(lan, storage))
    add('network.storageCidr', `${spec.network.storageCidr} overlaps network.cidr ${spec.network.cidr}; pick a separate network such as "10.78.0.0/24"`);
  const gw = gatewayIp(lan);
  const taken = new Map<number, string>([[gw, 'the host (gateway)']]);
  const claim = (path: string, ip: number, what: string) => {
    if (!contains(lan, ip) || ip === lan.base || ip === broadcast(lan))
      return add(path, `${formatIp(ip)} is not a usable address in network.cidr ${spec.network.cidr}`);
    const owner = taken.get(ip);
    if (owner) return add(path, `${formatIp(ip)} is already used by ${owner}; every node and the guest need their own address`);
    taken.set(ip, what);
  };
  spec.nodes.forEach((n, i) => claim(`nodes[${i}].ip`, nodeIp(lan, n.ip, i), n.name));
  claim('guest.ip', guestIp(lan, spec.guest.ip), `the guest ${spec.guest.hostname}`);
  return issues;
}
