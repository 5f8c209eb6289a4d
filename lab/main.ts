#!/usr/bin/env node
// pvelab entry point: builds the command tree, runs it, maps every error to one message and an
// exit code (0 ok, 1 failure, 2 usage or lab-file error, 130 interrupted).
import { CommanderError } from 'commander';
import { exitCodeOf, formatError } from './core/errors.js';
import { mask } from './core/secrets.js';
import { buildProgram } from './cli/program.js';

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\n${sig}: stopping after the current action and healing what pvelab changed (press Ctrl-C again to force)\n`);
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const { program, app } = buildProgram(controller.signal);
  try {
    await program.parseAsync(argv);
    return process.exitCode !== undefined ? Number(process.exitCode) : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version, or a usage error)
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    const verbose = program.opts<{ verbose?: number }>().verbose ?? 0;
    process.stderr.write(mask(formatError(err, verbose)) + '\n');
    void app;
    return exitCodeOf(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
