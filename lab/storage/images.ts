// Disk image files on the host: sparse raw files (LUN backing stores) and qcow2 images (qemu-img).
// Everything runs through a Runner so plans show the commands and tests can run it inside a namespace
// (a read-only mount there is invisible to the host). Creation never overwrites: callers check
// `stat()` first; undo is `rm -f` of our own paths only.
import type { Runner } from '../exec/runner.js';

export interface DirProbe {
  path: string;
  exists: boolean;
  isDir: boolean;
  writable: boolean;
  /** Bytes available to unprivileged writers (statfs f_bavail × f_frsize); undefined if it does not exist. */
  availBytes: number | undefined;
}

export interface FileStat {
  exists: boolean;
  /** Apparent size (what a LUN exports). */
  sizeBytes: number;
  /** Bytes really allocated on disk (sparse files use little). */
  allocatedBytes: number;
}

export interface QemuImgInfo {
  format: string;
  virtualSize: number;
}

/** Parses `qemu-img info --output=json`. */
export function parseQemuImgInfo(json: string): QemuImgInfo {
  const j = JSON.parse(json) as { format?: unknown; 'virtual-size'?: unknown };
  if (typeof j.format !== 'string' || typeof j['virtual-size'] !== 'number') throw new Error('qemu-img info: no format/virtual-size in its JSON');
  return { format: j.format, virtualSize: j['virtual-size'] };
}

export const imageArgv = {
  statfs: (dir: string) => ['stat', '-f', '-c', '%a %S', '--', dir],
  stat: (path: string) => ['stat', '-c', '%s %b %B %F', '--', path],
  isDir: (dir: string) => ['test', '-d', dir],
  writable: (dir: string) => ['test', '-w', dir],
  mkdir: (dir: string) => ['mkdir', '-p', '-m', '0700', '--', dir],
  sparse: (path: string, bytes: number) => ['truncate', '-s', String(bytes), '--', path],
  qcow2: (path: string, bytes: number) => ['qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'preallocation=off', path, String(bytes)],
  info: (path: string, format: string) => ['qemu-img', 'info', '-U', '-f', format, '--output=json', path],
  remove: (path: string) => ['rm', '-f', '--', path],
  rmdirIfEmpty: (dir: string) => ['rmdir', '--ignore-fail-on-non-empty', '--', dir],
};

export class Images {
  constructor(readonly runner: Runner) {}

  private async ok(argv: string[]): Promise<boolean> {
    return (await this.runner.run(argv, { allowExit: [1] })).exitCode === 0;
  }

  async probeDir(path: string): Promise<DirProbe> {
    const isDir = await this.ok(imageArgv.isDir(path));
    if (!isDir) {
      const exists = (await this.runner.run(['test', '-e', path], { allowExit: [1] })).exitCode === 0;
      return { path, exists, isDir: false, writable: false, availBytes: undefined };
    }
    const writable = await this.ok(imageArgv.writable(path));
    const [a, s] = (await this.runner.run(imageArgv.statfs(path))).stdout.trim().split(/\s+/).map(Number);
    return { path, exists: true, isDir: true, writable, availBytes: (a ?? 0) * (s ?? 0) };
  }

  async stat(path: string): Promise<FileStat> {
    const r = await this.runner.run(imageArgv.stat(path), { allowExit: [1] });
    if (r.exitCode !== 0) return { exists: false, sizeBytes: 0, allocatedBytes: 0 };
    const [size, blocks, blockSize] = r.stdout.trim().split(' ').map(Number);
    return { exists: true, sizeBytes: size ?? 0, allocatedBytes: (blocks ?? 0) * (blockSize ?? 512) };
  }

  async mkdir(path: string): Promise<void> {
    await this.runner.run(imageArgv.mkdir(path));
  }

  /** A sparse raw file of `bytes` (no blocks allocated). The caller made sure it does not exist. */
  async createSparse(path: string, bytes: number): Promise<void> {
    await this.runner.run(imageArgv.sparse(path, bytes));
  }

  async createQcow2(path: string, bytes: number): Promise<void> {
    await this.runner.run(imageArgv.qcow2(path, bytes));
  }

  /** qemu-img's view of an image in the given format; undefined when it is not that format. */
  async info(path: string, format: 'qcow2' | 'raw'): Promise<QemuImgInfo | undefined> {
    const r = await this.runner.run(imageArgv.info(path, format), { allowExit: [1] });
    return r.exitCode === 0 ? parseQemuImgInfo(r.stdout) : undefined;
  }

  async remove(path: string): Promise<void> {
    await this.runner.run(imageArgv.remove(path));
  }

  /** Removes a directory pvelab made once nothing is left in it (a missing one is fine too). */
  async removeDirIfEmpty(dir: string): Promise<void> {
    if (await this.ok(imageArgv.isDir(dir))) await this.runner.run(imageArgv.rmdirIfEmpty(dir));
  }
}
