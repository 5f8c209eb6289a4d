// Report model, charts, Markdown/HTML/CSV rendering and run directories.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { clearSecrets, registerSecret } from '../../lab/core/secrets.js';
import { buildReport, probeSegments } from '../../lab/report/model.js';
import { csvField, renderCsv, renderHtml, renderMarkdown } from '../../lab/report/render.js';
import { phasesSvg, timelineSvg } from '../../lab/report/svg.js';
import { listRuns, readRun, writeRunDir } from '../../lab/report/write.js';
import { BOUNDARIES, PHASES } from '../../lab/failover/timeline.js';
import { sampleRun } from './report-fixtures.js';

const GEN = '2025-03-14T12:00:00.000Z';

/** Minimal RFC 4180 reader for checking our CSV. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') (f += '"'), i++;
      else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') row.push(f), (f = '');
    else if (c === '\r') continue;
    else if (c === '\n') row.push(f), rows.push(row), (row = []), (f = '');
    else f += c;
  }
  return rows;
}

describe('model', () => {
  const m = buildReport([sampleRun()], GEN);

  test('one view per trial, statistics per fault kind in order of appearance', () => {
    expect(m.trials.map((t) => t.key)).toEqual([0, 1, 2, 3].map((i) => `20250314T090000Z-test#${i}`));
    expect(m.kinds.map((k) => [k.faultKind, k.trials, k.recovered])).toEqual([['link-down', 3, 2], ['node-poweroff', 1, 1]]);
    expect(m.kinds[0]!.downtime!.n).toBe(2); // the timed-out trial has no downtime
    expect(m.kinds[0]!.downtime!.min).toBe(Math.min(m.trials[0]!.timeline.downtime.ms!, m.trials[1]!.timeline.downtime.ms!));
  });

  test('probe segments alternate, follow time, and count every probe', () => {
    const run = sampleRun();
    const tr = run.trials[0]!;
    const segs = probeSegments(tr.http, tr.fault.injectedAt, tr.probe.intervalMs);
    expect(segs.map((s) => s.ok)).toEqual([true, false, true]);
    expect(segs.reduce((a, s) => a + s.probes, 0)).toBe(tr.http.length);
    for (let i = 1; i < segs.length; i++) expect(segs[i]!.fromMs).toBeGreaterThanOrEqual(segs[i - 1]!.toMs);
  });
});

describe('charts', () => {
  const m = buildReport([sampleRun()], GEN);
  const rects = (svg: string) => [...svg.matchAll(/<rect class="phase" data-phase="(\w+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((r) => ({ id: r[1]!, x: Number(r[2]), w: Number(r[3]) }));

  test('a trial timeline draws its observed phases in Proxmox order, widths proportional to durations', () => {
    const t = m.trials[0]!;
    const bands = rects(timelineSvg(t, m.phases));
    expect(bands.map((b) => b.id)).toEqual(t.timeline.phases.filter((p) => p.ms !== null).map((p) => p.id));
    for (let i = 1; i < bands.length; i++) expect(bands[i]!.x).toBeGreaterThanOrEqual(bands[i - 1]!.x);
    const fence = t.timeline.phases.find((p) => p.id === 'fencing')!.ms!;
    const delay = t.timeline.phases.find((p) => p.id === 'fenceDelay')!.ms!;
    const w = (id: string) => bands.find((b) => b.id === id)!.w;
    expect(w('fencing') / w('fenceDelay')).toBeCloseTo(fence / delay, 1);
  });

  test('a timed-out trial draws no band after the last observed boundary', () => {
    const t = m.trials[2]!;
    const bands = rects(timelineSvg(t, m.phases));
    expect(bands.map((b) => b.id)).not.toContain('appStart');
    expect(bands.map((b) => b.id)).not.toContain('fenceDelay');
  });

  test('the breakdown has a median row per kind and a row per trial', () => {
    const svg = phasesSvg(m);
    expect(svg).toContain('link-down (median)');
    expect(svg).toContain('node-poweroff (median)');
    for (let i = 1; i <= m.trials.length; i++) expect(svg).toContain(`#${i} `);
  });
});

describe('rendering', () => {
  afterAll(() => clearSecrets());
  const run = sampleRun();
  run.trials[0]!.notes.push('operator note: <script>alert(1)</script> token hunter2-SECRET-value, "quoted", with comma');
  registerSecret('hunter2-SECRET-value');
  const m = buildReport([run], GEN);

  test('HTML: self-contained, one timeline per trial, text escaped, secrets masked', () => {
    const html = renderHtml(m);
    expect(html.match(/<svg class="chart timeline"/g)?.length).toBe(m.trials.length);
    expect(html).toContain('<svg class="chart downtime"');
    expect(html).toContain('<svg class="chart phases"');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/\s(?:src|href|xlink:href|action)=/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('hunter2-SECRET-value');
    for (const p of PHASES) expect(html).toContain(`fill="${p.color}"`);
  });

  test('Markdown: a boundary table per trial, missing boundaries with their reason', () => {
    const md = renderMarkdown(m);
    expect(md.match(/^### #\d+ /gm)?.length).toBe(m.trials.length);
    for (const b of BOUNDARIES) expect(md.split(`| ${b.label.replace(/\|/g, '\\|')} |`).length - 1).toBe(m.trials.length);
    expect(md).toContain('no CRM journal lines and no HA status polls recorded');
    expect(md).not.toContain('hunter2-SECRET-value');
  });

  test('CSV: header and one row per trial with the timeline values, quoted where needed', () => {
    const rows = parseCsv(renderCsv(m));
    const [header, ...data] = rows;
    expect(data.length).toBe(m.trials.length);
    expect(data.every((r) => r.length === header!.length)).toBe(true);
    const col = (name: string) => header!.indexOf(name);
    m.trials.forEach((t, i) => {
      const d = t.timeline.downtime.ms;
      expect(data[i]![col('downtime_s')]).toBe(d === null ? '' : String(d / 1000));
      expect(data[i]![col('fault_kind')]).toBe(t.timeline.faultKind);
    });
    expect(data[2]![col('firstGood_s')]).toBe('');
    expect(data[2]![col('firstGood_source')]).toMatch(/^missing: no good answer/);
    expect(data[0]![col('notes')]).toContain('"quoted", with comma');
    expect(data[0]![col('notes')]).not.toContain('hunter2');
    expect(csvField('a"b')).toBe('"a""b"');
  });
});

describe('run directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvelab-runs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writeRunDir writes run.json and the three reports; readRun reads the same record back', async () => {
    const a = sampleRun();
    const b = sampleRun({ id: '20250315T090000Z-test' });
    const wa = await writeRunDir(a, dir);
    await writeRunDir(b, dir);
    expect(wa.files.map((f) => f.slice(wa.dir.length + 1))).toEqual(['run.json', 'trials.csv', 'report.md', 'report.html']);
    expect((await readRun(wa.dir)).record).toEqual(a);
    expect((await readRun(join(wa.dir, 'run.json'))).record).toEqual(a);
    expect((await listRuns(dir)).map((p) => p.slice(dir.length + 1))).toEqual([a.id, b.id]);
    expect(readFileSync(join(wa.dir, 'report.html'), 'utf8')).toContain(a.id);
  });

  test('an invalid record is refused before anything is written; a missing run is a usage error', async () => {
    const bad = { ...sampleRun(), id: '20250316T000000Z-bad', schemaVersion: 2 } as never;
    await expect(writeRunDir(bad, dir)).rejects.toThrow();
    expect((await listRuns(dir)).some((p) => p.endsWith('bad'))).toBe(false);
    await expect(readRun(join(dir, 'nope'))).rejects.toThrow(/no run at/);
  });
});
