// Proxmox VE release of a node, from `pveversion`:
//   pve-manager/<version>/<repoid> (running kernel: <uname -r>)   (pve-manager bin/pveversion)
// The major version decides behaviour: 8 → HA groups; 9 → HA node-affinity rules, deb822 apt sources.
import { LabError } from '../core/errors.js';
import type { Runner } from '../exec/runner.js';

export interface PveVersion {
  major: number;
  minor: number;
  /** e.g. "8.2.4" */
  full: string;
  repoid?: string;
  kernel?: string;
}

export function parsePveversion(text: string): PveVersion {
  const line = text.split('\n').find((l) => l.startsWith('pve-manager/'));
  const m = line && /^pve-manager\/((\d+)\.(\d+)(?:[.\-~][\w.~+-]*)?)(?:\/([0-9a-f]+))?(?:\s+\(running kernel: ([^)]+)\))?/.exec(line);
  if (!m) throw new LabError(`cannot read the Proxmox VE version from \`pveversion\`: ${JSON.stringify(text.trim().slice(0, 120))}`, { hint: 'is this node running Proxmox VE?' });
  const v: PveVersion = { major: Number(m[2]), minor: Number(m[3]), full: m[1]! };
  if (m[4]) v.repoid = m[4];
  if (m[5]) v.kernel = m[5];
  return v;
}

export const PVEVERSION_ARGV = ['pveversion'] as const;

/** Runs `pveversion` on the node. */
export async function readPveVersion(runner: Runner): Promise<PveVersion> {
  return parsePveversion((await runner.run(PVEVERSION_ARGV)).stdout);
}

/** Debian codename of a PVE major (apt sources). */
export function debianSuite(major: number): string {
  if (major === 8) return 'bookworm';
  if (major === 9) return 'trixie';
  throw new LabError(`Proxmox VE ${major} is not supported (only 8 and 9)`);
}
