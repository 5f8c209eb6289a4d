// HTTP(S) download into the cache with Node's fetch: resume with Range from DEST.part, retries with
// exponential backoff, a stall timeout, progress callbacks, SHA-256 computed while streaming
// (re-read from the .part only when the in-memory hash does not cover it, e.g. after a restart),
// then verify → rename DEST.part → DEST (atomic) → write the DEST.sha256 sidecar. A bad hash
// deletes the .part and is refused; nothing unverified ever carries the final name.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname } from 'node:path';
import { InterruptedError, LabError } from '../core/errors.js';
import { writeFileAtomic } from '../core/state.js';
import { sleep } from '../core/wait.js';

export interface DownloadProgress {
  received: number;
  total: number | undefined;
  /** Bytes already on disk when this attempt started (resume point). */
  resumedFrom: number;
  attempt: number;
  bytesPerSec: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  sha256: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Called before each retry with the reason (for a warning line). */
  onRetry?: (reason: string, attempt: number, delayMs: number) => void;
  signal?: AbortSignal | undefined;
  retries?: number;
  backoffMs?: number;
  stallMs?: number;
}

export interface DownloadResult {
  bytes: number;
  attempts: number;
  /** Requests answered with 206 Partial Content (resumed transfers). */
  resumes: number;
}

/** A failure that retrying cannot fix (404, 403, …). */
class PermanentError extends LabError {}

const size = (p: string) => stat(p).then((s) => s.size, () => 0);

/** Feeds a file's bytes into a hash (or a fresh one). */
export async function hashFile(path: string, hash: Hash = createHash('sha256'), signal?: AbortSignal): Promise<Hash> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  return hash;
}

export const sidecarPath = (dest: string) => `${dest}.sha256`;

/** The digest recorded next to a verified file, if any. */
export async function readSidecar(dest: string): Promise<string | undefined> {
  const text = await readFile(sidecarPath(dest), 'utf8').catch(() => '');
  return /^([0-9a-f]{64})\s/.exec(text)?.[1];
}

export async function writeSidecar(dest: string, sha256: string): Promise<void> {
  await writeFileAtomic(sidecarPath(dest), `${sha256}  ${basename(dest)}\n`, 0o644);
}

export async function downloadVerified(o: DownloadOptions): Promise<DownloadResult> {
  const part = `${o.dest}.part`;
  const retries = o.retries ?? 5;
  const want = o.sha256.toLowerCase();
  await mkdir(dirname(o.dest), { recursive: true });
  const st: HashState = { hash: createHash('sha256'), bytes: -1 };
  let resumes = 0;
  let attempt = 0;
  for (;;) {
    attempt++;
    if (o.signal?.aborted) throw new InterruptedError(`interrupted while downloading ${o.url}`);
    try {
      const have = await size(part);
      if (st.bytes !== have) {
        st.hash = have > 0 ? await hashFile(part, undefined, o.signal) : createHash('sha256');
        st.bytes = have;
      }
      const r = await transfer(o, part, have, attempt, st);
      if (r === 'resumed') resumes++;
      if (r === 'restart') continue; // server said the .part is unusable: start over at once
      break;
    } catch (err) {
      if (o.signal?.aborted) throw new InterruptedError(`interrupted while downloading ${o.url}`);
      if (err instanceof PermanentError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt > retries)
        throw new LabError(`downloading ${o.url} failed after ${attempt} attempts: ${reason}`, {
          hint: `run again to resume from ${part}, or download it yourself and pass --iso FILE`,
          cause: err,
        });
      const delay = Math.min((o.backoffMs ?? 1000) * 2 ** (attempt - 1), 30_000);
      o.onRetry?.(reason, attempt, delay);
      await sleep(delay, o.signal);
    }
  }
  const got = st.hash.digest('hex');
  if (got !== want) {
    await rm(part, { force: true });
    throw new LabError(`SHA-256 mismatch for ${basename(o.dest)}: expected ${want}, got ${got}; the download was deleted`, {
      hint: 'run again to download it afresh; if it happens again the mirror or its SHA256SUMS is wrong (try another pve.isoMirror)',
    });
  }
  const bytes = await size(part);
  await rename(part, o.dest);
  await writeSidecar(o.dest, want);
  return { bytes, attempts: attempt, resumes };
}

/** The running digest and how many bytes of the .part it covers. */
interface HashState {
  hash: Hash;
  bytes: number;
}

/** One request; appends to the .part and hashes what it writes. */
async function transfer(o: DownloadOptions, part: string, have: number, attempt: number, st: HashState): Promise<'done' | 'resumed' | 'restart'> {
  const reset = () => {
    st.hash = createHash('sha256');
    st.bytes = 0;
  };
  const ac = new AbortController();
  const stop = () => ac.abort();
  o.signal?.addEventListener('abort', stop, { once: true });
  const stallMs = o.stallMs ?? 60_000;
  let stall = setTimeout(() => ac.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  const kick = () => {
    clearTimeout(stall);
    stall = setTimeout(() => ac.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  try {
    const res = await fetch(o.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: ac.signal, redirect: 'follow' });
    let total: number | undefined;
    let resumed = false;
    if (res.status === 416 && have > 0) {
      const whole = Number(/\/(\d+)/.exec(res.headers.get('content-range') ?? '')?.[1]);
      await res.body?.cancel();
      if (whole === have) return 'done'; // the .part is already complete
      await rm(part, { force: true });
      reset();
      return 'restart';
    }
    if (res.status === 206 && have > 0) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        await res.body?.cancel();
        await rm(part, { force: true });
        reset();
        return 'restart';
      }
      total = m[3] === '*' ? undefined : Number(m[3]);
      resumed = true;
    } else if (res.status === 200) {
      if (have > 0) reset(); // server ignored Range: start over
      have = 0;
      const len = res.headers.get('content-length');
      total = len === null ? undefined : Number(len);
    } else {
      await res.body?.cancel();
      const msg = `${o.url} answered HTTP ${res.status} ${res.statusText}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentError(msg, { hint: 'check pve.isoMirror and the release' });
      throw new Error(msg);
    }
    if (!res.body) throw new Error('empty response body');
    const out = createWriteStream(part, { flags: have > 0 ? 'a' : 'w' });
    const closed = once(out, 'close');
    let received = have;
    const t0 = performance.now();
    let last = 0;
    const report = (force: boolean) => {
      const now = performance.now();
      if (!force && now - last < 200) return;
      last = now;
      const secs = (now - t0) / 1000;
      o.onProgress?.({ received, total, resumedFrom: have, attempt, bytesPerSec: secs > 0 ? (received - have) / secs : 0 });
    };
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        kick();
        st.hash.update(chunk);
        st.bytes += chunk.length;
        received += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
        report(false);
      }
    } finally {
      out.end();
      await closed;
    }
    report(true);
    if (total !== undefined && received !== total) throw new Error(`connection closed after ${received} of ${total} bytes`);
    return resumed ? 'resumed' : 'done';
  } catch (err) {
    if (ac.signal.aborted && ac.signal.reason instanceof Error && !o.signal?.aborted) throw ac.signal.reason;
    throw err;
  } finally {
    clearTimeout(stall);
    o.signal?.removeEventListener('abort', stop);
  }
}

/** GET a small text file (index page, SHA256SUMS) with a timeout and a few retries. */
export async function fetchText(url: string, opts: { signal?: AbortSignal | undefined; timeoutMs?: number; retries?: number } = {}): Promise<string> {
  const retries = opts.retries ?? 2;
  for (let attempt = 1; ; attempt++) {
    try {
      const signals = [AbortSignal.timeout(opts.timeoutMs ?? 20_000), ...(opts.signal ? [opts.signal] : [])];
      const res = await fetch(url, { signal: AbortSignal.any(signals), redirect: 'follow' });
      if (!res.ok) {
        await res.body?.cancel();
        throw new PermanentError(`${url} answered HTTP ${res.status} ${res.statusText}`);
      }
      return await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw new InterruptedError(`interrupted while fetching ${url}`);
      if (err instanceof PermanentError || attempt > retries)
        throw new LabError(`cannot read ${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`, {
          hint: 'check the network and pve.isoMirror, or pin a local ISO with --iso FILE',
          cause: err,
        });
      await sleep(500 * attempt, opts.signal);
    }
  }
}

const MiB = 1024 * 1024;
/** One line for a progress view: "[#######.............] 35% 612/1742 MiB 24.1 MiB/s". */
export function formatProgress(p: DownloadProgress, width = 20): string {
  const rate = `${(p.bytesPerSec / MiB).toFixed(1)} MiB/s`;
  if (!p.total) return `${(p.received / MiB).toFixed(0)} MiB ${rate}`;
  const frac = Math.min(1, p.received / p.total);
  const fill = Math.round(frac * width);
  return `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${Math.floor(frac * 100)}% ${(p.received / MiB).toFixed(0)}/${(p.total / MiB).toFixed(0)} MiB ${rate}`;
}
