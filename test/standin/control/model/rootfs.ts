// A container's root filesystem as the stand-in keeps it: the regular files (path -> text) and
// directories on the CT's rootfs volume. The volume is the truth: on shared storage (LVM on the SAN
// LUN) one copy serves every node, so the CT finds its packages and pages wherever HA starts it; on
// node-local storage (lvmthin, zfspool, dir) each node holding the volume has its own copy
// (replication copies it). Packages are /var/lib/dpkg/status, the apt lists are files under
// /var/lib/apt/lists — so templates and vzdump archives are plain tar.zst images of this state.
import type { ClusterModel } from './cluster.js';
import type { GuestConf } from './cfs.js';
import { BASE, dpkgStanza, osOfTemplate, osRelease, parseDpkgStatus, sourcesList } from './debian.js';
import { type TarEntry, compressFor, tarDecode, tarEncode, uncompress } from './tarzst.js';

export interface Rootfs {
  files: Map<string, string>;
  dirs: Set<string>; // absolute, no trailing slash ('/' implicit)
}

export const DPKG_STATUS = '/var/lib/dpkg/status';
export const DOCROOT = '/var/www/html';

export function emptyRootfs(): Rootfs {
  return { files: new Map(), dirs: new Set() };
}

export function cloneRootfs(fs: Rootfs): Rootfs {
  return { files: new Map(fs.files), dirs: new Set(fs.dirs) };
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function isDir(fs: Rootfs, path: string): boolean {
  return path === '/' || fs.dirs.has(path);
}

/** mkdir -p */
export function mkdirs(fs: Rootfs, path: string): void {
  for (let p = path; p !== '/' && p !== ''; p = parentOf(p)) fs.dirs.add(p);
}

/** write a file, creating its directories (package installs, template build) */
export function put(fs: Rootfs, path: string, text: string): void {
  mkdirs(fs, parentOf(path));
  fs.files.set(path, text);
}

export function installed(fs: Rootfs): Map<string, Record<string, string>> {
  return parseDpkgStatus(fs.files.get(DPKG_STATUS));
}

/** the rootfs a standard template unpacks to */
export function templateRootfs(file: string): Rootfs {
  const os = osOfTemplate(file);
  const fs = emptyRootfs();
  for (const d of ['/bin', '/sbin', '/dev', '/proc', '/sys', '/run', '/tmp', '/root', '/home', '/usr/bin', '/usr/sbin', '/var/log', '/var/tmp', '/var/lib/apt/lists', '/etc/network']) mkdirs(fs, d);
  put(fs, '/etc/os-release', osRelease(os));
  put(fs, '/etc/hostname', 'localhost\n');
  if (os.apt) {
    put(fs, '/etc/debian_version', os.id === 'debian' ? `${os.version}.0\n` : `${os.codename}/sid\n`);
    put(fs, '/etc/apt/sources.list', sourcesList(os.id, os.codename));
    put(fs, DPKG_STATUS, BASE.map(dpkgStanza).join(''));
  }
  return fs;
}

export function rootfsToTar(fs: Rootfs, mtime: number, extra: TarEntry[] = []): Buffer {
  const entries: TarEntry[] = [...extra, { path: './', mtime }]; // vzdump: ./etc/vzdump/pct.conf first, then the rootfs
  for (const d of [...fs.dirs].sort()) entries.push({ path: `.${d}/`, mtime });
  for (const [p, text] of [...fs.files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) entries.push({ path: `.${p}`, data: Buffer.from(text, 'utf8'), mtime });
  return tarEncode(entries);
}

/** archive bytes -> rootfs; throws on an archive the stand-in cannot read */
export function rootfsFromArchive(buf: Buffer): { fs: Rootfs; tarBytes: number } {
  const tar = uncompress(buf);
  const fs = emptyRootfs();
  for (const e of tarDecode(tar)) {
    const p = e.path.replace(/^\.?\/?/, '/').replace(/\/$/, '') || '/';
    if (e.data) put(fs, p, e.data.toString('utf8'));
    else if (p !== '/') mkdirs(fs, p);
  }
  return { fs, tarBytes: tar.length };
}

export function templateArchive(file: string, mtime: number): Buffer {
  return compressFor(file, rootfsToTar(templateRootfs(file), mtime));
}

// --- volumes ---

function volid(g: GuestConf): string | undefined {
  return g.conf.rootfs?.split(',')[0];
}

/** key of the volume's data as seen from `node`: node-local volumes have one copy per node */
function key(m: ClusterModel, node: string, vol: string): string {
  return m.local.volumeNodes.has(vol) ? `${vol}@${node}` : vol;
}

export function volumeData(m: ClusterModel, node: string, vol: string): Rootfs | undefined {
  return m.local.rootfs.get(key(m, node, vol));
}

export function setVolumeData(m: ClusterModel, node: string, vol: string, fs: Rootfs): void {
  m.local.rootfs.set(key(m, node, vol), fs);
}

/** the CT's rootfs on `node` (undefined: the CT has no readable volume there) */
export function ctRootfs(m: ClusterModel, node: string, g: GuestConf): Rootfs | undefined {
  const v = volid(g);
  return v ? volumeData(m, node, v) : undefined;
}

/** the volume is gone (pct destroy): every copy */
export function dropVolumeData(m: ClusterModel, vol: string): void {
  for (const k of [...m.local.rootfs.keys()]) if (k === vol || k.startsWith(`${vol}@`)) m.local.rootfs.delete(k);
}

/** replication: the target gets the source's current state */
export function replicateVolume(m: ClusterModel, vol: string, from: string, to: string): void {
  const src = m.local.rootfs.get(`${vol}@${from}`);
  if (src) m.local.rootfs.set(`${vol}@${to}`, cloneRootfs(src));
}

// --- what Apache serves ---

/** Apache serves the DocumentRoot when apache2 is installed (enabled and started by its postinst
 *  and at every CT start). docroot: path below /var/www/html -> content. */
export interface Serve {
  docroot: Map<string, string>;
}

export function serveOf(fs: Rootfs | undefined): Serve | undefined {
  if (!fs || !installed(fs).has('apache2')) return undefined;
  const docroot = new Map<string, string>();
  for (const [p, text] of fs.files) if (p.startsWith(`${DOCROOT}/`)) docroot.set(p.slice(DOCROOT.length + 1), text);
  return { docroot };
}

export function serveKey(s: Serve | undefined): string {
  return s ? JSON.stringify([...s.docroot].sort()) : '';
}
