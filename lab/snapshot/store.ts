// Golden snapshots on disk: <imagesDir>/snapshots/<name>/ holds a copy of every lab disk plus a
// manifest written last, so a snapshot without a manifest is incomplete and never restored.
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Runner } from '../exec/runner.js';
import { LabError } from '../core/errors.js';
import { writeFileAtomic } from '../core/state.js';
import { copyImage, reflinkSupported, type CopyMode, type CopyResult } from './copy.js';

export interface SnapshotManifest {
  schema: 1;
  name: string;
  lab: string;
  createdAt: string;
  mode: CopyMode;
  /** The lab-file hash the snapshot was taken from (reset refuses another). */
  labHash: string;
  files: { source: string; copy: string; apparentBytes: number; allocatedBytes: number }[];
}

export const SNAPSHOT_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;

export function snapshotDir(imagesDir: string, name: string): string {
  return join(imagesDir, 'snapshots', name);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

export async function readManifest(imagesDir: string, name: string): Promise<SnapshotManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(snapshotDir(imagesDir, name), 'manifest.json'), 'utf8')) as SnapshotManifest;
  } catch {
    return undefined;
  }
}

export async function listSnapshots(imagesDir: string): Promise<SnapshotManifest[]> {
  const names = await readdir(join(imagesDir, 'snapshots')).catch(() => [] as string[]);
  const out: SnapshotManifest[] = [];
  for (const n of names.sort()) {
    const m = await readManifest(imagesDir, n);
    if (m) out.push(m);
  }
  return out;
}

export interface SaveOptions {
  host: Runner;
  imagesDir: string;
  lab: string;
  labHash: string;
  name: string;
  disks: readonly string[];
  /** Force a mode (benchmarks); default: reflink when the filesystem has it. */
  mode?: CopyMode;
  onProgress?: (text: string) => void;
}

/** Copies every existing disk into the snapshot (nodes must be stopped). Replaces a snapshot of the same name. */
export async function saveSnapshot(o: SaveOptions): Promise<SnapshotManifest> {
  if (!SNAPSHOT_NAME.test(o.name)) throw new LabError(`snapshot name "${o.name}" is not allowed`, { hint: 'use 1-32 characters: a-z, 0-9, ".", "_", "-"' });
  const dir = snapshotDir(o.imagesDir, o.name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mode = o.mode ?? ((await reflinkSupported(o.host, dir)) ? 'reflink' : 'sparse');
  const files: SnapshotManifest['files'] = [];
  const seen = new Set<string>();
  for (const src of o.disks) {
    if (!(await exists(src))) continue;
    let copyName = basename(src);
    while (seen.has(copyName)) copyName = `_${copyName}`;
    seen.add(copyName);
    o.onProgress?.(`copying ${src} (${mode})`);
    const r: CopyResult = await copyImage(o.host, src, join(dir, copyName), mode);
    files.push({ source: src, copy: copyName, apparentBytes: r.apparentBytes, allocatedBytes: r.allocatedBytes });
  }
  const manifest: SnapshotManifest = { schema: 1, name: o.name, lab: o.lab, createdAt: new Date().toISOString(), mode, labHash: o.labHash, files };
  await writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', 0o600);
  return manifest;
}

/** Puts every disk of the snapshot back in place (nodes must be stopped). */
export async function restoreSnapshot(o: { host: Runner; imagesDir: string; name: string; labHash: string; mode?: CopyMode; onProgress?: (t: string) => void }): Promise<SnapshotManifest> {
  const m = await readManifest(o.imagesDir, o.name);
  if (!m) throw new LabError(`no snapshot "${o.name}"`, { hint: 'list them with `pvelab snapshot list`; take one with `pvelab snapshot save`' });
  if (m.labHash !== o.labHash)
    throw new LabError(`snapshot "${o.name}" was taken from a different lab file`, { hint: 'restore the lab file it was taken with, or take a new snapshot' });
  const dir = snapshotDir(o.imagesDir, o.name);
  for (const f of m.files) {
    o.onProgress?.(`restoring ${f.source}`);
    await copyImage(o.host, join(dir, f.copy), f.source, o.mode ?? m.mode);
  }
  return m;
}

export async function removeSnapshot(imagesDir: string, name: string): Promise<void> {
  await rm(snapshotDir(imagesDir, name), { recursive: true, force: true });
}
