// SSH layer without a server: known_hosts pinning, the exact command line sent for an argv (checked by
// letting a real POSIX shell parse it back), and the SshRunner's error shape, masking and stdin.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError } from '../../lab/core/errors.js';
import { memoryLogger } from '../../lab/core/log.js';
import { clearSecrets, registerSecret } from '../../lab/core/secrets.js';
import { LocalRunner } from '../../lab/exec/local.js';
import { type ExecOptions, type ExecResult, type SshExec, SshConnectError } from '../../lab/ssh/client.js';
import { HostKeyMismatchError, hostKeyFromBlob, parseKnownHosts, pinnedKey, readKnownHosts, removePin, writePin } from '../../lab/ssh/known-hosts.js';
import { SshRunner, remoteCommand } from '../../lab/ssh/runner.js';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIE0l2xXo7R3Yx8bX1Tq3oJ8Qe0W6mP4x0ZsBf3oQm3mU';

describe('known_hosts pins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pvelab-kh-'));
  const path = join(dir, 'ssh', 'known_hosts');

  it('reads the key type from the wire blob', () => {
    expect(hostKeyFromBlob(Buffer.from(ED, 'base64'))).toEqual({ type: 'ssh-ed25519', base64: ED });
    expect(() => hostKeyFromBlob(Buffer.from([0, 0, 1, 0, 65]))).toThrow(/malformed/);
  });

  it('pins one line per node in OpenSSH format, 0600, and re-pins by replacing it', async () => {
    await writePin(path, 'pve1', '10.77.0.11', { type: 'ssh-ed25519', base64: ED });
    await writePin(path, 'pve2', '10.77.0.12', { type: 'ssh-ed25519', base64: 'BBBB' });
    await writePin(path, 'pve1', '10.77.0.11', { type: 'ssh-rsa', base64: 'CCCC' });
    expect(readFileSync(path, 'utf8')).toBe(`pve2,10.77.0.12 ssh-ed25519 BBBB\npve1,10.77.0.11 ssh-rsa CCCC\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(pinnedKey(await readKnownHosts(path), 'pve1')).toEqual({ type: 'ssh-rsa', base64: 'CCCC' });
    await removePin(path, 'pve1');
    expect(pinnedKey(await readKnownHosts(path), 'pve1')).toBeUndefined();
    expect(pinnedKey(await readKnownHosts(path), 'pve2')).toBeDefined();
  });

  it('skips comments, hashed and marker lines', () => {
    expect(parseKnownHosts(`# c\n|1|abc|def ssh-ed25519 X\n@revoked * ssh-rsa Y\n\nh1,1.2.3.4 ssh-ed25519 Z\n`)).toEqual([{ hosts: ['h1', '1.2.3.4'], key: { type: 'ssh-ed25519', base64: 'Z' } }]);
  });

  it('a mismatch names the fix', () => {
    const e = new HostKeyMismatchError('pve2', '10.77.0.12', '/s/known_hosts', { type: 'ssh-ed25519', base64: 'A' }, { type: 'ssh-ed25519', base64: 'B' });
    expect(e.message).toMatch(/host key of pve2 \(10\.77\.0\.12\) does not match/);
    expect(e.hint).toContain('ssh-keygen -R pve2 -f /s/known_hosts');
  });
});

describe('remote command line', () => {
  const sh = new LocalRunner();
  const tricky = ['printf', '%s|', "it's", 'a b', '$HOME', '`id`', 'x;y', '"q"', '', 'ü*?', 'a\nb'];

  it('a POSIX shell parses it back into exactly the argv', async () => {
    const r = await sh.run(['sh', '-c', remoteCommand(tricky)]);
    expect(r.stdout).toBe(tricky.slice(2).map((a) => `${a}|`).join(''));
  });

  it('env and cwd are prefixed as commands, still one shell-safe line', async () => {
    const line = remoteCommand(['sh', '-c', 'printf "%s %s" "$A" "$(pwd)"'], { env: { A: 'x y' }, cwd: '/tmp' });
    expect(line).toBe(`cd /tmp && env 'A=x y' sh -c 'printf "%s %s" "$A" "$(pwd)"'`);
    expect((await sh.run(['sh', '-c', line])).stdout).toBe('x y /tmp');
  });
});

class FakeExec implements SshExec {
  calls: { node: string; command: string; opts: ExecOptions }[] = [];
  constructor(private readonly answer: (command: string, opts: ExecOptions) => Promise<ExecResult>) {}
  exec(node: string, command: string, opts: ExecOptions = {}) {
    this.calls.push({ node, command, opts });
    return this.answer(command, opts);
  }
}

describe('SshRunner', () => {
  afterEach(() => clearSecrets());

  it('fails with the same CommandError shape as the host runner', async () => {
    const local = (await new LocalRunner().run(['sh', '-c', 'echo oops >&2; exit 3']).catch((e: unknown) => e)) as CommandError;
    const ssh = new SshRunner(new FakeExec(async () => ({ stdout: '', stderr: 'oops\n', exitCode: 3 })), 'pve1');
    const remote = (await ssh.run(['sh', '-c', 'echo oops >&2; exit 3']).catch((e: unknown) => e)) as CommandError;
    expect(remote).toBeInstanceOf(CommandError);
    expect(local).toBeInstanceOf(CommandError);
    expect(remote.message).toBe(local.message.replace('on host', 'on pve1'));
    expect([remote.where, remote.command, remote.exitCode_, remote.stderrTail]).toEqual(['pve1', local.command, 3, 'oops']);
  });

  it('sends stdin as input, returns allowed exits, logs the masked argv but never the input', async () => {
    registerSecret('s3cret-pw');
    const log = memoryLogger(2);
    const fake = new FakeExec(async () => ({ stdout: 'fine\n', stderr: '', exitCode: 1 }));
    const r = await new SshRunner(fake, 'pve2', log).run(['pvecm', 'add', '10.0.0.1', '--note', 's3cret-pw'], { input: 's3cret-pw\n', allowExit: [1] });
    expect(r).toEqual({ stdout: 'fine\n', stderr: '', exitCode: 1 });
    expect(fake.calls[0]!.opts.input).toBe('s3cret-pw\n');
    expect(fake.calls[0]!.command).toBe('pvecm add 10.0.0.1 --note s3cret-pw');
    expect(log.lines.join('\n')).toMatch(/\$ \[pve2\] pvecm add 10\.0\.0\.1 --note ••••••/);
    expect(log.lines.join('\n')).not.toContain('s3cret-pw');
  });

  it('a connect failure is a CommandError saying the command was not run, with the hint', async () => {
    const fake = new FakeExec(async () => {
      throw new SshConnectError('cannot connect to pve3 (10.77.0.13:22) over SSH: connect ECONNREFUSED', { hint: 'is pve3 running?' });
    });
    const e = (await new SshRunner(fake, 'pve3').run(['true']).catch((x: unknown) => x)) as CommandError;
    expect(e).toBeInstanceOf(CommandError);
    expect(e.message).toBe('true was not run: cannot connect to pve3 (10.77.0.13:22) over SSH: connect ECONNREFUSED on pve3');
    expect(e.hint).toBe('is pve3 running?');
  });

  it('a host key mismatch passes through untouched', async () => {
    const mm = new HostKeyMismatchError('pve1', '10.77.0.11', '/k', { type: 'a', base64: 'A' }, { type: 'a', base64: 'B' });
    const e = await new SshRunner(new FakeExec(async () => { throw mm; }), 'pve1').run(['true']).catch((x: unknown) => x);
    expect(e).toBe(mm);
  });

  it('a command killed by a signal fails', async () => {
    const e = (await new SshRunner(new FakeExec(async () => ({ stdout: '', stderr: '', exitCode: null, signal: 'KILL' })), 'pve1').run(['sleep', '9']).catch((x: unknown) => x)) as CommandError;
    expect(e.message).toBe('sleep was killed by signal KILL on pve1');
  });
});
