// Archive formats the stand-in writes and reads on a node's disk (container templates, vzdump
// archives): POSIX ustar (pax-free, names split into prefix/name like GNU tar does for <= 255 bytes)
// and a zstd frame (RFC 8878) made of raw and RLE blocks only — valid for `zstd -d` and `tar --zstd`,
// just not compressed beyond runs of equal bytes. `.tar.gz` uses real gzip. Decoding accepts exactly
// what encoding produces (plus any gzip), so a foreign file is reported as an unreadable archive.
import { gunzipSync, gzipSync } from 'node:zlib';

export interface TarEntry {
  path: string; // './etc/os-release', directories end with '/'
  data?: Buffer; // regular files
  mode?: number;
  mtime?: number; // seconds
}

const BLOCK = 512;
const RECORD = 10240; // GNU tar default blocking factor 20

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const dir = e.path.endsWith('/');
  let name = e.path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - (dir ? 2 : 1));
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar: name too long: ${e.path}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode ?? (dir ? 0o755 : 0o644), 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(dir ? 0 : e.data?.length ?? 0, 12), 124, 'ascii');
  h.write(octal(Math.floor(e.mtime ?? 0), 12), 136, 'ascii');
  h.write(dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function tarEncode(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if (!e.path.endsWith('/') && e.data?.length) {
      parts.push(e.data, Buffer.alloc((BLOCK - (e.data.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const len = parts.reduce((a, b) => a + b.length, 0);
  parts.push(Buffer.alloc((RECORD - (len % RECORD)) % RECORD));
  return Buffer.concat(parts);
}

export function tarDecode(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  for (let off = 0; off + BLOCK <= buf.length;) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.toString('utf8', a, a + n).replace(/\0.*$/s, '');
    if (!str(257, 6).startsWith('ustar')) throw new Error('tar: not a ustar header');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (parseInt(str(148, 8).trim(), 8) !== sum) throw new Error('tar: header checksum mismatch');
    const prefix = str(345, 155);
    const path = (prefix ? `${prefix}/` : '') + str(0, 100);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = str(156, 1) || '0';
    const mode = parseInt(str(100, 8).trim() || '0', 8);
    const mtime = parseInt(str(136, 12).trim() || '0', 8);
    off += BLOCK;
    if (type === '5') out.push({ path: path.endsWith('/') ? path : `${path}/`, mode, mtime });
    else if (type === '0') out.push({ path, data: Buffer.from(buf.subarray(off, off + size)), mode, mtime });
    off += Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

const ZSTD_MAGIC = 0xfd2fb528;
const MAX_BLOCK = 128 * 1024;

/** one zstd frame: single segment, 8-byte content size, raw blocks with runs of >= 16 equal bytes as RLE blocks */
export function zstdEncode(data: Buffer): Buffer {
  const head = Buffer.alloc(13);
  head.writeUInt32LE(ZSTD_MAGIC, 0);
  head[4] = 0xe0; // FCS field 8 bytes, single segment, no checksum, no dictionary
  head.writeBigUInt64LE(BigInt(data.length), 5);
  const blocks: Buffer[] = [];
  const block = (type: 0 | 1, size: number, body: Buffer) => {
    const b = Buffer.alloc(3);
    b.writeUIntLE((size << 3) | (type << 1), 0, 3);
    blocks.push(b, body);
  };
  let i = 0;
  let rawStart = 0;
  const flushRaw = (end: number) => {
    for (let s = rawStart; s < end; s += MAX_BLOCK) block(0, Math.min(MAX_BLOCK, end - s), data.subarray(s, Math.min(end, s + MAX_BLOCK)));
  };
  while (i < data.length) {
    let j = i + 1;
    while (j < data.length && data[j] === data[i] && j - i < MAX_BLOCK) j++;
    if (j - i >= 16) {
      flushRaw(i);
      block(1, j - i, data.subarray(i, i + 1));
      rawStart = j;
    }
    i = j;
  }
  flushRaw(data.length);
  if (!blocks.length) block(0, 0, Buffer.alloc(0));
  const last = blocks[blocks.length - 2]!;
  last[0]! |= 1;
  return Buffer.concat([head, ...blocks]);
}

export function isZstd(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === ZSTD_MAGIC;
}

/** decodes frames made of raw/RLE blocks (what zstdEncode writes); throws on anything else */
export function zstdDecode(buf: Buffer): Buffer {
  if (!isZstd(buf)) throw new Error('zstd: unknown header');
  const fhd = buf[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  if (fhd & 0x07) throw new Error('zstd: dictionary/checksum frames not supported');
  let off = 5 + (single ? 0 : 1);
  off += [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  const out: Buffer[] = [];
  for (;;) {
    if (off + 3 > buf.length) throw new Error('zstd: truncated frame');
    const bh = buf.readUIntLE(off, 3);
    off += 3;
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >> 3;
    if (type === 0) {
      out.push(buf.subarray(off, off + size));
      off += size;
    } else if (type === 1) {
      out.push(Buffer.alloc(size, buf[off]!));
      off += 1;
    } else throw new Error('zstd: compressed blocks not supported by the stand-in');
    if (last) break;
  }
  return Buffer.concat(out);
}

/** compress a tar by the archive's file name (.tar.zst -> zstd frame, .tar.gz -> gzip, else plain) */
export function compressFor(name: string, tar: Buffer): Buffer {
  if (/\.tar\.zst$/.test(name)) return zstdEncode(tar);
  if (/\.tar\.gz$/.test(name)) return gzipSync(tar);
  return tar;
}

/** the tar inside a stand-in archive (by magic, not by name) */
export function uncompress(buf: Buffer): Buffer {
  if (isZstd(buf)) return zstdDecode(buf);
  if (buf[0] === 0x1f && buf[1] === 0x8b) return gunzipSync(buf);
  return buf;
}
