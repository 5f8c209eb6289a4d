// One SSH login attempt to a node as root with the lab key (runs `true`), in one of two modes:
//   verify:        the node's key must match the pin in the lab's known_hosts (read only; check() uses it);
//   first-contact: right after pvelab's own install, the key the node offers is taken (trust on first
//                  use) and returned; the caller pins it. The attempt pins into a per-node scratch file,
//                  so parallel first contacts never race on the shared known_hosts file.
// Every attempt opens and closes its own connection (no retries here: callers poll).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeNames } from '../config/names.js';
import type { LabState } from '../core/state.js';
import { SshPool } from '../ssh/client.js';
import { HostKeyMismatchError, type HostKey, pinnedKey, readKnownHosts, removePin, writePin } from '../ssh/known-hosts.js';

export type SshProbeResult =
  | { ok: true; hostKey?: HostKey | undefined }
  | { ok: false; seen: string }
  | { ok: false; mismatch: HostKeyMismatchError };

export interface NodeSsh {
  probe(node: NodeNames, mode: 'verify' | 'first-contact'): Promise<SshProbeResult>;
  /** The key pinned for a node, if any. */
  pinned(node: NodeNames): Promise<HostKey | undefined>;
  /** Pins `key` for the node (replacing an older pin); serialized across nodes. */
  pin(node: NodeNames, key: HostKey): Promise<void>;
  /** Forgets a node's pin (its system was just reinstalled). */
  forget(node: NodeNames): Promise<void>;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The real prober: ssh2 through lab/ssh's pool, with the lab key and the lab's known_hosts. */
export function labNodeSsh(state: LabState, opts: { readyTimeoutMs?: number; execTimeoutMs?: number } = {}): NodeSsh {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const attempt = async (node: NodeNames, knownHostsPath: string, trustOnFirstUse: boolean): Promise<SshProbeResult> => {
    const pool = new SshPool([{ name: node.name, host: node.ip }], {
      privateKey: state.sshKeyPath,
      knownHostsPath,
      trustOnFirstUse,
      connectAttempts: 1,
      readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
    });
    try {
      const r = await pool.exec(node.name, 'true', { timeoutMs: opts.execTimeoutMs ?? 30_000 });
      return r.exitCode === 0 ? { ok: true } : { ok: false, seen: `\`true\` exited with ${r.exitCode ?? r.signal}` };
    } catch (err) {
      if (err instanceof HostKeyMismatchError) return { ok: false, mismatch: err };
      return { ok: false, seen: errText(err) };
    } finally {
      await pool.close();
    }
  };
  return {
    async probe(node, mode) {
      if (mode === 'verify') return attempt(node, state.knownHostsPath, false);
      const scratch = join(state.dir, 'ssh', `first-contact-${node.name}`);
      await rm(scratch, { force: true });
      try {
        const r = await attempt(node, scratch, true);
        if (!r.ok) return r;
        const key = pinnedKey(await readKnownHosts(scratch), node.name);
        return key ? { ok: true, hostKey: key } : { ok: false, seen: 'logged in but no host key was recorded' };
      } finally {
        await rm(scratch, { force: true });
      }
    },
    async pinned(node) {
      return pinnedKey(await readKnownHosts(state.knownHostsPath), node.name);
    },
    pin: (node, key) => serial(() => writePin(state.knownHostsPath, node.name, node.ip, key)),
    forget: (node) => serial(() => removePin(state.knownHostsPath, node.name)),
  };
}
