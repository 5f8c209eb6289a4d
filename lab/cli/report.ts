// pvelab report [RUN…] [--runs-dir DIR] [--out DIR]
// Re-renders reports from run records, without a lab. No RUN: the latest run under --runs-dir. One RUN:
// its report is rewritten in its directory (unless --out). Several: their trials are aggregated into one
// report in --out (default <runs-dir>/report-<time>). Prints the files written (stdout).
import type { Command } from 'commander';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { runId } from '../failover/record.js';
import { listRuns, readRun, writeReport } from '../report/write.js';
import type { AppContext } from './app.js';

export interface ReportCliOptions {
  runsDir: string;
  out?: string;
  label?: string;
}

export function register(program: Command, app: AppContext): void {
  program
    .command('report [runs...]')
    .description('re-render the report of a run (default: the latest), or aggregate several runs into one report')
    .option('--runs-dir <dir>', 'where runs are stored', 'runs')
    .option('--out <dir>', 'write the report here instead of the run directory')
    .option('--label <text>', 'a line shown under the title (e.g. the class and date)')
    .action(async (runs: string[], opts: ReportCliOptions) => {
      await reportCommand(runs, opts, app);
    });
}

export async function reportCommand(runs: readonly string[], opts: ReportCliOptions, app: AppContext): Promise<{ dir: string; files: string[] }> {
  let paths = [...runs];
  if (paths.length === 0) {
    const all = await listRuns(opts.runsDir);
    const latest = all[all.length - 1];
    if (!latest) throw new UsageError(`no runs under ${opts.runsDir}`, { hint: 'run `pvelab failover …` first, or pass a run directory' });
    paths = [latest];
  }
  const read = [];
  for (const p of paths) read.push(await readRun(p));
  const dir = opts.out ?? (read.length === 1 ? read[0]!.dir : join(opts.runsDir, `report-${runId(Date.now())}`));
  const w = await writeReport(dir, read.map((r) => r.record), undefined, opts.label);
  if (app.options().json) {
    app.print(
      JSON.stringify(
        {
          dir: w.dir,
          files: w.files,
          runs: read.map((r) => r.record.id),
          trials: w.model.trials.length,
          kinds: w.model.kinds.map((k) => ({ faultKind: k.faultKind, trials: k.trials, recovered: k.recovered, downtimeMs: k.downtime })),
        },
        null,
        2,
      ),
    );
  } else {
    app.log.info(`report of ${read.length} run(s), ${w.model.trials.length} trial(s)`);
    for (const f of w.files) app.print(f);
  }
  return { dir: w.dir, files: w.files };
}
