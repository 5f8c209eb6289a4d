// SSH to the lab nodes: the only module that imports ssh2.
// Contracts:
//  - one connection per node, opened on first use and reused by every exec/upload until it drops
//    (then the next call opens a new one);
//  - host keys are pinned in a known_hosts file: first contact pins (trust on first use, right after
//    install), afterwards a different key is a hard HostKeyMismatchError naming the fix;
//  - only *connecting* is retried (with backoff). A command is never re-sent once it may have started;
//    the single exception is a channel that could not even be opened on a dead pooled connection
//    ("Not connected", channel open failure), where the command was certainly never sent;
//  - SFTP uses a short-lived connection of its own (see withSftp);
//  - stdin carries secrets; nothing here logs a command's input or output.
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { LabError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { sleep } from '../core/wait.js';
import { quoteArgv } from '../exec/quote.js';
import { HostKeyMismatchError, type HostKey, hostKeyFromBlob, pinnedKey, readKnownHosts, sameKey, writePin } from './known-hosts.js';

export interface SshTarget {
  /** Node name: the pool key and the name pinned in known_hosts. */
  name: string;
  host: string;
  port?: number;
  user?: string;
}

export interface SshPoolOptions {
  /** OpenSSH private key (PEM/OpenSSH text) or a path to read it from. */
  privateKey: string | Buffer;
  knownHostsPath: string;
  log?: Logger | undefined;
  /** Pin the offered key when none is pinned yet (default true). */
  trustOnFirstUse?: boolean;
  /** Connection attempts before giving up (default 5). */
  connectAttempts?: number;
  /** First retry delay; doubles per attempt up to 8 s (default 500 ms). */
  backoffMs?: number;
  readyTimeoutMs?: number;
  keepaliveMs?: number;
}

export interface ExecOptions {
  input?: string | undefined;
  onOutput?: ((chunk: string, stream: 'stdout' | 'stderr') => void) | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the remote process died of a signal. */
  exitCode: number | null;
  signal?: string | undefined;
}

/** What the SSH runner needs; the pool implements it, unit tests fake it. */
export interface SshExec {
  exec(node: string, command: string, opts?: ExecOptions): Promise<ExecResult>;
}

/** Could not reach or log in to a node over SSH (after the retries). */
export class SshConnectError extends LabError {}

/** The connection dropped or the command was stopped while it ran; it may have had effects. */
export class SshExecError extends LabError {}

class ChannelOpenError extends Error {}

export class SshPool implements SshExec {
  private readonly targets = new Map<string, SshTarget>();
  private readonly conns = new Map<string, Promise<Client>>();
  private key: Buffer | string | undefined;
  /** Number of successful connects, per node (tests observe reconnects with it). */
  readonly connects = new Map<string, number>();

  constructor(targets: readonly SshTarget[], private readonly opts: SshPoolOptions) {
    for (const t of targets) this.targets.set(t.name, t);
  }

  target(node: string): SshTarget {
    const t = this.targets.get(node);
    if (!t) throw new LabError(`unknown node "${node}" (known: ${[...this.targets.keys()].join(', ')})`);
    return t;
  }

  /** Pins `key` (raw blob or parsed) for a node, replacing an older pin. */
  async pinHostKey(node: string, key: Buffer | HostKey): Promise<void> {
    const k = Buffer.isBuffer(key) ? hostKeyFromBlob(key) : key;
    await writePin(this.opts.knownHostsPath, node, this.target(node).host, k);
  }

  /**
   * Runs the command on the node's pooled connection. When the channel cannot even be opened (ssh2
   * says "Not connected" for a socket that died before its 'close' event was handled, or the server
   * refuses the channel), nothing was sent: the dead connection leaves the pool at once —
   * synchronously, so the retry cannot pick the same corpse — and the command goes out once more on
   * a fresh connection.
   */
  async exec(node: string, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    for (let attempt = 0; ; attempt++) {
      const entry = this.connection(node);
      const conn = await entry;
      try {
        return await execOn(conn, command, opts, node);
      } catch (err) {
        if (err instanceof ChannelOpenError && attempt === 0) {
          this.opts.log?.v(2, `ssh ${node}: pooled connection is dead (${err.message}); reconnecting`);
          this.evict(node, entry, conn);
          continue;
        }
        if (err instanceof ChannelOpenError) throw new SshConnectError(`cannot open a session on ${node}: ${err.message}`);
        throw err;
      }
    }
  }

  /** Copies a local file to the node: parent dir created, written to a temp name, then renamed. */
  async upload(node: string, localPath: string, remotePath: string, mode = 0o644): Promise<void> {
    await this.exec(node, quoteArgv(['mkdir', '-p', dirname(remotePath)])).then((r) => {
      if (r.exitCode !== 0) throw new SshExecError(`cannot create ${dirname(remotePath)} on ${node}: ${r.stderr.trim()}`);
    });
    const part = `${remotePath}.pvelab-part`;
    await this.withSftp(node, async (sftp) => {
      await cb<void>((done) => sftp.fastPut(localPath, part, { mode }, done));
      await cb<void>((done) => sftp.chmod(part, mode, done));
      await cb<void>((done) => sftp.ext_openssh_rename(part, remotePath, done)).catch(async () => {
        await cb<void>((done) => sftp.unlink(remotePath, done)).catch(() => undefined);
        await cb<void>((done) => sftp.rename(part, remotePath, done));
      });
    });
  }

  /** Copies a node's file to the host (temp name, then rename). */
  async download(node: string, remotePath: string, localPath: string): Promise<void> {
    const part = `${localPath}.pvelab-part`;
    try {
      await this.withSftp(node, (sftp) => cb<void>((done) => sftp.fastGet(remotePath, part, done)));
      await rename(part, localPath);
    } finally {
      await rm(part, { force: true });
    }
  }

  /**
   * Closes every connection (call once at the end of a command, or the process stays alive). Ends each
   * politely, then destroys it after a short grace: a node that just vanished
   * (powered off, link cut) never answers the disconnect, and its socket would keep the process alive.
   * A connection still being set up is not waited for; it is destroyed if it completes later.
   */
  async close(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(
      all.map(async (p) => {
        const pending = Symbol('pending');
        let timer: NodeJS.Timeout | undefined;
        const c = await Promise.race([p.catch(() => undefined), new Promise<typeof pending>((r) => (timer = setTimeout(() => r(pending), 500)))]);
        clearTimeout(timer);
        if (c === pending) {
          p.then((late) => late.destroy(), () => undefined);
          return;
        }
        if (c) hangUp(c);
      }),
    );
  }

  /**
   * SFTP runs on a connection of its own, closed afterwards: some servers end the whole connection
   * when an SFTP session ends (Dropbear, as on the stand-in nodes), which must not take the pooled
   * connection — and a command being sent on it — down with it.
   */
  private async withSftp<T>(node: string, fn: (s: SFTPWrapper) => Promise<T>): Promise<T> {
    const conn = await this.connectWithRetry(node);
    try {
      const sftp = await cb<SFTPWrapper>((done) => conn.sftp(done)).catch((err: Error) => {
        throw new SshExecError(`cannot start SFTP on ${node}: ${err.message}`, { cause: err });
      });
      try {
        return await fn(sftp);
      } catch (err) {
        if (err instanceof LabError) throw err;
        throw new SshExecError(`SFTP transfer with ${node} failed: ${(err as Error).message}`, { cause: err });
      } finally {
        sftp.end();
      }
    } finally {
      hangUp(conn);
    }
  }

  private evict(node: string, entry: Promise<Client>, conn: Client): void {
    if (this.conns.get(node) === entry) this.conns.delete(node);
    conn.destroy();
  }

  private connection(node: string): Promise<Client> {
    let p = this.conns.get(node);
    if (!p) {
      p = this.connectWithRetry(node);
      this.conns.set(node, p);
      const mine = p;
      p.catch(() => {
        if (this.conns.get(node) === mine) this.conns.delete(node);
      });
    }
    return p;
  }

  private async connectWithRetry(node: string): Promise<Client> {
    const t = this.target(node);
    const attempts = this.opts.connectAttempts ?? 5;
    let delay = this.opts.backoffMs ?? 500;
    for (let i = 1; ; i++) {
      try {
        const c = await this.connectOnce(t);
        this.connects.set(node, (this.connects.get(node) ?? 0) + 1);
        return c;
      } catch (err) {
        if (err instanceof HostKeyMismatchError) throw err;
        const e = err as Error & { level?: string };
        const auth = e.level === 'client-authentication';
        if (auth || i >= attempts) {
          throw new SshConnectError(`cannot ${auth ? 'log in to' : 'connect to'} ${node} (${t.host}:${t.port ?? 22}) over SSH: ${e.message}`, {
            cause: err,
            hint: auth
              ? `the lab key ${keyHint(this.opts.privateKey)} is not authorized for root on ${node}; was the node installed by this lab?`
              : `is ${node} running? \`pvelab status\` shows the nodes; SSH must listen on ${t.host}:${t.port ?? 22}`,
          });
        }
        this.opts.log?.v(1, `ssh ${node}: ${e.message}; retrying in ${delay} ms (attempt ${i + 1}/${attempts})`);
        await sleep(delay);
        delay = Math.min(delay * 2, 8000);
      }
    }
  }

  private privateKey(): Buffer | string {
    const k = this.opts.privateKey;
    if (typeof k === 'string' && !k.includes('PRIVATE KEY')) return (this.key ??= readFileSync(k));
    return k;
  }

  private connectOnce(t: SshTarget): Promise<Client> {
    return new Promise((resolve, reject) => {
      const c = new Client();
      let mismatch: HostKeyMismatchError | undefined;
      let ready = false;
      const verify = (blob: Buffer, answer: (ok: boolean) => void) => {
        this.checkHostKey(t, blob).then(
          () => answer(true),
          (err: unknown) => {
            if (err instanceof HostKeyMismatchError) mismatch = err;
            answer(false);
          },
        );
      };
      const cfg: ConnectConfig = {
        host: t.host,
        port: t.port ?? 22,
        username: t.user ?? 'root',
        privateKey: this.privateKey(),
        readyTimeout: this.opts.readyTimeoutMs ?? 20_000,
        keepaliveInterval: this.opts.keepaliveMs ?? 10_000,
        keepaliveCountMax: 3,
        hostVerifier: verify,
      };
      c.on('ready', () => {
        ready = true;
        resolve(c);
      });
      c.on('error', (err) => {
        if (!ready) return reject(mismatch ?? err);
        this.opts.log?.v(2, `ssh ${t.name}: connection error: ${err.message}`);
      });
      c.on('close', () => {
        if (!ready) return reject(mismatch ?? new Error('connection closed during handshake'));
        this.opts.log?.v(2, `ssh ${t.name}: connection closed`);
        void this.conns.get(t.name)?.then((cur) => {
          if (cur === c) this.conns.delete(t.name);
        }, () => undefined);
      });
      c.connect(cfg);
    });
  }

  private async checkHostKey(t: SshTarget, blob: Buffer): Promise<void> {
    const offered = hostKeyFromBlob(blob);
    const pinned = pinnedKey(await readKnownHosts(this.opts.knownHostsPath), t.name);
    if (pinned) {
      if (!sameKey(pinned, offered)) throw new HostKeyMismatchError(t.name, t.host, this.opts.knownHostsPath, pinned, offered);
      return;
    }
    if (this.opts.trustOnFirstUse === false) throw new HostKeyMismatchError(t.name, t.host, this.opts.knownHostsPath, { type: '(none pinned)', base64: '' }, offered);
    await writePin(this.opts.knownHostsPath, t.name, t.host, offered);
    this.opts.log?.v(1, `ssh ${t.name}: pinned host key ${offered.type} on first contact`);
  }
}

function keyHint(k: string | Buffer): string {
  return typeof k === 'string' && !k.includes('PRIVATE KEY') ? k : '(in memory)';
}

/** Ends a connection politely and destroys it a second later if the peer never answers. */
function hangUp(c: Client): void {
  c.end();
  setTimeout(() => c.destroy(), 1000).unref();
}

function cb<T>(fn: (done: (err?: Error | null, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

/** Runs one command on an open connection: streams output, feeds stdin, honours timeout/abort. */
function execOn(conn: Client, command: string, opts: ExecOptions, node: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    let stdout = '';
    let stderr = '';
    let exitCode: number | null | undefined;
    let signal: string | undefined;
    let stopped: string | undefined;
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = (why: string) => {
      stopped ??= why;
      try {
        channel?.signal('KILL');
      } catch {
        /* not supported by every server */
      }
      channel?.close();
    };
    const onAbort = () => stop('was cancelled');
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    try {
      conn.exec(command, (e, ch) => {
        // ssh2 says "Unable to exec" when the connection closed after the exec request was sent: the
        // server may have started the command (Dropbear does, then closes), so it is never re-sent.
        if (e && e.message === 'Unable to exec') return reject(new SshExecError(`lost the SSH connection to ${node} as the command was sent; it may or may not have run`));
        if (e) return reject(new ChannelOpenError(e.message));
        channel = ch;
        if (opts.timeoutMs) timer = setTimeout(() => stop(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs);
        if (opts.signal?.aborted) onAbort();
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        ch.on('data', (d: Buffer) => {
          const s = out.write(d);
          stdout += s;
          if (s) opts.onOutput?.(s, 'stdout');
        });
        ch.stderr.on('data', (d: Buffer) => {
          const s = err.write(d);
          stderr += s;
          if (s) opts.onOutput?.(s, 'stderr');
        });
        ch.on('exit', (code: number | null, sig?: string) => {
          exitCode = code;
          signal = sig ?? undefined;
        });
        ch.on('close', () => {
          cleanup();
          stdout += out.end();
          stderr += err.end();
          if (stopped) return reject(new SshExecError(`command ${stopped} on ${node}`));
          if (exitCode === undefined) return reject(new SshExecError(`lost the SSH connection to ${node} while the command ran; it may or may not have finished`));
          resolve({ stdout, stderr, exitCode, signal });
        });
        ch.on('error', () => undefined);
        ch.end(opts.input ?? undefined);
      });
    } catch (e) {
      reject(new ChannelOpenError((e as Error).message));
    }
  });
}
