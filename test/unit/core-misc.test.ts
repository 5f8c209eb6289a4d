import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArg, quoteArgv } from '../../lab/exec/quote.js';
import { CommandError, ConfigError, formatError, TimeoutError, exitCodeOf, UsageError } from '../../lab/core/errors.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { registerSecret, clearSecrets } from '../../lab/core/secrets.js';
import { waitFor } from '../../lab/core/wait.js';
import { memoryLogger } from '../../lab/core/log.js';

describe('quote', () => {
  it.each(['plain', '', 'with space', "it's", '$(rm -rf /)', 'a"b', 'new\nline', '*', '--flag=x y'])('round-trips %j through sh', (arg) => {
    expect(execFileSync('sh', ['-c', `printf %s ${quoteArg(arg)}`]).toString()).toBe(arg);
  });
  it('joins argv', () => {
    expect(quoteArgv(['pvecm', 'add', '10.0.0.1', '--fingerprint', 'AA:BB'])).toBe('pvecm add 10.0.0.1 --fingerprint AA:BB');
  });
});

describe('errors and exit codes', () => {
  it('maps classes to exit codes', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(2);
    expect(exitCodeOf(new ConfigError([{ path: 'a', message: 'b' }]))).toBe(2);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
  it('formats a command failure with where, command, exit, stderr and hint', () => {
    const e = new CommandError('tgtadm failed', { where: 'host', command: 'tgtadm --op show', exitCode: 22, stderr: 'l1\nl2' }, { hint: 'start tgtd' });
    const s = formatError(e);
    expect(s).toContain('✗ tgtadm failed');
    expect(s).toContain('command: tgtadm --op show');
    expect(s).toContain('exit: 22');
    expect(s).toContain('l2');
    expect(s).toContain('hint: start tgtd');
  });
  it('shows the cause chain only when verbose', () => {
    const e = new TimeoutError('quorum', 5000, 'Quorate: No', { cause: new Error('inner') });
    expect(formatError(e)).not.toContain('inner');
    expect(formatError(e, 1)).toContain('caused by: inner');
  });
});

describe('LocalRunner', () => {
  it('returns output, passes stdin, and throws CommandError with the stderr tail', async () => {
    const r = new LocalRunner();
    expect((await r.run(['sh', '-c', 'cat'], { input: 'hello' })).stdout).toBe('hello');
    await expect(r.run(['sh', '-c', 'echo boom >&2; exit 3'])).rejects.toMatchObject({ exitCode_: 3, where: 'host', stderrTail: 'boom' });
    expect((await r.run(['sh', '-c', 'exit 1'], { allowExit: [1] })).exitCode).toBe(1);
    await expect(r.run(['no-such-program-xyz'])).rejects.toThrow(/not installed/);
  });
  it('masks secrets in -vv command logs and errors', async () => {
    clearSecrets();
    registerSecret('s3cr3t-pass');
    const log = memoryLogger(2);
    const r = new LocalRunner(log);
    await expect(r.run(['sh', '-c', 'echo s3cr3t-pass >&2; exit 1'])).rejects.toSatisfy((e: CommandError) => !e.message.includes('s3cr3t-pass') && !e.stderrTail.includes('s3cr3t-pass') && !e.command.includes('s3cr3t-pass'));
    expect(log.lines.join('\n')).not.toContain('s3cr3t-pass');
    expect(log.lines.join('\n')).toContain('••••••');
  });
});

describe('waitFor', () => {
  it('returns the value once the probe is done', async () => {
    let n = 0;
    expect(await waitFor(async () => (++n >= 3 ? { done: true, value: n } : { done: false, seen: `n=${n}` }), { what: 'n', timeoutMs: 5000, intervalMs: 1 })).toBe(3);
  });
  it('times out naming what it waited for and what it last saw', async () => {
    await expect(waitFor(async () => ({ done: false, seen: 'Quorate: No' }), { what: 'quorum', timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(/waiting for quorum; last seen: Quorate: No/);
  });
});
