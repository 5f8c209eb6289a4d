// answer.toml for one node, in the key style of the ISO's release (release.ts): kebab-case with
// `reboot-mode = "power-off"` for ≥ 8.4; snake_case for 8.2/8.3 (the libvirt domain then needs
// <on_reboot>destroy</on_reboot>, see needsOnRebootDestroy). Static network pinned to the node's MAC,
// root disk chosen by name. Every rendered file is checked with assertAnswer() before it is returned.
import type { Lab, LabNames, NodeNames } from '../config/names.js';
import { assertAnswer, type CheckOptions } from './answer-rules.js';
import { type IsoRelease, installerProfile } from './release.js';
import type { TomlTable } from './toml.js';
import { stringifyToml } from './toml-write.js';

/** Device name of a node's root disk as the installer sees it: the first virtio-blk disk. */
export const ROOT_DISK = 'vda';

export interface NodeAnswerInput {
  release: IsoRelease;
  fqdn: string;
  keyboard: string;
  country: string;
  timezone: string;
  mailto: string;
  /** The hash is used when the release understands it (≥ 8.3); 8.2 needs the plain password. */
  password: { plain: string; hashed?: string | undefined };
  sshKeys: string[];
  network: { cidr: string; dns: string; gateway: string; mac: string };
  filesystem: 'ext4' | 'xfs' | 'zfs';
  disks: string[];
}

/** udev ID_NET_NAME_MAC glob for a MAC: "*" + the MAC without colons, lower case. */
export function macFilter(mac: string): string {
  return `*${mac.replace(/:/g, '').toLowerCase()}`;
}

/** The answer for one node of the lab. `secrets.rootPasswordHash` must be set for ≥ 8.3 releases. */
export function nodeAnswerInput(
  lab: Lab,
  names: LabNames,
  node: NodeNames,
  rel: IsoRelease,
  secrets: { rootPassword: string; rootPasswordHash?: string | undefined },
  sshPublicKey: string,
): NodeAnswerInput {
  return {
    release: rel,
    fqdn: node.fqdn,
    keyboard: lab.pve.keyboard,
    country: lab.pve.country,
    timezone: lab.pve.timezone,
    mailto: lab.pve.mailto,
    password: { plain: secrets.rootPassword, hashed: secrets.rootPasswordHash },
    sshKeys: sshPublicKey.trim() ? [sshPublicKey.trim()] : [],
    network: { cidr: `${node.ip}/${names.network.prefix}`, dns: names.network.dns, gateway: names.network.gateway, mac: node.mac },
    filesystem: lab.pve.filesystem,
    disks: [ROOT_DISK],
  };
}

/** Renames the keys of [global] and [disk-setup] (not udev filter keys) to snake_case. */
function snakeKeys(t: TomlTable, inFilter = false): TomlTable {
  const out: TomlTable = {};
  for (const [k, v] of Object.entries(t)) {
    const key = inFilter ? k : k.replace(/-/g, '_');
    out[key] = typeof v === 'object' && !Array.isArray(v) ? snakeKeys(v, inFilter || k === 'filter') : v;
  }
  return out;
}

/** The answer document in the release's key style (not yet checked). */
export function answerDoc(a: NodeAnswerInput): TomlTable {
  const p = installerProfile(a.release);
  if (!p.supported) throw new Error(`Proxmox VE ${a.release.id} has no automated installer (8.2 or newer is needed)`);
  const global: TomlTable = {
    keyboard: a.keyboard,
    country: a.country,
    fqdn: a.fqdn,
    mailto: a.mailto,
    timezone: a.timezone,
  };
  if (p.hashedPassword) {
    if (!a.password.hashed) throw new Error(`Proxmox VE ${a.release.id} answer files need the hashed root password`);
    global['root-password-hashed'] = a.password.hashed;
  } else global['root-password'] = a.password.plain;
  global['root-ssh-keys'] = a.sshKeys;
  if (p.powerOffAfterInstall) global['reboot-mode'] = 'power-off';
  const network: TomlTable = {
    source: 'from-answer',
    cidr: a.network.cidr,
    dns: a.network.dns,
    gateway: a.network.gateway,
    filter: { ID_NET_NAME_MAC: macFilter(a.network.mac) },
  };
  const disk: TomlTable = { filesystem: a.filesystem, 'disk-list': a.disks };
  if (a.filesystem === 'zfs') disk['zfs'] = { raid: 'raid0' };
  if (p.keyStyle === 'kebab') return { global, network, 'disk-setup': disk };
  return { global: snakeKeys(global), network, 'disk-setup': snakeKeys(disk) };
}

/** Renders and checks a node's answer.toml; throws InternalError if it breaks the release's rules. */
export function renderAnswer(a: NodeAnswerInput, opts: CheckOptions = {}): string {
  const text = `# pvelab answer file for ${a.fqdn} (Proxmox VE ${a.release.id})\n${stringifyToml(answerDoc(a))}`;
  assertAnswer(text, a.release, `the answer file for ${a.fqdn}`, opts);
  return text;
}
