// Run directories: runs/<id>/{run.json, trials.csv, report.md, report.html}. run.json is the raw record
// (the source of truth); the other three are derived and can be re-rendered at any time.
// Writes are atomic (temp + rename) and masked: no registered secret reaches a file.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { LabError, UsageError } from '../core/errors.js';
import { mask } from '../core/secrets.js';
import { writeFileAtomic } from '../core/state.js';
import { parseRunRecord, runRecordSchema, type RunRecord } from '../failover/record.js';
import { buildReport, type ReportModel } from './model.js';
import { renderCsv, renderHtml, renderMarkdown } from './render.js';

export const RUN_FILE = 'run.json';
export const REPORT_FILES = { csv: 'trials.csv', md: 'report.md', html: 'report.html' } as const;

export interface WrittenReport {
  dir: string;
  files: string[];
  model: ReportModel;
}

/** Writes the three report files for `runs` into `dir`. */
export async function writeReport(dir: string, runs: readonly RunRecord[], generatedAt = new Date().toISOString(), label?: string): Promise<WrittenReport> {
  const model = buildReport(runs, generatedAt, label);
  const files = [join(dir, REPORT_FILES.csv), join(dir, REPORT_FILES.md), join(dir, REPORT_FILES.html)];
  await writeFileAtomic(files[0]!, renderCsv(model));
  await writeFileAtomic(files[1]!, renderMarkdown(model));
  await writeFileAtomic(files[2]!, renderHtml(model));
  return { dir, files, model };
}

/** Validates and writes a run: runsDir/<record.id>/run.json plus its report. Returns the directory. */
export async function writeRunDir(record: RunRecord, runsDir = 'runs'): Promise<WrittenReport> {
  const checked = runRecordSchema.parse(record);
  const dir = resolve(runsDir, checked.id);
  const json = join(dir, RUN_FILE);
  await writeFileAtomic(json, mask(JSON.stringify(checked)) + '\n');
  const r = await writeReport(dir, [checked]);
  return { ...r, files: [json, ...r.files] };
}

/** Reads a run from a run directory or a run.json path. */
export async function readRun(path: string): Promise<{ dir: string; record: RunRecord }> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UsageError(`no run at ${path}`, { hint: 'pass a directory under runs/ (or its run.json); `pvelab report` with no argument uses the latest run' });
  const file = st.isDirectory() ? join(path, RUN_FILE) : path;
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new LabError(`cannot read ${file}: ${err.code ?? err.message}`, { hint: 'a run directory holds run.json written by `pvelab failover`', cause: err });
  });
  return { dir: st.isDirectory() ? resolve(path) : resolve(path, '..'), record: parseRunRecord(text, file) };
}

/** Run directories under runsDir (those holding a run.json), oldest first by name (ids sort by time). */
export async function listRuns(runsDir = 'runs'): Promise<string[]> {
  const entries = await readdir(runsDir, { withFileTypes: true }).catch(() => []);
  const dirs: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = join(runsDir, e.name);
    if (await stat(join(p, RUN_FILE)).then(() => true, () => false)) dirs.push(p);
  }
  return dirs.sort((a, b) => basename(a).localeCompare(basename(b)));
}
