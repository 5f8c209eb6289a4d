// The HTML report rendered by headless Chromium (Debian's `chromium`), offline: its screenshot must show
// the charts — phase bands in their colours and in Proxmox order, one downtime bar per measured trial,
// the HTTP strip — and a report without trials must show none of that (so the check can fail).
// Skips only when chromium is not installed (CI installs it).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { buildReport } from '../../lab/report/model.js';
import { FAIL_COLOR, KIND_COLORS, OK_COLOR } from '../../lab/report/svg.js';
import { writeReport } from '../../lab/report/write.js';
import { run } from '../helpers/run.js';
import { sampleRun } from '../unit/report-fixtures.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

interface Image {
  width: number;
  height: number;
  rgb(x: number, y: number): string;
}

/** Tiny PNG reader: 8-bit RGB/RGBA, non-interlaced (what Chromium writes). */
function readPng(buf: Buffer): Image {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, color, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      channels = color === 6 ? 4 : color === 2 ? 3 : 0;
      if (depth !== 8 || !channels || interlace !== 0) throw new Error(`unsupported PNG: depth ${depth} colour ${color} interlace ${interlace}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[y * stride + i - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + i]! : 0;
      const c = i >= channels && y > 0 ? px[(y - 1) * stride + i - channels]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      if (pred === undefined) throw new Error(`bad PNG filter ${f}`);
      px[y * stride + i] = (src[i]! + pred) & 0xff;
    }
  }
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  return { width, height, rgb: (x, y) => `#${hex(px[y * stride + x * channels]!)}${hex(px[y * stride + x * channels + 1]!)}${hex(px[y * stride + x * channels + 2]!)}` };
}

/** Horizontal runs of one colour per row, at least `min` pixels long: [y, x0, x1]. */
function runs(img: Image, color: string, min: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let y = 0; y < img.height; y++) {
    let start = -1;
    for (let x = 0; x <= img.width; x++) {
      const hit = x < img.width && img.rgb(x, y) === color;
      if (hit && start < 0) start = x;
      if (!hit && start >= 0) {
        if (x - start >= min) out.push([y, start, x - 1]);
        start = -1;
      }
    }
  }
  return out;
}

async function screenshot(html: string, work: string, name: string): Promise<Image> {
  const png = join(work, `${name}.png`);
  const profile = mkdtempSync(join(work, 'profile-'));
  await run([CHROMIUM!, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--force-color-profile=srgb', '--hide-scrollbars', `--user-data-dir=${profile}`,
    `--screenshot=${png}`, '--window-size=1200,2000', `file://${html}`], { timeoutMs: 90_000 });
  return readPng(readFileSync(png));
}

describe.skipIf(!CHROMIUM)(`HTML report in headless Chromium${CHROMIUM ? '' : ' (skipped: chromium is not installed; apt-get install -y chromium)'}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'pvelab-report-chromium-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('the screenshot shows phase bands in order, one bar per measured trial and the probe strip; no trials, no charts', async () => {
    const record = sampleRun();
    const full = await writeReport(join(work, 'full'), [record], '2025-03-14T12:00:00.000Z');
    const html = readFileSync(join(full.dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/\s(?:src|href|xlink:href|action)=|@import|url\((?!#)|<script|<link/i); // opens offline
    const img = await screenshot(join(full.dir, 'report.html'), work, 'full');
    expect([img.width, img.height]).toEqual([1200, 2000]);

    // Phases long enough to be wide bands in the breakdown must appear as wide runs of their colour.
    const m = full.model;
    const longest = Math.max(...m.kinds.flatMap((k) => k.phases.map((p) => p.summary?.median ?? 0)));
    const wide = m.phases.filter((p) => m.kinds.some((k) => (k.phases.find((x) => x.id === p.id)?.summary?.median ?? 0) > 0.1 * longest));
    expect(wide.length).toBeGreaterThanOrEqual(3);
    const bands = new Map(wide.map((p) => [p.id, runs(img, p.color, 40)]));
    for (const [id, r] of bands) expect(r.length, `band ${id}`).toBeGreaterThan(0);

    // In every pixel row crossing all wide bands, they appear left to right in Proxmox order.
    const rows = new Set([...bands.values()].flat().map(([y]) => y));
    let ordered = 0;
    for (const y of rows) {
      const xs = wide.map((p) => bands.get(p.id)!.find(([ry]) => ry === y)?.[1]);
      if (xs.some((x) => x === undefined)) continue;
      for (let i = 1; i < xs.length; i++) expect(xs[i]!, `row ${y}`).toBeGreaterThan(xs[i - 1]!);
      ordered++;
    }
    expect(ordered).toBeGreaterThan(20); // several bars (kind medians, trials, the first timeline), each many rows tall

    // Downtime chart: in some row, one bar per trial that has a downtime, in the kind colours.
    const measured = m.trials.filter((t) => t.timeline.downtime.ms !== null).length;
    const barRuns = KIND_COLORS.flatMap((c) => runs(img, c, 20));
    const perRow = new Map<number, number>();
    for (const [y] of barRuns) perRow.set(y, (perRow.get(y) ?? 0) + 1);
    expect(Math.max(...perRow.values())).toBe(measured);

    // HTTP strip of the first trial: answered and failed segments.
    expect(runs(img, OK_COLOR, 10).length).toBeGreaterThan(0);
    expect(runs(img, FAIL_COLOR, 100).length).toBeGreaterThan(0);

    // Control: the same report without trials has no chart marks at all.
    const empty = await writeReport(join(work, 'empty'), [{ ...record, trials: [] }], '2025-03-14T12:00:00.000Z');
    expect(buildReport([{ ...record, trials: [] }], 'x').trials).toEqual([]);
    const none = await screenshot(join(empty.dir, 'report.html'), work, 'empty');
    for (const p of wide) expect(runs(none, p.color, 40), `band ${p.id} in an empty report`).toEqual([]);
    expect(KIND_COLORS.flatMap((c) => runs(none, c, 20))).toEqual([]);
  });
});
