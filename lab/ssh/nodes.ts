// The `nodes` service: how steps reach the Proxmox nodes (a Runner per node, SFTP both ways, host-key
// pinning). Built once per command from the lab's names and state; close() must run at the end.
import type { LabNames } from '../config/names.js';
import type { Logger } from '../core/log.js';
import type { LabState } from '../core/state.js';
import type { Runner } from '../exec/runner.js';
import { type SshPoolOptions, SshPool } from './client.js';
import type { HostKey } from './known-hosts.js';
import { SshRunner } from './runner.js';

export interface NodeShell {
  /** Runner whose `where` is the node name. */
  runner(node: string): Runner;
  upload(node: string, localPath: string, remotePath: string, mode?: number): Promise<void>;
  download(node: string, remotePath: string, localPath: string): Promise<void>;
  /** Pins a node's SSH host key (e.g. read from the install webhook), replacing an older pin. */
  pinHostKey(node: string, key: Buffer | HostKey): Promise<void>;
  close(): Promise<void>;
}

declare module '../core/step.js' {
  interface Services {
    nodes: NodeShell;
  }
}

export class PoolShell implements NodeShell {
  private readonly runners = new Map<string, Runner>();
  constructor(readonly pool: SshPool, private readonly log?: Logger) {}
  runner(node: string): Runner {
    this.pool.target(node);
    let r = this.runners.get(node);
    if (!r) this.runners.set(node, (r = new SshRunner(this.pool, node, this.log)));
    return r;
  }
  upload(node: string, localPath: string, remotePath: string, mode?: number): Promise<void> {
    return this.pool.upload(node, localPath, remotePath, mode);
  }
  download(node: string, remotePath: string, localPath: string): Promise<void> {
    return this.pool.download(node, remotePath, localPath);
  }
  pinHostKey(node: string, key: Buffer | HostKey): Promise<void> {
    return this.pool.pinHostKey(node, key);
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** SSH to every node of the lab as root with the lab key, pinning host keys in the lab state. */
export function labNodeShell(names: LabNames, state: LabState, log?: Logger, opts: Partial<SshPoolOptions> = {}): PoolShell {
  const pool = new SshPool(
    names.nodes.map((n) => ({ name: n.name, host: n.ip })),
    { privateKey: state.sshKeyPath, knownHostsPath: state.knownHostsPath, log, ...opts },
  );
  return new PoolShell(pool, log);
}
