// Proxmox VE ISO releases ("8.4-1" = RELEASE 8.4, ISORELEASE 1) and what each one's automated
// installer accepts. Facts (pve-installer git history, see proxmox.md A.2/A.3):
//   8.2-x ISOs (installer ≤ 8.2.6): snake_case keys, plain `root_password` only (no hashed form),
//          auto-installer-mode.toml without `partition_label` (its reader denies unknown fields);
//   8.3-x: snake_case keys, `root_password_hashed`, first-boot hook, `partition_label` in the mode file;
//   8.4-x and later: kebab-case keys (snake_case still accepted, deprecated), `reboot-mode`;
//   9.1+: network interface-name pinning; 9.2+: subscription-key, webhook auth-token.

export interface IsoRelease {
  /** "8.4-1" */
  id: string;
  /** RELEASE in /.cd-info, "8.4" */
  version: string;
  major: number;
  minor: number;
  /** ISORELEASE in /.cd-info */
  isoRelease: number;
}

export function parseRelease(text: string): IsoRelease | undefined {
  const m = /^(\d+)\.(\d+)-(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const isoRelease = Number(m[3]);
  return { id: `${major}.${minor}-${isoRelease}`, version: `${major}.${minor}`, major, minor, isoRelease };
}

/** Like parseRelease but throws (for literals and values already validated by the schema). */
export function release(text: string): IsoRelease {
  const r = parseRelease(text);
  if (!r) throw new Error(`not a Proxmox VE ISO release: "${text}" (expected e.g. "8.4-1")`);
  return r;
}

/** Orders releases: major, then minor, then ISO release. */
export function compareRelease(a: IsoRelease, b: IsoRelease): number {
  return a.major - b.major || a.minor - b.minor || a.isoRelease - b.isoRelease;
}

/** True when `r` is at least major.minor (any ISO release). */
export function atLeast(r: IsoRelease, major: number, minor: number): boolean {
  return r.major > major || (r.major === major && r.minor >= minor);
}

/** The ISO file name Proxmox publishes for a release. */
export function isoFileName(r: IsoRelease): string {
  return `proxmox-ve_${r.id}.iso`;
}

/** Parses "proxmox-ve_8.4-1.iso" back to its release. */
export function releaseOfFileName(name: string): IsoRelease | undefined {
  const m = /^proxmox-ve_(\d+\.\d+-\d+)\.iso$/.exec(name);
  return m?.[1] ? parseRelease(m[1]) : undefined;
}

export type KeyStyle = 'kebab' | 'snake';

/** What the answer file and the prepared ISO must look like for one release. */
export interface InstallerProfile {
  keyStyle: KeyStyle;
  /** `reboot-mode = "power-off"` is understood (≥ 8.4); otherwise the domain needs <on_reboot>destroy. */
  powerOffAfterInstall: boolean;
  /** `root-password-hashed` is understood (≥ 8.3); 8.2 needs the plain password. */
  hashedPassword: boolean;
  /** The mode file may carry `partition_label` (≥ 8.3). */
  modeFilePartitionLabel: boolean;
  supported: boolean;
}

export function installerProfile(r: IsoRelease): InstallerProfile {
  return {
    keyStyle: atLeast(r, 8, 4) ? 'kebab' : 'snake',
    powerOffAfterInstall: atLeast(r, 8, 4),
    hashedPassword: atLeast(r, 8, 3),
    modeFilePartitionLabel: atLeast(r, 8, 3),
    supported: atLeast(r, 8, 2),
  };
}

/** True when the libvirt domain must use <on_reboot>destroy</on_reboot> to stop after the install. */
export function needsOnRebootDestroy(r: IsoRelease): boolean {
  return !installerProfile(r).powerOffAfterInstall;
}
