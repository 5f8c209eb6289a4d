// The answer.toml key table per Proxmox VE release, written from the facts in proxmox.md A.3 and
// pve-installer's history (every table denies unknown keys, so a key the release does not know is fatal):
// - keys are listed by their kebab-case name; `snake` = before 8.4 the key was spelled snake_case
//   (the only accepted form), and 8.4+ still accepts that spelling as a deprecated alias;
// - section names (disk-setup, first-boot, post-installation-webhook) and enum values are always kebab;
// - `since` = the first PVE major.minor whose ISO installer accepts the key.
import { KEYBOARDS } from '../config/schema.js';

export type Kind = 'string' | 'bool' | 'uint' | 'float' | 'strings' | 'map' | 'table' | 'fqdn';

export interface FieldSpec {
  kind: Kind;
  since?: readonly [number, number];
  /** snake_case before 8.4, alias afterwards (see header). */
  snake?: boolean;
  /** 8.4+ accepts the snake_case alias although the key was kebab-case before (first-boot.cert-fingerprint). */
  aliasOnly?: boolean;
  enum?: readonly string[];
  /** Enum values are matched case-insensitively from this release on. */
  enumCaseInsensitiveSince?: readonly [number, number];
  fields?: Readonly<Record<string, FieldSpec>>;
}

const str: FieldSpec = { kind: 'string' };
const float: FieldSpec = { kind: 'float' };
const RAID_ZFS = ['raid0', 'raid1', 'raid10', 'raidz-1', 'raidz-2', 'raidz-3'] as const;
const RAID_BTRFS = ['raid0', 'raid1', 'raid10'] as const;

export const ANSWER_SCHEMA: Readonly<Record<string, FieldSpec>> = {
  global: {
    kind: 'table',
    fields: {
      country: str,
      fqdn: { kind: 'fqdn' },
      keyboard: { kind: 'string', enum: KEYBOARDS },
      mailto: str,
      timezone: str,
      'root-password': { kind: 'string', snake: true },
      'root-password-hashed': { kind: 'string', snake: true, since: [8, 3] },
      'reboot-on-error': { kind: 'bool', snake: true },
      'reboot-mode': { kind: 'string', snake: true, since: [8, 4], enum: ['reboot', 'power-off'] },
      'root-ssh-keys': { kind: 'strings', snake: true },
      'subscription-key': { kind: 'string', since: [9, 2] },
    },
  },
  network: {
    kind: 'table',
    fields: {
      source: { kind: 'string', enum: ['from-dhcp', 'from-answer'] },
      cidr: str,
      dns: str,
      gateway: str,
      filter: { kind: 'map' },
      'interface-name-pinning': {
        kind: 'table',
        since: [9, 1],
        fields: { enabled: { kind: 'bool' }, mapping: { kind: 'map' } },
      },
    },
  },
  'disk-setup': {
    kind: 'table',
    fields: {
      filesystem: { kind: 'string', enum: ['ext4', 'xfs', 'zfs', 'btrfs'] },
      'disk-list': { kind: 'strings', snake: true },
      filter: { kind: 'map' },
      'filter-match': { kind: 'string', snake: true, enum: ['any', 'all'] },
      zfs: {
        kind: 'table',
        fields: {
          raid: { kind: 'string', enum: RAID_ZFS, enumCaseInsensitiveSince: [8, 4] },
          ashift: { kind: 'uint' },
          'arc-max': { kind: 'uint', snake: true },
          checksum: { kind: 'string', enum: ['on', 'fletcher4', 'sha256'] },
          compress: { kind: 'string', enum: ['on', 'off', 'lzjb', 'lz4', 'zle', 'gzip', 'zstd'] },
          copies: { kind: 'uint' },
          hdsize: float,
        },
      },
      lvm: {
        kind: 'table',
        fields: { hdsize: float, swapsize: float, maxroot: float, maxvz: float, minfree: float },
      },
      btrfs: {
        kind: 'table',
        fields: {
          hdsize: float,
          raid: { kind: 'string', enum: RAID_BTRFS, enumCaseInsensitiveSince: [8, 4] },
          compress: { kind: 'string', since: [8, 3], enum: ['on', 'off', 'zlib', 'lzo', 'zstd'] },
        },
      },
    },
  },
  'post-installation-webhook': {
    kind: 'table',
    since: [8, 3],
    fields: {
      url: str,
      'cert-fingerprint': { kind: 'string', snake: true },
      'auth-token': { kind: 'string', since: [9, 2] },
    },
  },
  'first-boot': {
    kind: 'table',
    since: [8, 3],
    fields: {
      source: { kind: 'string', enum: ['from-url', 'from-iso'] },
      ordering: { kind: 'string', enum: ['before-network', 'network-online', 'fully-up'] },
      url: str,
      'cert-fingerprint': { kind: 'string', aliasOnly: true },
    },
  },
};

/** Sections whose presence is required. */
export const REQUIRED_SECTIONS = ['global', 'network', 'disk-setup'] as const;

/** Minimum disk count per RAID level (installer's get_min_disks). */
export const MIN_DISKS: Readonly<Record<string, number>> = {
  raid0: 1,
  raid1: 2,
  raid10: 4,
  'raidz-1': 3,
  'raidz-2': 4,
  'raidz-3': 5,
};

export const snakeOf = (kebab: string): string => kebab.replace(/-/g, '_');
