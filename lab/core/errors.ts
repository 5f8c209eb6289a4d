// The error hierarchy. Every error the user sees is a LabError: a message, an optional hint that names
// the fix, an optional cause, and the process exit code it maps to (0 ok, 1 failure, 2 usage/lab file).

export interface LabErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

/** Base class: a failure the tool understands. Exit code 1 unless a subclass says otherwise. */
export class LabError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number = 1;
  constructor(message: string, opts: LabErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

/** Bad arguments on the command line. Exit 2. */
export class UsageError extends LabError {
  override readonly exitCode = 2;
}

/** One problem in the lab file, with the field path that has it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** The lab file is malformed or inconsistent. Exit 2; nothing has been created. */
export class ConfigError extends LabError {
  override readonly exitCode = 2;
  readonly issues: readonly ConfigIssue[];
  readonly file: string | undefined;
  constructor(issues: readonly ConfigIssue[], opts: LabErrorOptions & { file?: string | undefined } = {}) {
    const where = opts.file ? `lab file ${opts.file}` : 'lab file';
    const first = issues[0];
    const head =
      issues.length === 1 && first
        ? `${where}: ${first.path}: ${first.message}`
        : `${where} has ${issues.length} problems:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`;
    super(head, opts);
    this.issues = issues;
    this.file = opts.file;
  }
}

/** The host is not ready for the lab (missing KVM, package, disk space…). The hint names the fix. */
export class PreflightError extends LabError {}

/** An external command failed. Carries what reproduces it. */
export class CommandError extends LabError {
  readonly where: string;
  readonly command: string;
  readonly exitCode_: number | undefined;
  readonly stderrTail: string;
  constructor(
    message: string,
    fields: { where: string; command: string; exitCode?: number | undefined; stderr?: string },
    opts: LabErrorOptions = {},
  ) {
    super(message, opts);
    this.where = fields.where;
    this.command = fields.command;
    this.exitCode_ = fields.exitCode;
    this.stderrTail = tail(fields.stderr ?? '', 20);
  }
}

/** A wait ran out. Says what was awaited, for how long, and what was last seen. */
export class TimeoutError extends LabError {
  readonly what: string;
  readonly waitedMs: number;
  readonly lastObserved: string | undefined;
  constructor(what: string, waitedMs: number, lastObserved?: string, opts: LabErrorOptions = {}) {
    const seen = lastObserved ? `; last seen: ${lastObserved}` : '';
    super(`timed out after ${formatMs(waitedMs)} waiting for ${what}${seen}`, opts);
    this.what = what;
    this.waitedMs = waitedMs;
    this.lastObserved = lastObserved;
  }
}

/** The run was interrupted (Ctrl-C). Exit 130. */
export class InterruptedError extends LabError {
  override readonly exitCode = 130;
}

/** Something that should never happen. */
export class InternalError extends LabError {
  constructor(message: string, opts: LabErrorOptions = {}) {
    super(`internal error: ${message}`, { hint: 'this is a bug in pvelab; please report it with the output of -vv', ...opts });
  }
}

/** Last `n` non-empty lines of a text. */
export function tail(text: string, n: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n).join('\n');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Exit code for any thrown value. */
export function exitCodeOf(err: unknown): number {
  return err instanceof LabError ? err.exitCode : 1;
}

/** Renders an error for the terminal: message, command details, hint; the cause chain only when verbose. */
export function formatError(err: unknown, verbose = 0): string {
  const out: string[] = [];
  if (err instanceof LabError) {
    out.push(`✗ ${err.message}`);
    if (err instanceof CommandError) {
      out.push(`  where: ${err.where}`, `  command: ${err.command}`);
      if (err.exitCode_ !== undefined) out.push(`  exit: ${err.exitCode_}`);
      if (err.stderrTail) out.push(`  stderr:\n${indent(err.stderrTail, '    ')}`);
    }
    if (err.hint) out.push(`  hint: ${err.hint}`);
  } else if (err instanceof Error) {
    out.push(`✗ ${err.message}`);
  } else {
    out.push(`✗ ${String(err)}`);
  }
  if (verbose > 0) {
    let cause = err instanceof Error ? err.cause : undefined;
    while (cause !== undefined) {
      out.push(`  caused by: ${cause instanceof Error ? cause.message : String(cause)}`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    if (verbose > 1 && err instanceof Error && err.stack) out.push(err.stack);
  }
  return out.join('\n');
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
