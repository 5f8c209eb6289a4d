// Test-only process runner shared by the harness helpers (labns, testhost, guest).
// Contract: run() resolves with the full stdout/stderr and exit code; it rejects on a non-zero exit
// (unless allowFail), on spawn errors and on timeout (the process gets SIGKILL first).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface RunOpts {
  input?: string;
  timeoutMs?: number; // default 120 s
  allowFail?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function run(argv: readonly string[], opts: RunOpts = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('run: empty argv'));
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`run ${argv.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitCode = code ?? 128 + (signal ? constants.signals[signal] : 0);
      if (timedOut) return reject(new Error(`run ${argv.join(' ')}: timed out after ${timeoutMs} ms\n${stderr}`));
      if (exitCode !== 0 && !opts.allowFail) {
        return reject(new Error(`run ${argv.join(' ')}: exit ${exitCode}${signal ? ` (${signal})` : ''}\n${stderr}${stdout}`));
      }
      resolve({ stdout, stderr, exitCode });
    });
    child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
    child.stdin.end(opts.input ?? '');
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls fn until it returns a non-undefined value; rejects with `what` after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}
