// The SSH layer against a real OpenSSH sshd in a private network namespace (test/helpers/testhost.ts):
// exec with streamed output, exit codes, stdin, SFTP both ways, host-key pinning, reconnect after the
// server drops the connection, and no secret in any log line or any process's argv.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError } from '../../lab/core/errors.js';
import { memoryLogger } from '../../lab/core/log.js';
import { registerSecret } from '../../lab/core/secrets.js';
import { SshPool } from '../../lab/ssh/client.js';
import { HostKeyMismatchError, readKnownHosts, writePin } from '../../lab/ssh/known-hosts.js';
import { PoolShell } from '../../lab/ssh/nodes.js';
import { type TestHost, makeSshKey, startTestHost } from '../helpers/testhost.js';

/** Is every command on PATH (or an absolute path executable)? */
const have = (...cmds: string[]) => {
  try {
    execFileSync('sh', ['-c', cmds.map((c) => `command -v ${c} >/dev/null`).join(' && ')]);
    return true;
  } catch {
    return false;
  }
};
const haveSshd = have('/usr/sbin/sshd');

describe.skipIf(!haveSshd)('SSH layer against OpenSSH (needs /usr/sbin/sshd: apt-get install openssh-server)', () => {
  let host: TestHost;
  let dir: string;
  let keyPath: string;
  const log = memoryLogger(2);
  const pool = (knownHosts: string, extra: Partial<ConstructorParameters<typeof SshPool>[1]> = {}) =>
    new SshPool([{ name: 'node1', host: host.address }], { privateKey: keyPath, knownHostsPath: knownHosts, log, connectAttempts: 2, backoffMs: 100, readyTimeoutMs: 10_000, ...extra });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-ssh-it-'));
    const key = await makeSshKey(dir);
    keyPath = key.privateKeyPath;
    host = await startTestHost({ sshd: { authorizedKeys: key.publicKey }, label: 'ssh-it' });
  });
  afterAll(async () => {
    await host?.down();
  });

  it('pins the host key on first contact, then runs commands with streamed output, exit codes and stdin', async () => {
    const kh = join(dir, 'kh-first');
    const p = pool(kh);
    const shell = new PoolShell(p, log);
    try {
      const chunks: string[] = [];
      const r = await shell.runner('node1').run(['sh', '-c', 'echo one; sleep 0.3; echo two; echo err >&2; exit 0'], { onOutput: (c, s) => chunks.push(`${s}:${c}`) });
      expect(r).toEqual({ stdout: 'one\ntwo\n', stderr: 'err\n', exitCode: 0 });
      expect(chunks.filter((c) => c.startsWith('stdout:')).length).toBeGreaterThanOrEqual(2); // two writes 0.3 s apart arrive separately
      const pinned = (await readKnownHosts(kh))[0]!;
      expect(pinned.hosts).toEqual(['node1', host.address]);
      expect(`${pinned.key.type} ${pinned.key.base64}`).toBe(host.hostKeyPub);

      const fail = (await shell.runner('node1').run(['sh', '-c', 'echo bad >&2; exit 7']).catch((e: unknown) => e)) as CommandError;
      expect(fail).toBeInstanceOf(CommandError);
      expect([fail.where, fail.exitCode_, fail.stderrTail]).toEqual(['node1', 7, 'bad']);
      expect((await shell.runner('node1').run(['sh', '-c', 'exit 7'], { allowExit: [7] })).exitCode).toBe(7);

      expect((await shell.runner('node1').run(['cat'], { input: 'from stdin\n' })).stdout).toBe('from stdin\n');
      expect((await shell.runner('node1').run(['cat'])).stdout).toBe(''); // no input: EOF, no hang
      expect((await shell.runner('node1').run(['printf', '%s|', "it's", 'a b', '$HOME'])).stdout).toBe("it's|a b|$HOME|");
      expect(p.connects.get('node1')).toBe(1); // one reused connection
    } finally {
      await shell.close();
    }
  });

  it('uploads and downloads over SFTP (directories created, mode set)', async () => {
    const shell = new PoolShell(pool(join(dir, 'kh-sftp')), log);
    try {
      const src = join(dir, 'up.txt');
      writeFileSync(src, 'payload ✓\n'.repeat(5000));
      const remote = join(host.ns.dir, 'deep', 'dir', 'file.txt');
      await shell.upload('node1', src, remote, 0o600);
      const st = await shell.runner('node1').run(['stat', '-c', '%a %s', remote]);
      expect(st.stdout.trim()).toBe(`600 ${readFileSync(src).length}`);
      const back = join(dir, 'down.txt');
      await shell.download('node1', remote, back);
      expect(readFileSync(back, 'utf8')).toBe(readFileSync(src, 'utf8'));
    } finally {
      await shell.close();
    }
  });

  it('refuses a host whose key differs from the pinned one, naming the fix', async () => {
    const kh = join(dir, 'kh-wrong');
    await writePin(kh, 'node1', host.address, { type: 'ssh-ed25519', base64: 'AAAAC3NzaC1lZDI1NTE5AAAAIE0l2xXo7R3Yx8bX1Tq3oJ8Qe0W6mP4x0ZsBf3oQm3mU' });
    const p = pool(kh);
    try {
      const e = await p.exec('node1', 'true').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostKeyMismatchError);
      expect((e as HostKeyMismatchError).hint).toContain(`ssh-keygen -R node1 -f ${kh}`);
      expect(p.connects.get('node1')).toBeUndefined();
    } finally {
      await p.close();
    }
  });

  it('reconnects after the server drops the connection', async () => {
    const p = pool(join(dir, 'kh-drop'));
    try {
      expect((await p.exec('node1', 'echo before')).stdout).toBe('before\n');
      // Kill the per-connection sshd processes (children of the listener); the listener stays up.
      await host.exec(['sh', '-c', `for c in $(ps -o pid= --ppid "$(cat ${join(host.ns.dir, 'sshd.pid')})"); do kill -KILL "$c"; done`]);
      expect((await p.exec('node1', 'echo after')).stdout).toBe('after\n');
      expect(p.connects.get('node1')).toBe(2);
    } finally {
      await p.close();
    }
  });

  it('reconnects when the pooled connection died before ssh2 noticed ("Not connected"); SFTP has its own connection', async () => {
    const p = pool(join(dir, 'kh-dead'));
    // The pool's current connection for node1, as ssh2's Client (private field, read only by this test).
    const current = async () => (p as unknown as { conns: Map<string, Promise<{ destroy(): void }>> }).conns.get('node1')!;
    try {
      expect((await p.exec('node1', 'echo one')).stdout).toBe('one\n');
      // Destroy the socket and use the pool in the same tick: the socket is no longer writable but its
      // 'close' event has not run yet, so the pool still holds the dead client (the state seen in CI).
      (await current()).destroy();
      expect((await p.exec('node1', 'echo two')).stdout).toBe('two\n');
      expect(p.connects.get('node1')).toBe(2);
      expect((await p.exec('node1', 'echo payload > /tmp/pvelab-dead-sftp.txt')).exitCode).toBe(0);
      const local = join(dir, 'dead-sftp.txt');
      await p.download('node1', '/tmp/pvelab-dead-sftp.txt', local);
      expect(readFileSync(local, 'utf8')).toBe('payload\n');
      expect(p.connects.get('node1')).toBe(3); // the transfer's own connection
      expect((await p.exec('node1', 'echo three')).stdout).toBe('three\n');
      expect(p.connects.get('node1')).toBe(3); // the pooled one survived it
    } finally {
      await p.close();
    }
  });

  it('keeps a secret out of every log line and every argv while it is used', async () => {
    const secret = `pw-${Math.random().toString(36).slice(2)}-x`;
    registerSecret(secret);
    const shell = new PoolShell(pool(join(dir, 'kh-secret')), log);
    try {
      // The remote command reads the secret from stdin, then lists every process's argv while still running.
      const r = await shell.runner('node1').run(['sh', '-c', 'IFS= read -r pw; [ "$pw" = "$(cat)" ] || true; cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "; echo; printf "%s" "${#pw}"'], { input: `${secret}\n` });
      expect(r.stdout.endsWith(String(secret.length))).toBe(true); // the secret did arrive on stdin
      expect(r.stdout).not.toContain(secret); // … and no process in the host had it in its argv
      const local = execFileSync('sh', ['-c', 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "'], { encoding: 'utf8' });
      expect(local).not.toContain(secret);
      expect(log.lines.join('\n')).not.toContain(secret);
      expect(log.lines.some((l) => l.includes('$ [node1] sh -c'))).toBe(true);
    } finally {
      await shell.close();
    }
  });

  it('gives up connecting after the retries with a clear error', async () => {
    const p = new SshPool([{ name: 'node1', host: host.address, port: 2 }], { privateKey: keyPath, knownHostsPath: join(dir, 'kh-none'), connectAttempts: 2, backoffMs: 50 });
    const e = (await new PoolShell(p).runner('node1').run(['true']).catch((x: unknown) => x)) as CommandError;
    expect(e).toBeInstanceOf(CommandError);
    expect(e.message).toMatch(/^true was not run: cannot connect to node1 \(.*:2\) over SSH: .*ECONNREFUSED/);
    await p.close();
  });
});

const haveDropbear = have('dropbear', 'dropbearkey');

// The stand-in nodes run Dropbear, which ends the whole connection when an SFTP session ends; a
// command sent on that connection at that moment may already run there. pvelab must neither lose
// the command nor run it twice.
describe.skipIf(!haveSshd || !haveDropbear)('SSH layer against Dropbear (needs dropbear-bin)', () => {
  let host: TestHost;
  let dir: string;
  let keyPath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-ssh-db-'));
    const key = await makeSshKey(dir);
    keyPath = key.privateKeyPath;
    host = await startTestHost({ sshd: { authorizedKeys: key.publicKey }, dropbear: true, label: 'ssh-db' });
  });
  afterAll(async () => {
    await host?.down();
  });

  it('upload then exec, five times: every command runs exactly once, on the one pooled connection', async () => {
    const p = new SshPool([{ name: 'node1', host: host.address }], { privateKey: keyPath, knownHostsPath: join(dir, 'kh'), connectAttempts: 3, backoffMs: 100, readyTimeoutMs: 10_000 });
    const local = join(dir, 'payload.bin');
    writeFileSync(local, Buffer.alloc(200_000, 7));
    try {
      await p.exec('node1', 'rm -f /tmp/pvelab-db-ran.log');
      for (let i = 0; i < 5; i++) {
        await p.upload('node1', local, `/tmp/pvelab-db-up${i}.bin`, 0o600);
        expect((await p.exec('node1', `echo ran ${i} >> /tmp/pvelab-db-ran.log; echo ok`)).stdout).toBe('ok\n');
      }
      expect((await p.exec('node1', 'cat /tmp/pvelab-db-ran.log')).stdout).toBe([0, 1, 2, 3, 4].map((i) => `ran ${i}\n`).join(''));
      expect((await p.exec('node1', 'stat -c %s /tmp/pvelab-db-up4.bin')).stdout.trim()).toBe('200000');
      expect(p.connects.get('node1')).toBe(6); // 1 pooled + 1 per upload
    } finally {
      await p.close();
    }
  });
});
