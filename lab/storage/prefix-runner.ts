// A Runner that runs every argv behind a fixed prefix on another Runner, e.g. inside a namespace:
//   new PrefixRunner(new LocalRunner(), ['nsenter', '-t', pid, '-p', '-m', '-n', '--'], 'ns')
// Errors keep the caller's argv (without the prefix) in their message, so they read like host errors.
import { CommandError } from '../core/errors.js';
import type { CommandResult, RunOptions, Runner } from '../exec/runner.js';

export class PrefixRunner implements Runner {
  constructor(
    private readonly inner: Runner,
    private readonly prefix: readonly string[],
    readonly where: string,
  ) {}

  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult> {
    return this.inner.run([...this.prefix, ...argv], opts).catch((err: unknown) => {
      if (err instanceof CommandError)
        throw new CommandError(err.message.replace(/^\S+/, argv[0] ?? ''), { where: this.where, command: err.command, exitCode: err.exitCode_, stderr: err.stderrTail }, { cause: err });
      throw err;
    });
  }
}

/** Runner inside the PID+mount+net namespaces of process `pid` (the test harness's lab namespace). */
export function nsRunner(inner: Runner, pid: number, where = `ns:${pid}`): PrefixRunner {
  return new PrefixRunner(inner, ['nsenter', '-t', String(pid), '-p', '-m', '-n', '--'], where);
}
