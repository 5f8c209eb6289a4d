// HTTP prober: GET the guest's page on a fixed schedule and record every answer and every failure.
// Contract:
// - Each probe uses a fresh TCP connection (agent:false + "Connection: close"): a dead path shows up as
//   a failed probe instead of hiding behind a kept-alive socket.
// - Probes are started every `intervalMs` on an absolute schedule, independently of earlier probes
//   still in flight, so the first answer after an outage is seen within one interval even while older
//   probes wait for their timeout. Ticks missed because the event loop stalled are skipped, not burst.
// - A probe fails on timeout (no complete answer within `timeoutMs`), on a socket error, or on a status
//   that okStatus() rejects (default: 2xx/3xx are good). Keep timeoutMs below 1 s: TCP retransmits the
//   SYN after 1 s, and a probe that waited through a whole outage would be placed at its send time.
// - Times: `t` performance.now() at send, `at` = answer arrival (ok) or send time (failed), `wall` epoch ms.
import http from 'node:http';
import type { HttpSample } from './record.js';

export interface HttpProbeOptions {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Extracts the answering instance from the body; default: "hello from NAME" or "node: NAME". */
  nodePattern?: RegExp;
  okStatus?: (status: number) => boolean;
  /** Called once per probe when it completes (completion order, not send order). */
  onSample?: (s: HttpSample) => void;
  /** Body bytes read for node identification (default 16 KiB); the rest is discarded. */
  maxBodyBytes?: number;
}

export interface HttpProbe {
  /** Completed samples so far, in send order. */
  samples(): HttpSample[];
  /** Stops scheduling, waits for probes in flight, returns all samples in send order. */
  stop(): Promise<HttpSample[]>;
  /** Ticks skipped because the event loop was late by more than one interval. */
  readonly skipped: number;
}

export const DEFAULT_NODE_PATTERN = /(?:hello from|node[:=])\s*([A-Za-z0-9][A-Za-z0-9._-]*)/i;
const defaultOk = (s: number) => s >= 200 && s < 400;

/** Sends one GET on a fresh connection; resolves (never rejects) with the sample. */
export function probeOnce(url: URL, seq: number, opts: Pick<HttpProbeOptions, 'timeoutMs' | 'nodePattern' | 'okStatus' | 'maxBodyBytes'>): Promise<HttpSample> {
  const t = performance.now();
  const wall = Date.now();
  const pattern = opts.nodePattern ?? DEFAULT_NODE_PATTERN;
  const okStatus = opts.okStatus ?? defaultOk;
  const maxBody = opts.maxBodyBytes ?? 16 * 1024;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (fields: Partial<HttpSample> & { ok: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const end = performance.now();
      resolve({ seq, t, wall, at: fields.ok ? end : t, ...fields, ...(fields.ok ? { rttMs: end - t } : {}) });
      req.destroy();
    };
    const req = http.request(
      url,
      { method: 'GET', agent: false, headers: { Connection: 'close', 'User-Agent': 'pvelab-probe', 'Cache-Control': 'no-cache' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < maxBody) chunks.push(c);
          size += c.length;
        });
        res.on('error', (err) => finish({ ok: false, error: errorCode(err) }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).subarray(0, maxBody).toString('utf8');
          const node = pattern.exec(body)?.[1];
          const good = okStatus(status);
          finish({ ok: good, status, ...(node ? { node } : {}), ...(good ? {} : { error: `HTTP ${status}` }) });
        });
      },
    );
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), opts.timeoutMs);
    req.on('error', (err) => finish({ ok: false, error: errorCode(err) }));
    req.end();
  });
}

function errorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Starts probing now; the first probe goes out immediately. */
export function startHttpProbe(opts: HttpProbeOptions): HttpProbe {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:') throw new Error(`probe URL must be http://, got ${url.protocol}`);
  if (!(opts.intervalMs > 0) || !(opts.timeoutMs > 0)) throw new Error('probe interval and timeout must be positive');
  const done: HttpSample[] = [];
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let seq = 0;
  let skipped = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const fire = () => {
    const p = probeOnce(url, seq++, opts).then((s) => {
      done.push(s);
      opts.onSample?.(s);
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  // Absolute schedule: tick k is due at start + k·interval; a late wake-up sends one probe and skips
  // the ticks it overslept, so a stalled loop never produces a burst of back-to-back probes.
  let k = 0;
  const tick = () => {
    if (stopped) return;
    fire();
    const now = performance.now();
    const next = Math.max(k + 1, Math.floor((now - start) / opts.intervalMs) + 1);
    skipped += next - (k + 1);
    k = next;
    timer = setTimeout(tick, Math.max(0, start + k * opts.intervalMs - performance.now()));
  };
  const stop = async (): Promise<HttpSample[]> => {
    stopped = true;
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    while (inflight.size) await Promise.all([...inflight]);
    return sorted();
  };
  const onAbort = () => void stop();
  const sorted = () => [...done].sort((a, b) => a.seq - b.seq);
  if (opts.signal?.aborted) stopped = true;
  else {
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    tick();
  }
  return {
    samples: sorted,
    stop,
    get skipped() {
      return skipped;
    },
  };
}
