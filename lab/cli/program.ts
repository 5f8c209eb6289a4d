// The command tree, registered in one place. Each command lives in its own file and exports
// register(program, app); this list is the only place that knows them all.
import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { createApp, type AppContext } from './app.js';
import * as configCmd from './config.js';
import * as doctorCmd from './doctor.js';
import * as upCmd from './up.js';
import * as planCmd from './plan.js';
import * as downCmd from './down.js';
import * as statusCmd from './status.js';
import * as snapshotCmd from './snapshot.js';
import * as probeCmd from './probe.js';
import * as reportCmd from './report.js';
import * as failoverCmd from './failover.js';
import * as healCmd from './heal.js';

export interface CommandModule {
  register(program: Command, app: AppContext): void;
}

/** Every command pvelab offers, in help order. */
const COMMANDS: readonly CommandModule[] = [
  upCmd, // build or resume the lab
  planCmd, // what up would do
  downCmd, // remove the lab by its marks
  statusCmd, // the lab at a glance
  snapshotCmd, // golden snapshot save/list/rm and class reset
  failoverCmd, // break the lab on purpose and measure the recovery
  healCmd, // heal faults a failover run left behind
  probeCmd, // the HTTP outage probe on its own
  reportCmd, // re-render and aggregate failover runs
  doctorCmd, // host readiness, each problem with its fix
  configCmd, // show / schema / validate the lab file
];

export function version(): string {
  const require = createRequire(import.meta.url);
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      /* try the next layout (dist/lab/cli or lab/cli) */
    }
  }
  return '0.0.0';
}

export function buildProgram(signal: AbortSignal, print?: (t: string) => void): { program: Command; app: AppContext } {
  const program = new Command('pvelab');
  program
    .description('Build a nested 3-node Proxmox VE HA teaching lab on this machine, break it on purpose, and measure how fast it heals.')
    .version(version(), '--version', 'print the pvelab version')
    .addOption(new Option('-v, --verbose', 'more detail on stderr (-vv: every command run)').argParser((_v, prev: number) => prev + 1).default(0))
    .option('-c, --config <file>', 'lab file (default: ./lab.yaml if present, else the built-in default lab)')
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError('(run pvelab --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const app = createApp(program, signal, print);
  for (const c of COMMANDS) c.register(program, app);
  for (const sub of program.commands) sub.exitOverride();
  return { program, app };
}
