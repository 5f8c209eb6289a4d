// Effects of the pure model (unit tests): node disks are in memory (what an SFTP upload or `mkdir`
// over SSH would do to a real node, tests do with put/mkdir), and the web state each running CT
// would serve is recorded per vmid, so tests see what the live stand-in would serve and where.
import type { GuestConf } from './cfs.js';
import type { Effects, FileInfo } from './guests.js';
import type { Serve } from './rootfs.js';

export interface Served {
  node: string;
  serve: Serve | undefined;
}

export class MemoryEffects implements Effects {
  private readonly disks = new Map<string, { files: Map<string, Buffer>; dirs: Set<string> }>();
  /** vmid -> where it runs and what its Apache serves (absent: not running) */
  readonly served = new Map<number, Served>();
  readonly resets: string[] = [];

  private disk(node: string) {
    let d = this.disks.get(node);
    if (!d) this.disks.set(node, (d = { files: new Map(), dirs: new Set(['/']) }));
    return d;
  }

  /** mkdir -p on the node */
  mkdir(node: string, dir: string): void {
    const d = this.disk(node);
    for (let p = dir.replace(/\/+$/, ''); p; p = p.slice(0, p.lastIndexOf('/'))) d.dirs.add(p);
  }

  /** a file put on the node from outside (SFTP upload) */
  put(node: string, path: string, data: Buffer | string): void {
    this.mkdir(node, path.slice(0, path.lastIndexOf('/')));
    this.disk(node).files.set(path, Buffer.from(data));
  }

  /** rm -rf */
  remove(node: string, path: string): void {
    const d = this.disk(node);
    for (const k of [...d.files.keys()]) if (k === path || k.startsWith(`${path}/`)) d.files.delete(k);
    for (const k of [...d.dirs]) if (k === path || k.startsWith(`${path}/`)) d.dirs.delete(k);
  }

  async readNodeFile(node: string, path: string): Promise<Buffer | undefined> {
    return this.disk(node).files.get(path);
  }

  async writeNodeFile(node: string, path: string, data: Buffer): Promise<void> {
    this.put(node, path, data);
  }

  async listNodeDir(node: string, dir: string): Promise<FileInfo[] | undefined> {
    const d = this.disk(node);
    const base = dir.replace(/\/+$/, '');
    if (!d.dirs.has(base)) return undefined;
    return [...d.files].filter(([p]) => p.slice(0, p.lastIndexOf('/')) === base).map(([p, b]) => ({ name: p.slice(base.length + 1), size: b.length })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async startGuest(node: string, g: GuestConf, serve: Serve | undefined): Promise<void> {
    this.served.set(g.vmid, { node, serve });
  }

  async stopGuest(_node: string, g: GuestConf): Promise<void> {
    this.served.delete(g.vmid);
  }

  async serveGuest(node: string, g: GuestConf, serve: Serve | undefined): Promise<void> {
    this.served.set(g.vmid, { node, serve });
  }

  resetNode(node: string): void {
    this.resets.push(node);
    for (const [vmid, s] of this.served) if (s.node === node) this.served.delete(vmid);
  }

  nodeReinstalled(node: string): void {
    this.disks.delete(node);
  }
}
