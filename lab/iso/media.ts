// Per-node answer medium: a small ISO 9660 image with volume id PROXMOX-AIS holding /answer.toml.
// The partition fetcher of a prepared ISO mounts /dev/disk/by-label/PROXMOX-AIS read-only and reads
// answer.toml from it (proxmox.md A.2). The file can hold the root password (8.2) or its hash, so
// the image is written 0600 in a temp name and renamed into place.
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Runner } from '../exec/runner.js';
import { readIsoFile, volumeId } from './inspect.js';

export const ANSWER_VOLID = 'PROXMOX-AIS';
export const ANSWER_PATH = '/answer.toml';

/** Writes `out` (mode 0600) containing /answer.toml = answerText, labelled PROXMOX-AIS. */
export async function buildAnswerIso(host: Runner, answerText: string, out: string): Promise<void> {
  await mkdir(dirname(out), { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(dirname(out), '.answer-'));
  const tmp = join(work, 'answer.iso');
  try {
    const file = join(work, 'answer.toml');
    await writeFile(file, answerText, { mode: 0o600 });
    await host.run(['xorriso', '-outdev', tmp, '-volid', ANSWER_VOLID, '-joliet', 'on', '-map', file, ANSWER_PATH]);
    await chmod(tmp, 0o600);
    await rename(tmp, out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface AnswerMedium {
  volid: string;
  answer: string | undefined;
}

/** What an answer ISO holds, or undefined when it is missing or not an ISO. */
export async function readAnswerIso(host: Runner, iso: string): Promise<AnswerMedium | undefined> {
  try {
    return { volid: await volumeId(host, iso), answer: await readIsoFile(host, iso, ANSWER_PATH) };
  } catch {
    return undefined;
  }
}
