// Logging to stderr with verbosity levels. stdout is reserved for program output (JSON, report paths).
// Every line is passed through mask() so secrets never reach the terminal or a log file.
import { mask } from './secrets.js';

export interface Logger {
  readonly verbosity: number;
  /** Normal progress line (verbosity ≥ 0). */
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Detail shown only at -v (1) or -vv (2). */
  v(level: number, msg: string): void;
}

export interface LoggerOptions {
  verbosity?: number;
  timestamps?: boolean;
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const verbosity = opts.verbosity ?? 0;
  const timestamps = opts.timestamps ?? !process.stderr.isTTY;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (prefix: string, msg: string) => {
    const stamp = timestamps ? new Date().toISOString().slice(11, 23) + ' ' : '';
    for (const line of mask(msg).split('\n')) write(`${stamp}${prefix}${line}`);
  };
  return {
    verbosity,
    info: (m) => emit('', m),
    warn: (m) => emit('warning: ', m),
    error: (m) => emit('', m),
    v: (level, m) => {
      if (verbosity >= level) emit('', m);
    },
  };
}

/** A logger that records lines, for tests. */
export function memoryLogger(verbosity = 2): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = createLogger({ verbosity, timestamps: false, write: (s) => lines.push(s) });
  return Object.assign(l, { lines });
}
