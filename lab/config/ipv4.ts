// Pure IPv4 arithmetic for the lab's addressing plan.

export interface Cidr {
  base: number; // network address as an unsigned 32-bit number
  prefix: number;
}

/** Parses "a.b.c.d"; returns null when it is not a valid dotted quad. */
export function parseIp(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "a.b.c.d/nn"; returns null when malformed. Host bits are kept as written (see isNetworkAddress). */
export function parseCidr(text: string): (Cidr & { addr: number }) | null {
  const [ip, len] = text.split('/');
  if (ip === undefined || len === undefined || !/^\d{1,2}$/.test(len)) return null;
  const addr = parseIp(ip);
  const prefix = Number(len);
  if (addr === null || prefix > 32) return null;
  return { base: (addr & maskOf(prefix)) >>> 0, prefix, addr };
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const m = maskOf(p);
  return ((a.base & m) >>> 0) === ((b.base & m) >>> 0);
}

/** The n-th address of a network (n = 1 is the first host address). */
export function nthHost(c: Cidr, n: number): number {
  return (c.base + n) >>> 0;
}

export function broadcast(c: Cidr): number {
  return (c.base | (~maskOf(c.prefix) >>> 0)) >>> 0;
}

export function netmask(prefix: number): string {
  return formatIp(maskOf(prefix));
}
