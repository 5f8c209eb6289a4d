// Registry of live lab namespaces, so a run can clean up what a crashed run left behind.
// Contract: one JSON file per namespace in REG_DIR (machine-wide, shared by concurrent test runs).
// sweepStale() only touches records whose *holder* process is gone (pid + start time), so it never
// kills a namespace that another live test process still uses. All functions here are synchronous
// so they can run from process 'exit' handlers.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// PVELAB_NS_REGISTRY overrides it (tests that must not race with concurrent sweeps use a private one).
export const REG_DIR = process.env.PVELAB_NS_REGISTRY ?? '/tmp/pvelab-labns';

export interface NsRecord {
  label: string;
  holderPid: number;
  holderStart: string;
  unsharePid: number;
  unshareStart: string;
  initPid?: number;
  initStart?: string;
  dir: string;
  hostIf?: string; // root-ns end of the uplink veth
}

/** Start time of a process (clock ticks since boot, field 22 of /proc/PID/stat), or null if gone. */
export function procStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // fields[0] is field 3 (state)
  } catch {
    return null;
  }
}

export function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

export const alive = (pid: number | undefined, start: string | undefined): boolean =>
  pid !== undefined && start !== undefined && procStart(pid) === start;

const recPath = (unsharePid: number, regDir: string) => join(regDir, `${unsharePid}.json`);

export function writeRecord(rec: NsRecord, regDir = REG_DIR): void {
  mkdirSync(regDir, { recursive: true, mode: 0o700 });
  writeFileSync(recPath(rec.unsharePid, regDir), JSON.stringify(rec));
}

export function removeRecord(unsharePid: number, regDir = REG_DIR): void {
  try {
    unlinkSync(recPath(unsharePid, regDir));
  } catch {
    /* already gone */
  }
}

export function readRecords(regDir = REG_DIR): NsRecord[] {
  let names: string[];
  try {
    names = readdirSync(regDir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: NsRecord[] = [];
  for (const n of names) {
    try {
      out.push(JSON.parse(readFileSync(join(regDir, n), 'utf8')) as NsRecord);
    } catch {
      /* being written or removed concurrently */
    }
  }
  return out;
}

/**
 * SIGKILLs the namespace of rec (init and unshare, only if they are still the same processes),
 * deletes its veth and scratch dir. Returns true when the scratch dir is gone (record removed).
 */
export function killRecordSync(rec: NsRecord, regDir = REG_DIR): boolean {
  // SIGKILL init (unshare reaps it and exits); unshare itself only while init is not known yet.
  const [pid, start] = rec.initPid !== undefined ? [rec.initPid, rec.initStart] : [rec.unsharePid, rec.unshareStart];
  if (alive(pid, start)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* raced with its exit */
    }
  }
  if (rec.hostIf) {
    try {
      execFileSync('ip', ['link', 'del', rec.hostIf], { stdio: 'ignore' });
    } catch {
      /* vanished with the namespace */
    }
  }
  try {
    rmSync(rec.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch {
    return false;
  }
  removeRecord(rec.unsharePid, regDir);
  return true;
}

/** Cleans every namespace whose holder process is dead. Returns the records it cleaned. */
export function sweepStale(regDir = REG_DIR): NsRecord[] {
  const cleaned: NsRecord[] = [];
  for (const rec of readRecords(regDir)) {
    if (alive(rec.holderPid, rec.holderStart)) continue;
    if (killRecordSync(rec, regDir)) cleaned.push(rec);
  }
  return cleaned;
}

/** Namespace inode (e.g. "net:[4026532...]") of a process, or null. */
export function nsId(pid: number, kind: 'net' | 'mnt' | 'pid'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** PIDs (root pid ns) that are in, or hold an fd to, the namespace `id` (as returned by nsId). */
export function nsHolders(id: string): number[] {
  const kind = id.slice(0, id.indexOf(':')) as 'net' | 'mnt' | 'pid';
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    if (nsId(pid, kind) === id) {
      out.push(pid);
      continue;
    }
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === id) {
            out.push(pid);
            break;
          }
        } catch {
          /* fd closed meanwhile */
        }
      }
    } catch {
      /* process gone */
    }
  }
  return out;
}
