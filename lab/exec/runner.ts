// The command seam: everything that runs a program, on the host or on a node, goes through a Runner.
// No shell, ever: argv arrays. Failures become CommandError with where, escaped argv, exit code and
// the end of stderr; a non-zero exit the caller expects (allowExit) is returned as a value instead.
import { CommandError } from '../core/errors.js';
import { mask } from '../core/secrets.js';
import { quoteArgv } from './quote.js';

export interface RunOptions {
  /** Text for stdin (secrets go here, never into argv). */
  input?: string;
  /** Exit codes other than 0 that are answers, not failures. */
  allowExit?: readonly number[];
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  signal?: AbortSignal;
  /** Called with each chunk of stdout/stderr as it arrives (progress views). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface Runner {
  /** "host" or a node name; appears in every CommandError. */
  readonly where: string;
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
}

/** Builds the CommandError for a failed command (shared by local and SSH runners). */
export function commandFailed(where: string, argv: readonly string[], r: Partial<CommandResult> & { reason?: string }): CommandError {
  const command = mask(quoteArgv(argv));
  const what = r.reason ?? `exited with code ${r.exitCode}`;
  const last = mask((r.stderr ?? '').trim().split('\n').pop() ?? '');
  return new CommandError(`${argv[0]} ${what} on ${where}${last ? `: ${last}` : ''}`, {
    where,
    command,
    exitCode: r.exitCode,
    stderr: mask(r.stderr ?? ''),
  });
}

/** Checks a result against allowExit; returns it or throws the CommandError. */
export function checkResult(where: string, argv: readonly string[], r: CommandResult, opts: RunOptions = {}): CommandResult {
  if (r.exitCode === 0 || opts.allowExit?.includes(r.exitCode)) return r;
  throw commandFailed(where, argv, r);
}
