// Which stock ISO a lab uses and where it is, shared by the iso/answer steps, the install step and plan.
// Order: pve.iso (a pinned local file; its release read from /.cd-info) → an exact release (cache path
// known without the network) → latest-N resolved from the mirror's index + SHA256SUMS (once per process);
// when the mirror cannot be read, the newest verified cached ISO of that major is used, with a warning.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from '../config/names.js';
import { LabError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Runner } from '../exec/runner.js';
import { isoCacheDir } from './cache.js';
import { fetchText, readSidecar } from './download.js';
import { mirrorBase, parseIndexHtml, parseSha256Sums, resolveIso, type ResolvedIso } from './index.js';
import { readCdInfo } from './inspect.js';
import { preparedIsoName } from './prepare.js';
import { compareRelease, type IsoRelease, isoFileName, parseRelease, releaseOfFileName } from './release.js';

export interface IsoSource {
  release: IsoRelease;
  /** The stock ISO: the pinned file or the cache path (may not exist yet). */
  path: string;
  pinned: boolean;
  /** Mirror URL and expected SHA-256, when it came from the index (undefined for pinned / exact-from-cache). */
  download?: ResolvedIso | undefined;
  /** The prepared partition-mode copy in the cache. */
  prepared: string;
}

export interface SourceContext {
  lab: Lab;
  host: Runner;
  log: Logger;
  signal?: AbortSignal | undefined;
}

const resolved = new Map<string, Promise<ResolvedIso>>();
const warned = new Set<string>();
const warnOnce = (log: Logger, text: string) => {
  if (!warned.has(text)) log.warn(text);
  warned.add(text);
};

/** Reads the mirror's listing and SHA256SUMS and resolves `spec` (memoized per mirror + spec). */
export function resolveFromMirror(mirror: string, spec: string, signal?: AbortSignal): Promise<ResolvedIso> {
  const key = `${mirrorBase(mirror)} ${spec}`;
  let p = resolved.get(key);
  if (!p) {
    p = (async () => {
      const base = mirrorBase(mirror);
      const sums = parseSha256Sums(await fetchText(`${base}SHA256SUMS`, { signal }));
      const listing = await fetchText(base, { signal, retries: 1 }).then(parseIndexHtml, () => undefined);
      return resolveIso(spec, sums, listing && listing.length > 0 ? listing : undefined, base);
    })();
    p.catch(() => {}); // kept, failure included: one attempt per process, not one per step call
    resolved.set(key, p);
  }
  return p;
}

/** Newest cached ISO of a major that was verified (has its .sha256 sidecar). */
async function newestCached(dir: string, major: number): Promise<IsoRelease | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const rels = names.map(releaseOfFileName).filter((r): r is IsoRelease => r?.major === major);
  rels.sort((a, b) => compareRelease(b, a));
  for (const r of rels) if (await readSidecar(join(dir, isoFileName(r)))) return r;
  return undefined;
}

export async function isoSource(ctx: SourceContext): Promise<IsoSource> {
  const dir = isoCacheDir();
  const pin = ctx.lab.pve.iso;
  if (pin) {
    const info = await readCdInfo(ctx.host, pin).catch((err: unknown) => {
      throw new LabError(`pve.iso ${pin} cannot be used: ${err instanceof Error ? err.message : String(err)}`, {
        hint: err instanceof LabError ? err.hint : 'pass an existing Proxmox VE ISO with --iso FILE',
      });
    });
    const spec = ctx.lab.pve.release;
    const major = /^latest-(\d+)$/.exec(spec)?.[1];
    if ((major && Number(major) !== info.release.major) || (!major && spec !== info.release.id))
      warnOnce(ctx.log, `pve.iso ${pin} is Proxmox VE ${info.release.id}; pve.release "${spec}" is ignored`);
    return { release: info.release, path: pin, pinned: true, prepared: join(dir, preparedIsoName(info.release)) };
  }
  const spec = ctx.lab.pve.release;
  const exact = parseRelease(spec);
  const at = (release: IsoRelease, download?: ResolvedIso): IsoSource => ({
    release,
    path: join(dir, isoFileName(release)),
    pinned: false,
    download,
    prepared: join(dir, preparedIsoName(release)),
  });
  if (exact && (await readSidecar(join(dir, isoFileName(exact))))) return at(exact);
  try {
    const d = await resolveFromMirror(ctx.lab.pve.isoMirror, spec, ctx.signal);
    return at(d.release, d);
  } catch (err) {
    const major = /^latest-(\d+)$/.exec(spec)?.[1];
    const cached = major ? await newestCached(dir, Number(major)) : undefined;
    if (!cached || !(err instanceof LabError) || /cannot be downloaded|no Proxmox VE/.test(err.message)) throw err;
    warnOnce(ctx.log, `${err.message}; using the newest cached ISO, Proxmox VE ${cached.id}`);
    return at(cached);
  }
}
