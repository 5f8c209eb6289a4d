// SVG charts for the HTML report. Pure string builders; every text passes through esc(). No external
// references (no xmlns URL, no fonts, no images): the SVG is inlined in HTML5, which needs none.
// Phase bands use the PHASES colours everywhere; other marks use greys and kind colours that never
// coincide with a phase colour (the Chromium test looks for the phase colours in the charts).
import type { ReportModel, TrialView } from './model.js';

export const KIND_COLORS = ['#3b3b98', '#8c564b', '#e377c2', '#6d6875'];
export const OK_COLOR = '#66bb6a';
export const FAIL_COLOR = '#b71c1c';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const n = (x: number) => (Math.round(x * 10) / 10).toString();
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** A linear scale [d0,d1] → [r0,r1]. */
function scale(d0: number, d1: number, r0: number, r1: number) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x: number) => r0 + (x - d0) * k;
}

/** "Nice" tick step for a span in ms (1, 2, 5 × 10^k seconds). */
function tickStep(spanMs: number, target = 8): number {
  const raw = spanMs / target;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

function axis(x: (v: number) => number, d0: number, d1: number, y: number, height: number): string {
  const step = tickStep(d1 - d0);
  const out: string[] = [];
  for (let v = Math.ceil(d0 / step) * step; v <= d1; v += step) {
    out.push(`<line x1="${n(x(v))}" x2="${n(x(v))}" y1="${y}" y2="${y + height}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${n(x(v))}" y="${y + height + 12}" font-size="10" text-anchor="middle" fill="#555">${esc(`${v / 1000}`)}s</text>`);
  }
  return out.join('');
}

function legend(items: ReadonlyArray<{ label: string; color: string }>, y: number, x0 = 10): string {
  let x = x0;
  return items
    .map((it) => {
      const w = 16 + it.label.length * 6 + 14;
      const s = `<rect x="${x}" y="${y}" width="12" height="12" fill="${it.color}"/><text x="${x + 16}" y="${y + 10}" font-size="11" fill="#333">${esc(it.label)}</text>`;
      x += w;
      return s;
    })
    .join('');
}

/** Timeline of one trial: phase bands, boundary markers, HTTP strip, extra events. */
export function timelineSvg(t: TrialView, phases: ReportModel['phases'], width = 1100): string {
  const tl = t.timeline;
  const rel = (ms: number | null | undefined) => (ms === null || ms === undefined ? [] : [ms]);
  const o = tl.downtime.outage;
  const last = Math.max(
    1000,
    ...tl.boundaries.flatMap((b) => rel(b.sinceInjectMs)),
    ...(o ? [o.lastFail.at - tl.injectedAt] : []),
    ...(o && !o.firstGood ? t.probes.map((p) => p.toMs) : []),
  );
  const d0 = -0.06 * last;
  const d1 = 1.06 * last;
  const left = 130;
  const x = scale(d0, d1, left, width - 20);
  const clip = (v: number) => Math.min(Math.max(v, d0), d1);
  const parts: string[] = [];
  const bandY = 30;
  const bandH = 34;
  const stripY = bandY + bandH + 12;
  const evY = stripY + 24;
  parts.push(axis(x, d0, d1, bandY - 4, evY + 14 - (bandY - 4)));
  parts.push(`<text x="4" y="${bandY + 21}" font-size="11" fill="#333">HA phases</text>`);
  for (const p of tl.phases) {
    const a = tl.boundaries.find((b) => b.id === p.from)?.sinceInjectMs;
    const b = tl.boundaries.find((b2) => b2.id === p.to)?.sinceInjectMs;
    const color = phases.find((ph) => ph.id === p.id)?.color ?? '#999';
    if (p.ms === null || a === null || b === null || a === undefined || b === undefined) continue;
    const x0 = x(clip(a));
    const w = Math.max(x(clip(b)) - x0, p.ms > 0 ? 1 : 0);
    parts.push(`<rect class="phase" data-phase="${p.id}" x="${n(x0)}" y="${bandY}" width="${n(w)}" height="${bandH}" fill="${color}"><title>${esc(`${p.label}: ${secs(p.ms)}`)}</title></rect>`);
  }
  tl.boundaries.forEach((b, i) => {
    if (b.sinceInjectMs === null) return;
    const bx = n(x(clip(b.sinceInjectMs)));
    parts.push(`<line x1="${bx}" x2="${bx}" y1="${bandY - 4}" y2="${bandY + bandH + 40}" stroke="#222" stroke-dasharray="2,2"/>`);
    parts.push(`<text x="${bx}" y="${bandY - 7 - (i % 2) * 11}" font-size="10" text-anchor="middle" fill="#222">${esc(`${i + 1}`)}<title>${esc(b.label)}</title></text>`);
  });
  parts.push(`<text x="4" y="${stripY + 11}" font-size="11" fill="#333">HTTP probes</text>`);
  for (const s of t.probes) {
    const x0 = x(clip(s.fromMs));
    const w = Math.max(x(clip(s.toMs)) - x0, 1.5);
    parts.push(`<rect x="${n(x0)}" y="${stripY}" width="${n(w)}" height="14" fill="${s.ok ? OK_COLOR : FAIL_COLOR}"><title>${esc(`${s.ok ? 'answered' : 'failed'}: ${s.probes} probes`)}</title></rect>`);
  }
  parts.push(`<text x="4" y="${evY + 10}" font-size="11" fill="#333">other events</text>`);
  for (const e of tl.events) {
    const v = e.t - tl.injectedAt;
    if (v < d0 || v > d1) continue;
    parts.push(`<path d="M${n(x(v))} ${evY} l4 10 h-8 z" fill="#555"><title>${esc(e.text)}</title></path>`);
  }
  const h = evY + 50;
  parts.push(legend(phases, h - 16));
  const label = `${t.key}: ${tl.faultKind} on ${tl.target}`;
  return `<svg class="chart timeline" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="${esc(label)}">${parts.join('')}</svg>`;
}

/** Downtime per trial: one bar each, coloured by fault kind; trials without a measurement say n/a. */
export function downtimeSvg(m: ReportModel, width = 1100): string {
  const kinds = m.kinds.map((k) => k.faultKind);
  const color = (k: string) => KIND_COLORS[kinds.indexOf(k) % KIND_COLORS.length]!;
  const vals = m.trials.map((t) => t.timeline.downtime.ms);
  const max = Math.max(1000, ...vals.map((v) => v ?? 0));
  const top = 20;
  const plotH = 200;
  const left = 50;
  const slot = (width - left - 10) / Math.max(1, m.trials.length);
  const y = scale(0, max, top + plotH, top);
  const parts: string[] = [];
  const step = tickStep(max, 5);
  for (let v = 0; v <= max; v += step) {
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="#e0e0e0"/><text x="${left - 4}" y="${n(y(v) + 3)}" font-size="10" text-anchor="end" fill="#555">${v / 1000}s</text>`);
  }
  m.trials.forEach((t, i) => {
    const v = t.timeline.downtime.ms;
    const bx = left + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    if (v === null) {
      parts.push(`<text x="${n(bx + bw / 2)}" y="${top + plotH - 4}" font-size="10" text-anchor="middle" fill="#555">n/a<title>${esc(t.timeline.downtime.reason ?? '')}</title></text>`);
    } else {
      parts.push(`<rect class="bar" x="${n(bx)}" y="${n(y(v))}" width="${n(bw)}" height="${n(top + plotH - y(v))}" fill="${color(t.timeline.faultKind)}"><title>${esc(`${t.key}: ${secs(v)}`)}</title></rect>`);
      parts.push(`<text x="${n(bx + bw / 2)}" y="${n(y(v) - 3)}" font-size="10" text-anchor="middle" fill="#222">${esc(secs(v))}</text>`);
    }
    parts.push(`<text x="${n(bx + bw / 2)}" y="${top + plotH + 13}" font-size="10" text-anchor="middle" fill="#333">${esc(`#${i + 1}`)}</text>`);
  });
  const h = top + plotH + 40;
  parts.push(legend(kinds.map((k) => ({ label: k, color: color(k) })), h - 14, left));
  return `<svg class="chart downtime" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="downtime per trial">${parts.join('')}</svg>`;
}

/** Phase breakdown: per fault kind the median of each phase, then one row per trial; bands at their times. */
export function phasesSvg(m: ReportModel, width = 1100): string {
  type Row = { label: string; bands: Array<{ id: string; from: number; ms: number }> };
  const rows: Row[] = [];
  for (const k of m.kinds) {
    let acc = 0;
    const bands = k.phases.flatMap((p) => {
      if (!p.summary) return [];
      const b = { id: p.id, from: acc, ms: p.summary.median };
      acc += p.summary.median;
      return [b];
    });
    rows.push({ label: `${k.faultKind} (median)`, bands });
  }
  m.trials.forEach((t, i) => {
    const at = (id: string) => t.timeline.boundaries.find((b) => b.id === id)?.sinceInjectMs ?? null;
    const bands = t.timeline.phases.flatMap((p) => (p.ms === null || at(p.from) === null ? [] : [{ id: p.id, from: at(p.from)!, ms: p.ms }]));
    rows.push({ label: `#${i + 1} ${t.timeline.faultKind}`, bands });
  });
  const max = Math.max(1000, ...rows.flatMap((r) => r.bands.map((b) => b.from + b.ms)));
  const left = 170;
  const rowH = 22;
  const top = 10;
  const x = scale(0, max, left, width - 20);
  const parts: string[] = [axis(x, 0, max, top, rows.length * rowH)];
  rows.forEach((r, i) => {
    const ry = top + i * rowH + 3;
    parts.push(`<text x="4" y="${ry + 12}" font-size="11" fill="#333">${esc(r.label)}</text>`);
    for (const b of r.bands) {
      const color = m.phases.find((p) => p.id === b.id)?.color ?? '#999';
      const label = m.phases.find((p) => p.id === b.id)?.label ?? b.id;
      parts.push(`<rect class="phase" data-phase="${b.id}" x="${n(x(b.from))}" y="${ry}" width="${n(Math.max(x(b.from + b.ms) - x(b.from), b.ms > 0 ? 1 : 0))}" height="${rowH - 6}" fill="${color}"><title>${esc(`${label}: ${secs(b.ms)}`)}</title></rect>`);
    }
  });
  const h = top + rows.length * rowH + 40;
  parts.push(legend(m.phases, h - 14));
  return `<svg class="chart phases" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="phase breakdown">${parts.join('')}</svg>`;
}
