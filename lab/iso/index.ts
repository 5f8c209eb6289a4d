// The mirror's ISO directory: its HTML listing and its cumulative SHA256SUMS (proxmox.md B:
// `<sha256>  <filename>` lines, sha256sum format, also listing Backup Server / Mail Gateway ISOs).
// resolveIso() turns "latest-9" / "latest-8" / "8.4-1" into one file, URL and expected hash.
// A release must be in SHA256SUMS (no hash, no download); when the listing could be read it must
// also be there (SHA256SUMS is cumulative and may name ISOs the mirror no longer serves).
import { LabError } from '../core/errors.js';
import { compareRelease, type IsoRelease, isoFileName, parseRelease, releaseOfFileName } from './release.js';

export interface ResolvedIso {
  release: IsoRelease;
  file: string;
  url: string;
  sha256: string;
}

/** Ensures the mirror URL names a directory (trailing slash). */
export function mirrorBase(mirror: string): string {
  return mirror.endsWith('/') ? mirror : `${mirror}/`;
}

/** Proxmox VE ISO file names linked from a directory-listing page (Apache, nginx or table style). */
export function parseIndexHtml(html: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const raw = (m[1] ?? m[2] ?? m[3] ?? '').split(/[?#]/)[0] ?? '';
    let name = raw.slice(raw.lastIndexOf('/') + 1);
    try {
      name = decodeURIComponent(name);
    } catch {
      continue;
    }
    if (releaseOfFileName(name)) out.add(name);
  }
  return [...out];
}

/** SHA256SUMS → file name → lower-case hex digest. Lines that are not `<64 hex> [*]name` are skipped. */
export function parseSha256Sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9A-Fa-f]{64})\s+\*?(\S.*?)\s*$/.exec(line.trim());
    if (m?.[1] && m[2]) out.set(m[2], m[1].toLowerCase());
  }
  return out;
}

/** Picks the ISO for a release spec from SHA256SUMS (and the listing, when it could be read). */
export function resolveIso(spec: string, sums: ReadonlyMap<string, string>, listing: readonly string[] | undefined, mirror: string): ResolvedIso {
  const base = mirrorBase(mirror);
  const listed = listing ? new Set(listing) : undefined;
  const known: { release: IsoRelease; file: string; sha256: string }[] = [];
  for (const [file, sha256] of sums) {
    const release = releaseOfFileName(file);
    if (release && (!listed || listed.has(file))) known.push({ release, file, sha256 });
  }
  known.sort((a, b) => compareRelease(b.release, a.release));
  const where = `${base}SHA256SUMS${listed ? ' and the directory listing' : ''}`;
  const latest = /^latest-(\d+)$/.exec(spec);
  if (latest) {
    const major = Number(latest[1]);
    const hit = known.find((k) => k.release.major === major);
    if (!hit)
      throw new LabError(`no Proxmox VE ${major}.x ISO is offered in ${where}`, {
        hint: `check pve.isoMirror, or pin a local file with --iso FILE (pve.iso in the lab file)`,
      });
    return { ...hit, url: base + hit.file };
  }
  const rel = parseRelease(spec);
  if (!rel) throw new LabError(`"${spec}" is not a release: use "latest-9", "latest-8" or an exact one such as "8.4-1"`);
  const file = isoFileName(rel);
  const hit = known.find((k) => k.file === file);
  if (hit) return { ...hit, url: base + file };
  const same = known.filter((k) => k.release.major === rel.major).map((k) => k.release.id);
  const why = sums.has(file) ? `${file} is in SHA256SUMS but no longer in the directory at ${base}` : `${file} is not in ${where}`;
  throw new LabError(`Proxmox VE ${rel.id} cannot be downloaded: ${why}`, {
    hint: same.length ? `releases offered for ${rel.major}.x: ${same.join(', ')} (or use latest-${rel.major})` : 'pin a local file with --iso FILE',
  });
}
