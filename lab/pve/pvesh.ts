// `pvesh` over a node Runner: always `--output-format json`, and Proxmox's error text becomes a
// PveError naming the API path. pvesh prints a failed call as a Perl exception on stderr:
//   "<HTTP code> <message>\n<param>: <param error>\n…" (pve-common PVE/Exception.pm stringify) or a
// plain "<message>\n" from die; "No 'get' handler defined for '<path>'" for unknown paths (pvesh.pm).
// Never pass secrets as params: they would be argv.
import { CommandError, LabError, type LabErrorOptions } from '../core/errors.js';
import type { Runner } from '../exec/runner.js';

export type PveshVerb = 'get' | 'create' | 'set' | 'delete';
export type PveParam = string | number | boolean | undefined;
export type PveParams = Record<string, PveParam>;

/** A Proxmox API call failed. `status` is the HTTP-like code when Proxmox printed one. */
export class PveError extends LabError {
  constructor(
    readonly node: string,
    readonly path: string,
    readonly detail: string,
    readonly status?: number,
    opts: LabErrorOptions = {},
  ) {
    super(`Proxmox ${node}: ${path}: ${detail}`, opts);
  }
  /** Proxmox said the object does not exist. */
  get notFound(): boolean {
    return this.status === 404 || /does not exist|not found|no such|No '\w+' handler/i.test(this.detail);
  }
  get alreadyExists(): boolean {
    return /already (exists|defined)/i.test(this.detail);
  }
}

/** argv for one pvesh call; booleans become 1/0, undefined params are left out. */
export function pveshArgv(verb: PveshVerb, path: string, params: PveParams = {}): string[] {
  const argv = ['pvesh', verb, path];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    argv.push(`--${k}`, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  argv.push('--output-format', 'json');
  return argv;
}

/** Distils pvesh's stderr into one message and the HTTP-like code, dropping usage text and Perl locations. */
export function parsePveshError(stderr: string): { status?: number; message: string } {
  const lines = stderr.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const kept: string[] = [];
  for (const l of lines) {
    if (/^(USAGE|Usage):|^\s*pvesh \w+ /.test(l)) break;
    if (/^\s*\.\.\.propagated at /.test(l)) continue;
    kept.push(l.replace(/ at \/usr\/share\/perl5\/\S+ line \d+\.?$/, ''));
  }
  let status: number | undefined;
  const first = kept[0] ?? '';
  const m = /^(\d{3}) (.*)$/.exec(first);
  if (m) {
    status = Number(m[1]);
    kept[0] = m[2] ?? '';
  }
  const message = kept.join('; ').trim() || 'failed without a message';
  return status === undefined ? { message } : { status, message };
}

function parseJson(node: string, path: string, stdout: string): unknown {
  const t = stdout.trim();
  if (t === '') return null;
  try {
    return JSON.parse(t);
  } catch {
    // Worker-style calls print task output before the JSON result (e.g. a UPID string on the last line).
    const last = t.split('\n').pop() ?? '';
    try {
      return JSON.parse(last);
    } catch {
      throw new PveError(node, path, `pvesh did not print JSON: ${t.slice(0, 200)}`);
    }
  }
}

export interface PveshOptions {
  timeoutMs?: number;
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
}

/** Typed pvesh calls on one node. */
export class Pvesh {
  constructor(readonly runner: Runner) {}

  get<T = unknown>(path: string, params?: PveParams, o?: PveshOptions): Promise<T> {
    return this.call('get', path, params, o) as Promise<T>;
  }
  create<T = unknown>(path: string, params?: PveParams, o?: PveshOptions): Promise<T> {
    return this.call('create', path, params, o) as Promise<T>;
  }
  set<T = unknown>(path: string, params?: PveParams, o?: PveshOptions): Promise<T> {
    return this.call('set', path, params, o) as Promise<T>;
  }
  delete<T = unknown>(path: string, params?: PveParams, o?: PveshOptions): Promise<T> {
    return this.call('delete', path, params, o) as Promise<T>;
  }

  async call(verb: PveshVerb, path: string, params?: PveParams, o: PveshOptions = {}): Promise<unknown> {
    const node = this.runner.where;
    let r;
    try {
      r = await this.runner.run(pveshArgv(verb, path, params), { timeoutMs: o.timeoutMs ?? 120_000, onOutput: o.onOutput, signal: o.signal });
    } catch (err) {
      if (err instanceof CommandError && err.exitCode_ !== undefined) {
        const { status, message } = parsePveshError(err.stderrTail);
        throw new PveError(node, path, message, status, { cause: err });
      }
      throw err;
    }
    return parseJson(node, path, r.stdout);
  }
}

/** Perl JSON booleans/numbers come as 1/0, "1"/"0" or true/false. */
export function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === '1';
}
