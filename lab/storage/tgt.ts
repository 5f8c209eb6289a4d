// tgt driver: every tgtadm call goes through a Runner (the host, or a namespace in tests), argv built by
// the pure tgtadmArgv(); the single secret-carrying request (CHAP account) goes over tgtd's socket
// (tgt-ipc.ts). Reads parse `--op show` with tgt-show.ts. No method decides policy: see tgt-plan.ts.
import { join } from 'node:path';
import { LabError } from '../core/errors.js';
import { waitFor } from '../core/wait.js';
import type { Runner } from '../exec/runner.js';
import { DEFAULT_TGT_SOCKET, tgtAddAccount } from './tgt-ipc.js';
import { parseTgtShowAccounts, parseTgtShowTargets, type TgtTarget } from './tgt-show.js';

export interface TgtOptions {
  /** Directory of tgt configuration snippets (default /etc/tgt/conf.d; tests use a temp dir). */
  confDir?: string;
  /** tgtd's management socket as seen by this process (tests: /proc/<ns pid>/root/run/tgtd/socket.0). */
  socketPath?: string;
}

/** A tgtadm request, one per command line. */
export type TgtCmd =
  | { op: 'show-sys' }
  | { op: 'show-targets' }
  | { op: 'show-accounts' }
  | { op: 'new-target'; tid: number; iqn: string }
  | { op: 'delete-target'; tid: number; force?: boolean }
  | { op: 'new-lun'; tid: number; lun: number; path: string }
  | { op: 'delete-lun'; tid: number; lun: number }
  | { op: 'lun-params'; tid: number; lun: number; params: Record<string, string> }
  | { op: 'bind-address'; tid: number; address: string }
  | { op: 'unbind-address'; tid: number; address: string }
  | { op: 'unbind-name'; tid: number; name: string }
  | { op: 'delete-account'; user: string }
  | { op: 'bind-account'; tid: number; user: string }
  | { op: 'unbind-account'; tid: number; user: string; outgoing?: boolean };

const A = ['tgtadm', '--lld', 'iscsi'] as const;

/** Exact argv for a request. Pure; unit-tested. (Creating an account is not here: it needs a secret.) */
export function tgtadmArgv(c: TgtCmd): string[] {
  switch (c.op) {
    case 'show-sys':
      return [...A, '--op', 'show', '--mode', 'sys'];
    case 'show-targets':
      return [...A, '--op', 'show', '--mode', 'target'];
    case 'show-accounts':
      return [...A, '--op', 'show', '--mode', 'account'];
    case 'new-target':
      return [...A, '--op', 'new', '--mode', 'target', '--tid', String(c.tid), '--targetname', c.iqn];
    case 'delete-target':
      return [...A, '--op', 'delete', '--mode', 'target', ...(c.force ? ['--force'] : []), '--tid', String(c.tid)];
    case 'new-lun':
      return [...A, '--op', 'new', '--mode', 'logicalunit', '--tid', String(c.tid), '--lun', String(c.lun), '--backing-store', c.path];
    case 'delete-lun':
      return [...A, '--op', 'delete', '--mode', 'logicalunit', '--tid', String(c.tid), '--lun', String(c.lun)];
    case 'lun-params':
      return [...A, '--op', 'update', '--mode', 'logicalunit', '--tid', String(c.tid), '--lun', String(c.lun), '--params',
        Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(',')];
    case 'bind-address':
      return [...A, '--op', 'bind', '--mode', 'target', '--tid', String(c.tid), '--initiator-address', c.address];
    case 'unbind-address':
      return [...A, '--op', 'unbind', '--mode', 'target', '--tid', String(c.tid), '--initiator-address', c.address];
    case 'unbind-name':
      return [...A, '--op', 'unbind', '--mode', 'target', '--tid', String(c.tid), '--initiator-name', c.name];
    case 'delete-account':
      return [...A, '--op', 'delete', '--mode', 'account', '--user', c.user];
    case 'bind-account':
      return [...A, '--op', 'bind', '--mode', 'account', '--tid', String(c.tid), '--user', c.user];
    case 'unbind-account':
      return [...A, '--op', 'unbind', '--mode', 'account', '--tid', String(c.tid), '--user', c.user, ...(c.outgoing ? ['--outgoing'] : [])];
  }
}

export class Tgt {
  readonly confDir: string;
  readonly socketPath: string;
  constructor(readonly runner: Runner, opts: TgtOptions = {}) {
    this.confDir = opts.confDir ?? '/etc/tgt/conf.d';
    this.socketPath = opts.socketPath ?? DEFAULT_TGT_SOCKET;
  }

  confPath(fileName: string): string {
    return join(this.confDir, fileName);
  }

  async exec(c: TgtCmd): Promise<string> {
    return (await this.runner.run(tgtadmArgv(c))).stdout;
  }

  /** True when tgtd answers on its management socket. */
  async reachable(): Promise<boolean> {
    const r = await this.runner.run(tgtadmArgv({ op: 'show-sys' }), { allowExit: range(1, 255) }).catch(() => undefined);
    return r?.exitCode === 0 && /State:\s*ready/.test(r.stdout);
  }

  /**
   * Starts tgtd when it is not answering: `systemctl start tgt` on a systemd host (its unit also loads
   * /etc/tgt/targets.conf), else `tgtd` (daemonises). Returns how to start it at boot, for the report.
   */
  async ensureRunning(signal?: AbortSignal): Promise<string> {
    const systemd = (await this.runner.run(['test', '-d', '/run/systemd/system'], { allowExit: [1] })).exitCode === 0;
    const boot = systemd
      ? 'start it at boot with: systemctl enable tgt'
      : 'this host has no systemd: start tgtd at boot with your init system, then run tgt-admin -e -c /etc/tgt/targets.conf';
    if (await this.reachable()) return boot;
    await this.runner.run(systemd ? ['systemctl', 'start', 'tgt'] : ['tgtd']);
    await waitFor(async () => ((await this.reachable()) ? { done: true, value: true } : { done: false, seen: 'tgtadm --op show --mode sys does not answer "ready"' }), {
      what: 'tgtd to answer', timeoutMs: 15_000, intervalMs: 100, signal, hint: 'look at tgtd\'s log (journalctl -u tgt, or run tgtd -f)',
    });
    return boot;
  }

  async targets(): Promise<TgtTarget[]> {
    return parseTgtShowTargets(await this.exec({ op: 'show-targets' }));
  }

  async accounts(): Promise<string[]> {
    return parseTgtShowAccounts(await this.exec({ op: 'show-accounts' }));
  }

  /** Creates a CHAP account; the password travels over tgtd's socket, never on a command line. */
  async addAccount(user: string, password: string): Promise<void> {
    await tgtAddAccount(this.socketPath, user, password);
  }

  /** Reads a file through the runner; undefined when it does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const r = await this.runner.run(['cat', '--', path], { allowExit: [1] });
    return r.exitCode === 0 ? r.stdout : undefined;
  }

  /** Mode bits of a file (octal string such as "600"), or undefined when it does not exist. */
  async fileMode(path: string): Promise<string | undefined> {
    const r = await this.runner.run(['stat', '-c', '%a', '--', path], { allowExit: [1] });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  }

  /** Writes a file 0600 from stdin (the content may hold the CHAP secret), atomically via rename. */
  async writeConf(path: string, content: string): Promise<void> {
    const dirOk = (await this.runner.run(['test', '-d', this.confDir], { allowExit: [1] })).exitCode === 0;
    if (!dirOk) throw new LabError(`tgt's configuration directory ${this.confDir} does not exist`, { hint: 'install tgt: apt-get install -y tgt' });
    await writePrivateFile(this.runner, path, content);
  }

  async removeFile(path: string): Promise<void> {
    await this.runner.run(['rm', '-f', '--', path]);
  }
}

/**
 * Writes `content` to `path` with mode 0600 through a runner: the file is created empty with 0600 first
 * (install), filled from stdin by dd (which reads fd 0 directly: Node hands children a socket, which
 * /dev/stdin cannot open), then renamed over the target. The content never appears on a command line.
 */
export async function writePrivateFile(runner: Runner, path: string, content: string): Promise<void> {
  const tmp = `${path}.pvelab-tmp`;
  await runner.run(['install', '-m', '600', '/dev/null', tmp]);
  await runner.run(['dd', `of=${tmp}`, 'status=none'], { input: content });
  await runner.run(['mv', '-f', '--', tmp, path]);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
