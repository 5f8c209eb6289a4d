// Per-release facts the stand-in answers with (8.2 .. 9.2, the releases part 1 builds).
// Formats and feature switches are sourced (proxmox.md C-G; pve-ha-manager/pve-storage git history);
// the package version numbers below are MODELLED: plausible for each point release, not read from a
// real node (pveversion output format: pve-manager bin/pveversion, PVE/API2/APT.pm `versions`).

export interface Release {
  release: string; // "9.2"
  major: 8 | 9;
  manager: string; // pve-manager version
  repoid: string; // 16 hex (PVE/Makefile `git rev-parse --short=16`)
  kernel: string; // uname -r
  proxmoxVe: string;
  haManager: string;
  storage: string;
  packages: Array<[string, string]>; // other `pveversion -v` lines, already sorted
  /** pve-ha-manager >= 5.0.2: HA groups migrated to rules (API2/HA/Groups.pm:118). */
  haRules: boolean;
  /** pve-ha-manager 5.1.3 (2d143ac, 2026-03): 'fencing' status entry + watchdog text in lrm lines. */
  haFencingStatus: boolean;
  /** libpve-storage-perl >= 9.0.14 (10e47fc): `pvesm status` headers carry "(KiB)". */
  pvesmKiB: boolean;
  /** systemd >= 255 (systemd PR 29134): short-iso offset "+00:00" instead of "+0000". */
  isoColon: boolean;
  /** APLInfo index name: aplinfo-pve-<major>.dat (PVE/APLInfo.pm). */
  aplinfo: string;
}

type Row = [string, string, string, string, string, string, string];
// release, pve-manager, kernel, proxmox-ve, ha-manager, storage, repoid
const ROWS: Row[] = [
  ['8.2', '8.2.4', '6.8.8-2-pve', '8.2.0', '4.0.5', '8.2.3', 'faa83925c9641325'],
  ['8.3', '8.3.0', '6.8.12-4-pve', '8.3.0', '4.0.6', '8.2.9', 'c1689ccb1065a83b'],
  ['8.4', '8.4.1', '6.8.12-9-pve', '8.4.0', '4.0.7', '8.3.6', '2a5fa54a8503f96d'],
  ['9.0', '9.0.3', '6.14.8-2-pve', '9.0.0', '5.0.4', '9.0.11', '025864202ebb6109'],
  ['9.1', '9.1.1', '6.17.2-1-pve', '9.1.0', '5.0.8', '9.1.0', '42db4a6cf33dac83'],
  ['9.2', '9.2.0', '6.17.9-1-pve', '9.2.0', '5.2.0', '9.1.7', '8d1f0b6e4c2a9e57'],
];

function cmpVersion(a: string, b: string): number {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export const RELEASES: readonly string[] = ROWS.map((r) => r[0]);

export function release(rel: string): Release {
  const m = /^(\d+\.\d+)/.exec(rel);
  const row = ROWS.find((r) => r[0] === m?.[1]);
  if (!row) throw new Error(`stand-in: unsupported release '${rel}' (${RELEASES.join(', ')})`);
  const [r, manager, kernel, proxmoxVe, haManager, storage, repoid] = row;
  const major = Number(r.split('.')[0]) as 8 | 9;
  const kmajmin = kernel.split('-')[0]!.split('.').slice(0, 2).join('.');
  const packages: Array<[string, string]> = [
    [`proxmox-kernel-${kmajmin}`, `${kernel.replace(/-pve$/, '')}`],
    ['corosync', major === 8 ? '3.1.7-pve3' : '3.1.9-pve2'],
    ['libpve-cluster-perl', major === 8 ? '8.1.0' : '9.1.6'],
    ['libpve-common-perl', major === 8 ? '8.3.1' : '9.2.1'],
    ['libpve-guest-common-perl', major === 8 ? '5.2.2' : '6.0.2'],
    ['libpve-storage-perl', storage],
    ['lxc-pve', major === 8 ? '6.0.0-1' : '6.0.5-1'],
    ['pve-cluster', major === 8 ? '8.1.0' : '9.1.6'],
    ['pve-container', major === 8 ? '5.2.6' : '6.0.18'],
    ['pve-ha-manager', haManager],
    ['qemu-server', major === 8 ? '8.3.12' : '9.1.2'],
    ['zfsutils-linux', major === 8 ? '2.2.7-pve2' : '2.3.4-pve1'],
  ];
  return {
    release: r,
    major,
    manager,
    repoid,
    kernel,
    proxmoxVe,
    haManager,
    storage,
    packages,
    haRules: cmpVersion(haManager, '5.0.2') >= 0,
    haFencingStatus: cmpVersion(haManager, '5.1.3') >= 0,
    pvesmKiB: cmpVersion(storage, '9.0.14') >= 0,
    isoColon: major >= 9,
    aplinfo: `aplinfo-pve-${major}.dat`,
  };
}
