// ISO download from a mirror served by a test host in its own network namespace (testhost.ts with a
// node request handler, so the test can cut connections, stall, ignore Range and count requests).
// Covers: index + SHA256SUMS resolution through the iso.fetch step, resume with Range after a cut
// connection, refusal of a bad hash, resume from a .part left by an earlier run, a server that ignores
// Range, an already complete .part (416), a stalled transfer, and a 404 that is not retried.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../helpers/testhost.js';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames } from '../../lab/config/names.js';
import { LabError } from '../../lab/core/errors.js';
import { memoryLogger } from '../../lab/core/log.js';
import { runUp } from '../../lab/core/pipeline.js';
import { LabState } from '../../lab/core/state.js';
import type { Step, StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { downloadVerified, readSidecar } from '../../lab/iso/download.js';
import { isoFetchStep } from '../../lab/steps/iso.js';

const MiB = 1 << 20;
const payload = randomBytes(6 * MiB);
const sha = createHash('sha256').update(payload).digest('hex');
const work = mkdtempSync(join(tmpdir(), 'pvelab-isodl-'));
const cache = join(work, 'cache');
process.env['PVELAB_ISO_DIR'] = cache;

interface Req { path: string; range: string | undefined; status: number }
const requests: Req[] = [];
/** What the next ISO request does: serve, cut after N bytes, or stall after N bytes. */
const next: { cut?: number; stall?: number } = {};
const stalled: ServerResponse[] = [];

const listing = (names: string[]) => `<html><body><h1>Index of /iso/</h1><pre>${names.map((n) => `<a href="${n}">${n}</a>`).join('\n')}</pre></body></html>`;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const range = req.headers.range;
  const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
    requests.push({ path: url, range, status });
    res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  };
  const [, mirror, file] = /^\/([a-z]+)\/(.*)$/.exec(url) ?? [];
  if (file === '') return send(200, listing(['proxmox-ve_8.4-1.iso', 'proxmox-ve_9.8-1.iso', 'proxmox-ve_9.9-1.iso', 'SHA256SUMS']));
  if (file === 'SHA256SUMS') {
    const digest = mirror === 'bad' ? createHash('sha256').update('something else').digest('hex') : sha;
    return send(200, `${'1'.repeat(64)}  proxmox-ve_8.4-1.iso\n${'2'.repeat(64)}  proxmox-ve_9.8-1.iso\n${digest}  proxmox-ve_9.9-1.iso\n`);
  }
  if (file !== 'proxmox-ve_9.9-1.iso') return send(404, 'not found');
  const from = mirror !== 'norange' && range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
  if (from >= payload.length && from > 0) return send(416, '', { 'content-range': `bytes */${payload.length}` });
  const body = payload.subarray(from);
  const headers: Record<string, string> = { 'content-length': String(body.length) };
  if (from > 0) headers['content-range'] = `bytes ${from}-${payload.length - 1}/${payload.length}`;
  const status = from > 0 ? 206 : 200;
  requests.push({ path: url, range, status });
  res.writeHead(status, headers);
  const { cut, stall } = next;
  delete next.cut;
  delete next.stall;
  if (cut !== undefined) res.write(body.subarray(0, cut), () => res.socket?.destroy());
  else if (stall !== undefined) {
    res.write(body.subarray(0, stall));
    stalled.push(res); // never ends: the client must give up
  } else res.end(body);
}

let th: TestHost;
beforeAll(async () => {
  th = await startTestHost({ http: { node: handler }, label: 'isodl' });
}, 120_000);
afterAll(async () => {
  for (const r of stalled) r.destroy();
  await th?.down();
  rmSync(work, { recursive: true, force: true });
});

const isoRequests = () => requests.filter((r) => r.path.endsWith('.iso'));
const fresh = (name: string) => {
  requests.length = 0;
  mkdirSync(join(work, name), { recursive: true });
  const dest = join(work, name, 'proxmox-ve_9.9-1.iso');
  return { dest, part: `${dest}.part` };
};

function ctxFor(mirror: string, rel: string, progress: string[], log = memoryLogger(), port = 80) {
  const lab = resolveLab(parseLabObject({ name: 'dl', network: { cidr: '10.99.0.0/24' }, pve: { release: rel, isoMirror: `http://${th.address}:${port}/${mirror}/` } }), []);
  const names = labNames(lab, join(work, 'home'));
  const state = new LabState(names.stateDir, lab.name);
  return (_s: Step, p: (t: string) => void): StepContext => ({
    lab, names, log, host: new LocalRunner(), state, signal: new AbortController().signal, services: {}, dryRun: false,
    progress: (t) => (progress.push(t), p(t)),
  });
}

describe('ISO download', () => {
  it('iso.fetch resolves latest-9 from the index, survives a cut connection by resuming with Range, and verifies', async () => {
    requests.length = 0;
    next.cut = 2 * MiB;
    const progress: string[] = [];
    const out = await runUp([isoFetchStep], ctxFor('iso', 'latest-9', progress));
    expect(out[0]!.result).toBe('applied');
    const dest = join(cache, 'proxmox-ve_9.9-1.iso');
    expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(sha);
    expect(await readSidecar(dest)).toBe(sha);
    expect(existsSync(`${dest}.part`)).toBe(false);
    const iso = isoRequests();
    // the server cut the connection after 2 MiB; what reached the .part (all of it, or less when the
    // cut discarded data in flight) is where the resume starts
    expect(iso.map((r) => r.status)).toEqual([200, 206]);
    expect(iso[0]!.range).toBeUndefined();
    const from = Number(/^bytes=(\d+)-$/.exec(iso[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(2 * MiB);
    expect(progress.some((p) => /\] 100% 6\/6 MiB/.test(p))).toBe(true);
    requests.length = 0;
    expect((await runUp([isoFetchStep], ctxFor('iso', 'latest-9', [])))[0]!.result).toBe('already done');
    expect(isoRequests()).toEqual([]);
  });

  it('latest-9 with the mirror unreachable falls back to the newest verified cached ISO, with a warning', async () => {
    const log = memoryLogger();
    const st = await isoFetchStep.check(ctxFor('iso', 'latest-9', [], log, 81)(isoFetchStep, () => {})); // nothing listens on :81
    expect(st).toMatchObject({ kind: 'done', detail: expect.stringContaining('Proxmox VE 9.9-1, verified') });
    expect(log.lines.join('\n')).toMatch(/warning: cannot read http.*SHA256SUMS.*using the newest cached ISO, Proxmox VE 9.9-1/);
    await expect(isoFetchStep.check(ctxFor('iso', 'latest-8', [], log, 81)(isoFetchStep, () => {}))).rejects.toThrow(/cannot read/);
  });

  it('iso.fetch refuses a bad hash: nothing is kept under the ISO name, the .part is gone', async () => {
    const badCache = join(work, 'cache-bad');
    process.env['PVELAB_ISO_DIR'] = badCache; // the test above cached a verified 9.9-1 in `cache`
    try {
      requests.length = 0;
      const err = await runUp([isoFetchStep], ctxFor('bad', '9.9-1', [])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LabError);
      expect((err as LabError).message).toMatch(/SHA-256 mismatch for proxmox-ve_9.9-1.iso: expected [0-9a-f]{64}, got [0-9a-f]{64}; the download was deleted/);
      expect(isoRequests().map((r) => r.status)).toEqual([200]); // downloaded whole, then refused
      const dest = join(badCache, 'proxmox-ve_9.9-1.iso');
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.part`)).toBe(false);
      expect(await readSidecar(dest)).toBeUndefined();
    } finally {
      process.env['PVELAB_ISO_DIR'] = cache;
    }
  });

  it('resumes from a .part left by an earlier run (hash re-read from disk)', async () => {
    const { dest, part } = fresh('resume');
    writeFileSync(part, payload.subarray(0, 3 * MiB + 5), { flag: 'w' });
    const r = await downloadVerified({ url: `http://${th.address}/iso/proxmox-ve_9.9-1.iso`, dest, sha256: sha, backoffMs: 10 });
    expect(r).toMatchObject({ bytes: payload.length, attempts: 1, resumes: 1 });
    expect(isoRequests().map((x) => x.range)).toEqual([`bytes=${3 * MiB + 5}-`]);
    expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(sha);
  });

  it('starts over when the server ignores Range', async () => {
    const { dest, part } = fresh('norange');
    writeFileSync(part, payload.subarray(0, MiB));
    next.cut = MiB / 2;
    const r = await downloadVerified({ url: `http://${th.address}/norange/proxmox-ve_9.9-1.iso`, dest, sha256: sha, backoffMs: 10 });
    expect(r.resumes).toBe(0);
    expect(r.attempts).toBe(2);
    expect(isoRequests().map((x) => x.status)).toEqual([200, 200]);
    expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(sha);
  });

  it('accepts a complete .part answered with 416', async () => {
    const { dest, part } = fresh('complete');
    writeFileSync(part, payload);
    await downloadVerified({ url: `http://${th.address}/iso/proxmox-ve_9.9-1.iso`, dest, sha256: sha, backoffMs: 10 });
    expect(isoRequests().map((x) => x.status)).toEqual([416]);
    expect(await readSidecar(dest)).toBe(sha);
  });

  it('gives up on a stalled transfer and resumes', async () => {
    const { dest } = fresh('stall');
    next.stall = MiB;
    const retries: string[] = [];
    const r = await downloadVerified({ url: `http://${th.address}/iso/proxmox-ve_9.9-1.iso`, dest, sha256: sha, backoffMs: 10, stallMs: 500, onRetry: (why) => retries.push(why) });
    expect(retries).toEqual(['no data for 0.5 s']);
    expect(r.resumes).toBe(1);
    expect(isoRequests().map((x) => x.range)).toEqual([undefined, `bytes=${MiB}-`]);
  });

  it('does not retry a 404, and says which URL', async () => {
    const { dest } = fresh('missing');
    const err = await downloadVerified({ url: `http://${th.address}/iso/proxmox-ve_9.7-1.iso`, dest, sha256: sha, backoffMs: 10 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/proxmox-ve_9.7-1.iso answered HTTP 404/);
    expect(isoRequests()).toHaveLength(1);
  });
});
