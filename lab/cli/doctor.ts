// pvelab doctor: is this host ready for the lab? A table on a TTY, JSON otherwise (or with --json);
// exit 1 when anything blocks `pvelab up`.
import type { Command } from 'commander';
import type { AppContext } from './app.js';
import { blocking, runChecks, type DoctorCheck } from '../doctor/checks.js';
import { gatherFacts, hostRoutes } from '../doctor/facts.js';

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

export function renderTable(rows: readonly DoctorCheck[]): string {
  const w = Math.max(...rows.map((r) => r.title.length));
  const lines = rows.map((r) => {
    const head = `${MARK[r.status]} ${r.title.padEnd(w)}  ${r.detail}`;
    return r.fix && r.status !== 'ok' ? `${head}\n  ${' '.repeat(w)}  fix: ${r.fix}` : head;
  });
  const bad = blocking(rows).length;
  lines.push('', bad === 0 ? 'ready: nothing blocks `pvelab up`' : `${bad} problem${bad > 1 ? 's' : ''} block \`pvelab up\`; fix the lines marked ✗`);
  return lines.join('\n');
}

export async function doctorRows(app: AppContext): Promise<DoctorCheck[]> {
  const l = await app.loadLab();
  return runChecks(await gatherFacts(l.lab, l.names, await hostRoutes(app.host)), l.lab, l.names);
}

export function register(program: Command, app: AppContext): void {
  program
    .command('doctor')
    .description('check this host for the lab: KVM, nested virtualisation, RAM, disk, packages, port 3260, subnet (each problem with its fix)')
    .action(async () => {
      const rows = await doctorRows(app);
      const json = app.options().json ?? !process.stdout.isTTY;
      app.print(json ? JSON.stringify({ ready: blocking(rows).length === 0, checks: rows }, null, 2) : renderTable(rows));
      if (blocking(rows).length > 0) process.exitCode = 1;
    });
}
