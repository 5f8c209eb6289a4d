// Report rendering: ReportModel → Markdown and self-contained HTML (handlebars over templates/) and
// CSV (one row per trial). The only importer of handlebars for reports. Every output passes through
// mask(), so a secret that slipped into a record (a URL, a journal line) never reaches a report.
import Handlebars from 'handlebars';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mask } from '../core/secrets.js';
import type { Summary } from '../failover/stats.js';
import { BOUNDARIES, PHASES } from '../failover/timeline.js';
import type { ReportModel, TrialView } from './model.js';
import { downtimeSvg, phasesSvg, timelineSvg } from './svg.js';

/** templates/ of this installation (lab/report → ../../templates, dist/lab/report → ../../../templates). */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'templates', 'report.html.hbs'))) return join(dir, 'templates');
    dir = dirname(dir);
  }
  throw new Error('templates/report.html.hbs not found above lab/report');
}

const secs = (ms: number | null | undefined, digits = 2) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(digits)} s`);
const relSecs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${ms < 0 ? '−' : '+'}${(Math.abs(ms) / 1000).toFixed(2)} s`);

function helpers(hb: typeof Handlebars): void {
  hb.registerHelper('sec', (ms: number | null | undefined) => secs(ms));
  hb.registerHelper('rel', (ms: number | null | undefined) => relSecs(ms));
  hb.registerHelper('ms', (ms: number) => `${Math.round(ms)} ms`);
  hb.registerHelper('sd', (s: Summary) => (s.sd === null ? '' : ` ± ${secs(s.sd)}`));
  // Markdown table cells: no pipes, no newlines.
  hb.registerHelper('cell', (v: unknown) => String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' '));
}

let compiled: { html: HandlebarsTemplateDelegate; md: HandlebarsTemplateDelegate } | undefined;
function templates() {
  if (compiled) return compiled;
  const dir = templatesDir();
  const html = Handlebars.create();
  const md = Handlebars.create();
  helpers(html);
  helpers(md);
  compiled = {
    html: html.compile(readFileSync(join(dir, 'report.html.hbs'), 'utf8')),
    md: md.compile(readFileSync(join(dir, 'report.md.hbs'), 'utf8'), { noEscape: true }),
  };
  return compiled;
}

/** The template context: the model plus numbered trials, stat rows and (for HTML) the charts. */
function context(m: ReportModel, withCharts: boolean) {
  return {
    ...m,
    trialCount: m.trials.length,
    runCount: m.runs.length,
    downtimeSvg: withCharts ? downtimeSvg(m) : '',
    phasesSvg: withCharts ? phasesSvg(m) : '',
    kinds: m.kinds.map((k) => ({
      ...k,
      rows: [
        { label: 'downtime (last good → first good answer)', s: k.downtime },
        { label: 'downtime estimate (± 1 probe interval)', s: k.estimate },
        { label: 'fault → first good answer', s: k.recovery },
        { label: "fault → HA 'started' elsewhere", s: k.haRecovery },
        ...k.phases.map((p) => ({ label: `phase: ${p.label}`, s: p.summary, missing: p.missing })),
      ],
    })),
    trials: m.trials.map((t, i) => trialContext(t, i + 1, withCharts ? timelineSvg(t, m.phases) : '')),
  };
}

function trialContext(t: TrialView, n: number, svg: string) {
  const tl = t.timeline;
  return {
    ...t,
    n,
    svg,
    tl,
    nodeBefore: tl.nodeBefore ?? 'unknown',
    nodeAfter: tl.nodeAfter ?? 'unknown',
    boundaries: tl.boundaries.map((b, i) => ({ ...b, n: i + 1, alsoText: b.also.map((o) => `${o.text} (${relSecs(o.t - tl.injectedAt)})`).join('; ') })),
    laterOutages: tl.laterOutages.map((o) => ({ start: relSecs(o.startMs - tl.injectedAt), ms: o.downtimeMs ?? o.lowerMs })),
  };
}

export function renderHtml(m: ReportModel): string {
  return mask(templates().html(context(m, true)));
}

export function renderMarkdown(m: ReportModel): string {
  return mask(templates().md(context(m, false)));
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV, one row per trial; times in seconds since the fault, durations in seconds, empty when unknown. */
export function renderCsv(m: ReportModel): string {
  const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : ms / 1000);
  const header = [
    'run_id', 'trial', 'fault_kind', 'target', 'service', 'node_before', 'node_after', 'outcome', 'fault_at_utc', 'probe_interval_s',
    'downtime_s', 'downtime_estimate_s', 'downtime_lower_s', 'recovery_s', 'ha_recovery_s',
    ...BOUNDARIES.flatMap((b) => [`${b.id}_s`, `${b.id}_source`]),
    ...PHASES.map((p) => `${p.id}_s`),
    'later_outages', 'notes',
  ];
  const rows = m.trials.map((t) => {
    const tl = t.timeline;
    return [
      t.runId, tl.trial, tl.faultKind, tl.target, tl.sid, tl.nodeBefore, tl.nodeAfter, tl.outcome, t.injectedIso, s(tl.probeIntervalMs),
      s(tl.downtime.ms), s(tl.downtime.estimateMs), s(tl.downtime.lowerMs), s(tl.recoveryMs), s(tl.haRecoveryMs),
      ...tl.boundaries.flatMap((b) => [s(b.sinceInjectMs), b.source ? b.source.text : `missing: ${b.reason ?? ''}`]),
      ...tl.phases.map((p) => s(p.ms)),
      tl.laterOutages.length, [tl.downtime.reason, ...tl.notes].filter(Boolean).join('; '),
    ];
  });
  return mask([header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n');
}
