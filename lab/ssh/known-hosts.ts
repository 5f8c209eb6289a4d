// Pinned node host keys in an OpenSSH known_hosts file (LabState.knownHostsPath), one line per node:
//   <node>,<ip> <key-type> <base64 key blob>
// so `ssh -o UserKnownHostsFile=<file> root@<ip>` trusts exactly the same keys as pvelab.
// Contract: a node has at most one pinned key; pinning replaces the node's line atomically (0600).
import { readFile } from 'node:fs/promises';
import { LabError } from '../core/errors.js';
import { writeFileAtomic } from '../core/state.js';

export interface HostKey {
  /** e.g. "ssh-ed25519" (read from the blob itself). */
  type: string;
  /** The SSH wire-format public key blob, base64. */
  base64: string;
}

export interface KnownHost {
  /** Host patterns of the line (node name, IP). */
  hosts: string[];
  key: HostKey;
}

/** Decodes the key type from an SSH public key blob (string length + name at the start). */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new LabError('malformed SSH host key (too short)');
  const len = blob.readUInt32BE(0);
  if (len < 1 || len > 64 || 4 + len > blob.length) throw new LabError('malformed SSH host key (bad type field)');
  return { type: blob.subarray(4, 4 + len).toString('ascii'), base64: blob.toString('base64') };
}

/** Parses a known_hosts text; comments, blank, hashed (|1|…) and @marker lines are skipped. */
export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('|') || line.startsWith('@')) continue;
    const [hosts, type, base64] = line.split(/\s+/);
    if (!hosts || !type || !base64) continue;
    out.push({ hosts: hosts.split(','), key: { type, base64 } });
  }
  return out;
}

export function formatKnownHost(h: KnownHost): string {
  return `${h.hosts.join(',')} ${h.key.type} ${h.key.base64}`;
}

/** The key pinned for a node (matched by its name, the first host pattern we write). */
export function pinnedKey(entries: readonly KnownHost[], node: string): HostKey | undefined {
  return entries.find((e) => e.hosts[0] === node)?.key;
}

export function sameKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.base64 === b.base64;
}

export async function readKnownHosts(path: string): Promise<KnownHost[]> {
  try {
    return parseKnownHosts(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Pins (or re-pins) `key` for `node` reachable at `ip`; other nodes' lines are kept. */
export async function writePin(path: string, node: string, ip: string, key: HostKey): Promise<void> {
  const rest = (await readKnownHosts(path)).filter((e) => e.hosts[0] !== node);
  const lines = [...rest, { hosts: [node, ip], key }].map(formatKnownHost);
  await writeFileAtomic(path, lines.join('\n') + '\n', 0o600);
}

/** Removes a node's pin (after a reinstall). Succeeds when there is none. */
export async function removePin(path: string, node: string): Promise<void> {
  const all = await readKnownHosts(path);
  const rest = all.filter((e) => e.hosts[0] !== node);
  if (rest.length !== all.length) await writeFileAtomic(path, rest.map(formatKnownHost).join('\n') + (rest.length ? '\n' : ''), 0o600);
}

/** The node answered with a key other than the pinned one: refuse, and name the fix. */
export class HostKeyMismatchError extends LabError {
  constructor(readonly node: string, readonly ip: string, readonly knownHostsPath: string, pinned: HostKey, offered: HostKey) {
    super(`host key of ${node} (${ip}) does not match the pinned key: pinned ${pinned.type}, offered ${offered.type} ${offered.base64.slice(-12)}`, {
      hint:
        `if ${node} was reinstalled, forget its old key with \`ssh-keygen -R ${node} -f ${knownHostsPath}\` and run again; ` +
        `otherwise another machine answers at ${ip} — check the lab network before trusting it`,
    });
  }
}
