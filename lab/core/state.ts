// Per-lab state directory: journal (what ran, when, with which lab-file hash), generated secrets and
// the lab's SSH keypair (mode 0600), pinned node host keys, and a lock so two runs on one lab refuse.
// The journal is memory, not truth: steps decide from the world (check()), never from here.
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { LabError } from './errors.js';
import { registerSecret } from './secrets.js';

export interface StepRecord {
  status: 'running' | 'done' | 'failed' | 'undone';
  startedAt: string;
  endedAt?: string;
  error?: string;
}

export interface Journal {
  schema: 1;
  lab: string;
  configHash?: string;
  /** The lab file as last applied (for the "lab file changed" refusal). */
  config?: unknown;
  cidr?: string;
  createdAt: string;
  steps: Record<string, StepRecord>;
}

export interface Secrets {
  rootPassword: string;
  rootPasswordHash?: string;
  chapUser?: string;
  chapPassword?: string;
}

export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** Atomic write: temp file + rename, with the given mode. */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabError(`cannot read ${path}: ${(err as Error).message}`, { hint: `remove the damaged file; \`pvelab up\` recreates it`, cause: err });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LabState {
  constructor(readonly dir: string, readonly lab: string) {}

  get journalPath(): string { return join(this.dir, 'state.json'); }
  get secretsPath(): string { return join(this.dir, 'secrets.json'); }
  get lockPath(): string { return join(this.dir, 'lock'); }
  get sshKeyPath(): string { return join(this.dir, 'ssh', 'id_ed25519'); }
  get knownHostsPath(): string { return join(this.dir, 'ssh', 'known_hosts'); }

  async exists(): Promise<boolean> {
    return stat(this.journalPath).then(() => true, () => false);
  }

  async readJournal(): Promise<Journal | undefined> {
    return readJson<Journal>(this.journalPath);
  }

  async updateJournal(fn: (j: Journal) => void): Promise<Journal> {
    const j = (await this.readJournal()) ?? { schema: 1, lab: this.lab, createdAt: new Date().toISOString(), steps: {} };
    fn(j);
    await writeFileAtomic(this.journalPath, JSON.stringify(j, null, 2) + '\n', 0o600);
    return j;
  }

  async recordStep(id: string, rec: Partial<StepRecord> & Pick<StepRecord, 'status'>): Promise<void> {
    await this.updateJournal((j) => {
      const prev = j.steps[id];
      j.steps[id] = { startedAt: prev?.startedAt ?? new Date().toISOString(), ...prev, ...rec };
    });
  }

  /** Secrets if they were generated already (never creates them: for checks and plan). */
  async peekSecrets(): Promise<Secrets | undefined> {
    const s = await readJson<Secrets>(this.secretsPath);
    for (const v of Object.values(s ?? {})) registerSecret(typeof v === 'string' ? v : undefined);
    return s;
  }

  /** Secrets, generated once and kept 0600; every value is registered for masking. */
  async secrets(): Promise<Secrets> {
    let s = await readJson<Secrets>(this.secretsPath);
    if (!s) {
      s = { rootPassword: randomBytes(12).toString('base64url') };
      await writeFileAtomic(this.secretsPath, JSON.stringify(s, null, 2) + '\n', 0o600);
    }
    for (const v of Object.values(s)) registerSecret(typeof v === 'string' ? v : undefined);
    return s;
  }

  async updateSecrets(patch: Partial<Secrets>): Promise<Secrets> {
    const s = { ...(await this.secrets()), ...patch };
    await writeFileAtomic(this.secretsPath, JSON.stringify(s, null, 2) + '\n', 0o600);
    for (const v of Object.values(s)) registerSecret(typeof v === 'string' ? v : undefined);
    return s;
  }

  /**
   * Takes the lab's lock or refuses naming the holder. A lock left by a dead process is taken over.
   * Returns the release function (idempotent).
   */
  async lock(command: string): Promise<() => Promise<void>> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const mine: LockInfo = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(this.lockPath, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600);
        await fh.writeFile(JSON.stringify(mine));
        await fh.close();
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          const cur = await readJson<LockInfo>(this.lockPath).catch(() => undefined);
          if (cur?.pid === process.pid) await rm(this.lockPath, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = await readJson<LockInfo>(this.lockPath).catch(() => undefined);
        if (holder && holder.host === mine.host && alive(holder.pid) && holder.pid !== process.pid)
          throw new LabError(`lab "${this.lab}" is busy: \`${holder.command}\` (pid ${holder.pid}) has held it since ${holder.since}`, {
            hint: `wait for it to finish or stop it (kill ${holder.pid}); if that process is not pvelab, remove ${this.lockPath}`,
          });
        await rm(this.lockPath, { force: true }); // stale: its holder is gone
      }
    }
    throw new LabError(`could not take the lock ${this.lockPath}`);
  }

  /** Removes the whole state directory (down). */
  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
