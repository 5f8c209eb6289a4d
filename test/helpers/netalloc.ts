// Address bookkeeping for test namespaces in the root network namespace.
// Contract: claimedPrefixes() lists every IPv4 prefix the root ns already uses (interface addresses and
// routes of all tables, 'default' excluded); a test subnet is only used if it overlaps none of them.
import { run } from './run.js';

export interface Claimed {
  cidr: string;
  dev?: string;
}

function toInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new Error(`bad IPv4 ${ip}`);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

function range(cidr: string): [number, number] {
  const [ip, bitsS] = cidr.split('/');
  const bits = bitsS === undefined ? 32 : Number(bitsS);
  const size = 2 ** (32 - bits);
  const start = Math.floor(toInt(ip ?? '') / size) * size;
  return [start, start + size - 1];
}

export function cidrOverlaps(a: string, b: string): boolean {
  const [as, ae] = range(a);
  const [bs, be] = range(b);
  return as <= be && bs <= ae;
}

export async function claimedPrefixes(): Promise<Claimed[]> {
  const out: Claimed[] = [];
  const addrs = await run(['ip', '-4', '-o', 'addr', 'show']);
  for (const line of addrs.stdout.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line);
    if (m) out.push({ dev: m[1]!, cidr: m[2]! });
  }
  const routes = await run(['ip', '-4', 'route', 'show', 'table', 'all']);
  for (const line of routes.stdout.split('\n')) {
    const t = line.trim().split(/\s+/);
    let dst = t[0];
    if (dst && ['local', 'broadcast', 'unicast', 'unreachable', 'blackhole', 'prohibit', 'throw'].includes(dst)) dst = t[1];
    if (!dst || dst === 'default' || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) continue;
    const devIdx = t.indexOf('dev');
    out.push({ cidr: dst, dev: devIdx >= 0 ? t[devIdx + 1] : undefined });
  }
  return out;
}

/** Deterministic first guess from `seed`, then pseudo-random probes; always in [0, slots). */
function pickSlot(seed: number, attempt: number, slots: number): number {
  if (attempt === 0) return seed % slots;
  return (seed + attempt * 7919 + Math.floor(Math.random() * slots)) % slots;
}

/**
 * Throws unless the root ns routes `ip` into a lab namespace (via an "lns<pid>" uplink veth). Call it
 * before sending traffic to a lab address: once a namespace is down its route is gone, and packets
 * would leave through the default route towards a real network.
 */
export async function assertLabRoute(ip: string): Promise<void> {
  const r = await run(['ip', '-o', 'route', 'get', ip], { allowFail: true });
  if (r.exitCode !== 0 || !/\bdev lns\d+\b/.test(r.stdout)) {
    throw new Error(`refusing to send traffic to ${ip}: not routed into a lab namespace (${(r.stdout || r.stderr).trim()})`);
  }
}

/**
 * Lock-free /30 claim in 10.250.0.0/16 for the root-ns end `hostIf` of an uplink veth: the slot comes
 * from `seed` (the namespace init pid, unique among live processes); slots any root-ns address or
 * route covers are skipped; after adding our address, if another interface holds the same /30
 * (a concurrent claim), we back off and try another slot.
 */
export async function claimUplink30(hostIf: string, seed: number): Promise<{ hostIp: string; nsIp: string }> {
  for (let attempt = 0; attempt < 32; attempt++) {
    const slot = pickSlot(seed, attempt, 16384);
    const [c, d] = [slot >> 6, (slot & 63) << 2];
    const cidr = `10.250.${c}.${d}/30`;
    if ((await claimedPrefixes()).some((p) => cidrOverlaps(p.cidr, cidr))) continue;
    const hostIp = `10.250.${c}.${d + 1}`;
    await run(['ip', 'addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
    if ((await claimedPrefixes()).some((p) => p.dev !== hostIf && cidrOverlaps(p.cidr, cidr))) {
      await run(['ip', 'addr', 'del', `${hostIp}/30`, 'dev', hostIf], { allowFail: true });
      await new Promise((r) => setTimeout(r, Math.random() * 50));
      continue;
    }
    return { hostIp, nsIp: `10.250.${c}.${d + 2}` };
  }
  throw new Error('no free /30 in 10.250.0.0/16');
}

/** First /24 base ("10.X.Y") in 10.208.0.0/12 that overlaps no root-ns address/route and is not in `taken`. */
export async function pickFree24(seed: number, taken: ReadonlySet<string>): Promise<string> {
  for (let attempt = 0; attempt < 64; attempt++) {
    const slot = pickSlot(seed, attempt, 4096);
    const base = `10.${208 + (slot >> 8)}.${slot & 255}`;
    const cidr = `${base}.0/24`;
    if (taken.has(cidr) || (await claimedPrefixes()).some((p) => cidrOverlaps(p.cidr, cidr))) continue;
    return base;
  }
  throw new Error('no free /24 in 10.208.0.0/12');
}
