// POSIX shell quoting for the one place a command line must be a string (ssh2 exec) and for
// printing copy-pasteable commands in errors and -vv logs.

const SAFE = /^[A-Za-z0-9_\/.,:=@%+-]+$/;

/** Quotes one argument so a POSIX shell reads it back unchanged. */
export function quoteArg(arg: string): string {
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one shell command line. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}
