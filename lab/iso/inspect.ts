// Read-only looks into an ISO with xorriso (-indev never writes): a file's content, the release in
// /.cd-info (shell-style KEY='value' lines: PRODUCT, PRODUCTLONG, RELEASE, ISORELEASE, ISONAME),
// the /auto-installer-capable marker (stock PVE ISOs ≥ 8.2 carry it, zero bytes) and the volume
// "UUID" (the `-volume_date uuid '…'` line of `-report_system_area cmd`, 16 digits), which a prepared
// ISO must keep (proxmox.md A.2).
import { LabError } from '../core/errors.js';
import type { Runner } from '../exec/runner.js';
import { type IsoRelease, parseRelease } from './release.js';

/** Content of one file in the ISO, or undefined when the ISO has no such file. */
export async function readIsoFile(host: Runner, iso: string, path: string): Promise<string | undefined> {
  const r = await host.run(['xorriso', '-osirrox', 'on', '-indev', iso, '-concat', 'append', '-', path], { allowExit: [5, 32] });
  if (r.exitCode === 0) return r.stdout;
  if (/Cannot find path/i.test(r.stderr) && !notAnIso(r.stderr)) return undefined;
  throw new LabError(`cannot read ${iso} as an ISO image: ${lastXorrisoProblem(r.stderr)}`, {
    hint: 'check that the file is a complete ISO image (a partial download is not)',
  });
}

/** xorriso loads a missing or non-ISO file as a blank image instead of failing: detect that. */
function notAnIso(stderr: string): boolean {
  return /No ISO 9660 image|Media status : is blank/.test(stderr);
}

function lastXorrisoProblem(stderr: string): string {
  if (notAnIso(stderr)) return 'the file is missing or holds no ISO 9660 image';
  const lines = stderr.split('\n').filter((l) => /FAILURE|SORRY|FATAL/.test(l));
  return (lines[0] ?? stderr.trim().split('\n').pop() ?? 'unknown error').replace(/^xorriso : /, '');
}

export interface CdInfo {
  product: string;
  productLong?: string | undefined;
  release: IsoRelease;
  isoName?: string | undefined;
}

/** Parses /.cd-info text the way the installer does (KEY='value', keys case-insensitive). */
export function parseCdInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+?)=['"]?(.+?)['"]?$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1].toLowerCase()] = m[2];
  }
  return out;
}

/** The product and release of an ISO from its /.cd-info; refuses a non-PVE or unreadable one. */
export async function readCdInfo(host: Runner, iso: string): Promise<CdInfo> {
  const text = await readIsoFile(host, iso, '/.cd-info');
  if (text === undefined)
    throw new LabError(`${iso} is not a Proxmox VE installer ISO (it has no /.cd-info)`, { hint: 'use an ISO from the Proxmox VE download page' });
  const kv = parseCdInfo(text);
  const release = parseRelease(`${kv['release'] ?? ''}-${kv['isorelease'] ?? ''}`);
  if (kv['product'] !== 'pve' || !release)
    throw new LabError(`${iso} is not a Proxmox VE installer ISO (/.cd-info says product "${kv['product'] ?? '?'}", release "${kv['release'] ?? '?'}-${kv['isorelease'] ?? '?'}")`, {
      hint: 'Backup Server and Mail Gateway ISOs cannot build this lab; use a Proxmox VE ISO',
    });
  return { product: kv['product'], productLong: kv['productlong'], release, isoName: kv['isoname'] };
}

/** True when the ISO carries /auto-installer-capable. */
export async function isAutoInstallCapable(host: Runner, iso: string): Promise<boolean> {
  const r = await host.run(['xorriso', '-indev', iso, '-find', '/auto-installer-capable'], { allowExit: [5, 32] });
  if (r.exitCode === 0) return true;
  if (/Cannot find path/i.test(r.stderr) && !notAnIso(r.stderr)) return false;
  throw new LabError(`cannot read ${iso} as an ISO image: ${lastXorrisoProblem(r.stderr)}`);
}

/** Refuses an ISO without /auto-installer-capable, with the fix. */
export async function assertAutoInstallCapable(host: Runner, iso: string): Promise<void> {
  if (!(await isAutoInstallCapable(host, iso)))
    throw new LabError(`${iso} cannot be installed automatically: it has no /auto-installer-capable file`, {
      hint: 'Proxmox VE ISOs support unattended installation from 8.2 on; use release "latest-9", "latest-8" or an ISO of 8.2 or newer',
    });
}

/** The volume "UUID" (creation timestamp, 16 digits) from `-report_system_area cmd`. */
export async function volumeUuid(host: Runner, iso: string): Promise<string> {
  const r = await host.run(['xorriso', '-indev', iso, '-report_system_area', 'cmd'], { allowExit: [5, 32] });
  const line = r.stdout.split('\n').find((l) => l.startsWith('-volume_date uuid'));
  const uuid = line?.trim().split(/\s+/).pop()?.replace(/'/g, '');
  if (r.exitCode !== 0 || !uuid || !/^\d{16}$/.test(uuid))
    throw new LabError(`cannot read the volume UUID of ${iso}${r.exitCode !== 0 ? `: ${lastXorrisoProblem(r.stderr)}` : ''}`);
  return uuid;
}

/** The ISO 9660 volume id (label) from the primary volume descriptor. */
export async function volumeId(host: Runner, iso: string): Promise<string> {
  const r = await host.run(['xorriso', '-indev', iso, '-pvd_info'], { allowExit: [5, 32] });
  if (r.exitCode !== 0 || notAnIso(r.stderr)) throw new LabError(`cannot read ${iso} as an ISO image: ${lastXorrisoProblem(r.stderr)}`);
  return /^Volume Id\s*:\s*(.*)$/m.exec(r.stdout)?.[1]?.trim() ?? '';
}
