// What every command gets: global options, the logger, the host runner, the interrupt signal, and
// lazy access to the lab (lab file or built-in default → resolved Lab + names + state).
import type { Command } from 'commander';
import { createLogger, type Logger } from '../core/log.js';
import { LabState } from '../core/state.js';
import type { Services, Step, StepContext } from '../core/step.js';
import { LocalRunner } from '../exec/local.js';
import type { Runner } from '../exec/runner.js';
import { defaultLab, readLabFile, resolveLab } from '../config/load.js';
import { hostRoutes } from '../doctor/facts.js';
import { labNames, type Lab, type LabNames } from '../config/names.js';
import type { LabSpec } from '../config/schema.js';

export interface GlobalOptions {
  verbose: number;
  config?: string;
  json?: boolean;
}

export interface LoadedLab {
  spec: LabSpec;
  lab: Lab;
  names: LabNames;
  state: LabState;
  /** Where the lab came from: a file path or "built-in default". */
  source: string;
}

export interface AppContext {
  readonly log: Logger;
  readonly host: Runner;
  readonly signal: AbortSignal;
  options(): GlobalOptions;
  /** Output for stdout (program output only). */
  print(text: string): void;
  /** Reads, validates and resolves the lab (once). */
  loadLab(): Promise<LoadedLab>;
  /** Builds a StepContext for running steps against the loaded lab. */
  stepContext(loaded: LoadedLab, services: Partial<Services>, opts?: { dryRun?: boolean; keepCache?: boolean }): (step: Step, progress: (t: string) => void) => StepContext;
}

export function createApp(program: Command, signal: AbortSignal, print: (t: string) => void = (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n')): AppContext {
  const options = () => program.opts<GlobalOptions>();
  let log: Logger | undefined;
  const getLog = () => (log ??= createLogger({ verbosity: options().verbose ?? 0 }));
  let host: Runner | undefined;
  let loaded: Promise<LoadedLab> | undefined;
  const app: AppContext = {
    get log() { return getLog(); },
    get host() { return (host ??= new LocalRunner(getLog())); },
    signal,
    options,
    print,
    loadLab() {
      return (loaded ??= (async () => {
        const file = options().config ?? (await exists('lab.yaml') ? 'lab.yaml' : undefined);
        const spec = file ? await readLabFile(file) : defaultLab();
        const probeNames = labNames({ ...spec, network: { ...spec.network, cidr: '10.0.0.0/24' } });
        const state = new LabState(probeNames.stateDir, spec.name);
        const previous = (await state.readJournal())?.cidr;
        const lab = resolveLab(spec, await hostRoutes(app.host), previous);
        return { spec, lab, names: labNames(lab), state, source: file ?? 'built-in default' };
      })());
    },
    stepContext(l, services, opts = {}) {
      return (_step, progress) => ({
        lab: l.lab,
        names: l.names,
        log: getLog(),
        host: app.host,
        state: l.state,
        signal,
        services,
        progress,
        dryRun: opts.dryRun ?? false,
        keepCache: opts.keepCache ?? false,
      });
    },
  };
  return app;
}

async function exists(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return stat(path).then(() => true, () => false);
}
