// Runner for a lab node over SSH: argv → one POSIX-quoted command line (the remote login shell parses
// it back into exactly that argv), so node commands fail with the same CommandError shape as host ones.
// Secrets travel on stdin only; the -vv log line shows the masked argv, never the input.
import { CommandError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { mask } from '../core/secrets.js';
import { quoteArg, quoteArgv } from '../exec/quote.js';
import { type CommandResult, type RunOptions, type Runner, checkResult, commandFailed } from '../exec/runner.js';
import { HostKeyMismatchError } from './known-hosts.js';
import { type SshExec, SshConnectError } from './client.js';

/** The exact command line sent for argv + options (env via `env`, cwd via `cd`). Never put secrets in env. */
export function remoteCommand(argv: readonly string[], opts: Pick<RunOptions, 'env' | 'cwd'> = {}): string {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const line = quoteArgv(env.length ? ['env', ...env, ...argv] : argv);
  return opts.cwd ? `cd ${quoteArg(opts.cwd)} && ${line}` : line;
}

export class SshRunner implements Runner {
  constructor(private readonly ssh: SshExec, readonly where: string, private readonly log?: Logger) {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    if (!argv[0]) throw new Error('empty argv');
    const t0 = performance.now();
    let r;
    try {
      r = await this.ssh.exec(this.where, remoteCommand(argv, opts), { input: opts.input, onOutput: opts.onOutput, signal: opts.signal, timeoutMs: opts.timeoutMs });
    } catch (err) {
      if (err instanceof HostKeyMismatchError) throw err;
      const msg = mask(err instanceof Error ? err.message : String(err));
      const failed = commandFailed(this.where, argv, { reason: err instanceof SshConnectError ? `was not run: ${msg}` : `did not complete: ${msg}` });
      throw new CommandError(failed.message, { where: failed.where, command: failed.command }, { cause: err, hint: err instanceof SshConnectError ? err.hint : undefined });
    }
    const ms = Math.round(performance.now() - t0);
    this.log?.v(2, `$ [${this.where}] ${mask(quoteArgv(argv))}  (${ms} ms, exit ${r.exitCode ?? `signal ${r.signal}`})`);
    if (r.exitCode === null) throw commandFailed(this.where, argv, { stderr: r.stderr, reason: `was killed by signal ${r.signal ?? '?'}` });
    return checkResult(this.where, argv, { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }, opts);
  }
}
