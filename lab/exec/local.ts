// Runner for the host, on execa. The only module that imports execa.
import { execa } from 'execa';
import type { Logger } from '../core/log.js';
import { mask } from '../core/secrets.js';
import { quoteArgv } from './quote.js';
import { type CommandResult, type RunOptions, type Runner, checkResult, commandFailed } from './runner.js';

export class LocalRunner implements Runner {
  readonly where = 'host';
  constructor(private readonly log?: Logger) {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) throw new Error('empty argv');
    const started = performance.now();
    const sub = execa(file, args, {
      reject: false,
      input: opts.input,
      stdin: opts.input === undefined ? 'ignore' : undefined,
      timeout: opts.timeoutMs,
      env: opts.env,
      cwd: opts.cwd,
      cancelSignal: opts.signal,
      stripFinalNewline: false,
      encoding: 'utf8',
    });
    if (opts.onOutput) {
      sub.stdout?.on('data', (d: Buffer) => opts.onOutput!(d.toString(), 'stdout'));
      sub.stderr?.on('data', (d: Buffer) => opts.onOutput!(d.toString(), 'stderr'));
    }
    const r = await sub;
    const ms = Math.round(performance.now() - started);
    this.log?.v(2, `$ ${mask(quoteArgv(argv))}  (${ms} ms, exit ${r.exitCode ?? r.signal})`);
    if (this.log && this.log.verbosity >= 3 && r.stdout) this.log.v(3, mask(String(r.stdout)));
    if (r.failed && r.exitCode === undefined) {
      const reason = r.timedOut ? `timed out after ${opts.timeoutMs} ms` : r.isCanceled ? 'was cancelled' : r.code === 'ENOENT' ? 'is not installed (not found in PATH)' : `failed: ${r.shortMessage}`;
      throw commandFailed(this.where, argv, { stderr: String(r.stderr ?? ''), reason });
    }
    return checkResult(this.where, argv, { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode ?? 1 }, opts);
  }
}
