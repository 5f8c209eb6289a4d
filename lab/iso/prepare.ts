// The prepared ISO: a copy of the stock ISO with /auto-installer-mode.toml in `partition` mode, made
// exactly like `proxmox-auto-install-assistant prepare-iso --fetch-from partition` (proxmox.md A.2):
// check /auto-installer-capable, read the volume UUID, copy to <out>.<pid>.tmp, append one session in place
// with `xorriso -boot_image any keep -volume_date uuid <UUID> -dev <tmp> -map <mode> /auto-installer-mode.toml`
// (boot images stay at their LBAs, UUID preserved), verify, rename to <out>. The stock grub.cfg then
// offers the Automated entry with a 10 s timeout; the answer comes from a PROXMOX-AIS medium (media.ts).
import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LabError } from '../core/errors.js';
import type { Runner } from '../exec/runner.js';
import { assertAutoInstallCapable, readIsoFile, volumeUuid } from './inspect.js';
import { type IsoRelease, installerProfile } from './release.js';
import type { TomlTable } from './toml.js';
import { stringifyToml } from './toml-write.js';

export const MODE_FILE_PATH = '/auto-installer-mode.toml';
/** The label the partition fetcher looks for (it tries it as written, upper and lower case). */
export const PARTITION_LABEL = 'proxmox-ais';

/**
 * auto-installer-mode.toml as the assistant writes it (toml pretty print of {mode, partition_label, http}).
 * 8.2 ISOs read it with a struct that has no partition_label and denies unknown fields, so it is left out there.
 */
export function modeFileText(rel: IsoRelease): string {
  const doc: TomlTable = { mode: 'partition' };
  if (installerProfile(rel).modeFilePartitionLabel) doc['partition_label'] = PARTITION_LABEL;
  doc['http'] = {};
  return stringifyToml(doc);
}

/** Cache file name of the prepared ISO (the assistant's default output name). */
export function preparedIsoName(rel: IsoRelease): string {
  return `proxmox-ve_${rel.id}-auto-from-partition.iso`;
}

export type PreparedState = { ok: true } | { ok: false; reason: string };

/** Is `prepared` a partition-mode copy of `source` for `rel`? (mode file byte-exact, same volume UUID) */
export async function checkPrepared(host: Runner, source: string, prepared: string, rel: IsoRelease): Promise<PreparedState> {
  let mode: string | undefined;
  try {
    mode = await readIsoFile(host, prepared, MODE_FILE_PATH);
  } catch {
    return { ok: false, reason: `${prepared} is missing or unreadable` };
  }
  if (mode === undefined) return { ok: false, reason: `${prepared} has no ${MODE_FILE_PATH}` };
  if (mode !== modeFileText(rel)) return { ok: false, reason: `${prepared} has a different ${MODE_FILE_PATH}` };
  const [a, b] = await Promise.all([volumeUuid(host, source), volumeUuid(host, prepared)]);
  if (a !== b) return { ok: false, reason: `${prepared} was made from another ISO (volume UUID ${b}, source has ${a})` };
  return { ok: true };
}

/** Makes `out` from `source`; safe to re-run (works on <out>.tmp, renames at the end). */
export async function prepareIso(host: Runner, source: string, out: string, rel: IsoRelease): Promise<void> {
  await assertAutoInstallCapable(host, source);
  const uuid = await volumeUuid(host, source);
  const tmp = `${out}.${process.pid}.tmp`; // per process: two labs may prepare the same release
  const work = await mkdtemp(join(tmpdir(), 'pvelab-prep-'));
  try {
    const modeFile = join(work, 'auto-installer-mode.toml');
    await writeFile(modeFile, modeFileText(rel));
    await mkdir(dirname(out), { recursive: true });
    await rm(tmp, { force: true });
    await copyFile(source, tmp, constants.COPYFILE_FICLONE);
    await host.run(['xorriso', '-boot_image', 'any', 'keep', '-volume_date', 'uuid', uuid, '-dev', tmp, '-map', modeFile, MODE_FILE_PATH]);
    const got = await readIsoFile(host, tmp, MODE_FILE_PATH);
    const gotUuid = await volumeUuid(host, tmp);
    if (got !== modeFileText(rel) || gotUuid !== uuid)
      throw new LabError(`xorriso did not produce the expected prepared ISO (mode file ${got === undefined ? 'missing' : 'differs'}, UUID ${gotUuid} vs ${uuid})`);
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
