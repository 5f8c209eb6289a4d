// Output conventions of Proxmox's Perl tools, as pure helpers:
// - JSON as PVE::CLIFormatter prints it: canonical (sorted keys), `json` = one line, `json-pretty` =
//   JSON::XS pretty (3-space indent, `"k" : v`), both followed by "\n" (CLIFormatter.pm:386-389).
// - PveError mirrors PVE::Exception: stringify = "<code> <msg>" when a code is set, then one
//   "<param>: <error>" line per error, then the usage (pve-common Exception.pm:98-128).
// - Perl's scalar localtime() ("Wed Nov 23 11:07:23 2016") and syslog-style dates, always UTC.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };

export function toJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

export function toJsonPretty(v: unknown, level = 0): string {
  return prettyValue(sortKeys(v), level) + (level === 0 ? '\n' : '');
}

function prettyValue(v: unknown, level: number): string {
  const pad = (n: number) => '   '.repeat(n);
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return `[\n${v.map((x) => pad(level + 1) + prettyValue(x, level + 1)).join(',\n')}\n${pad(level)}]`;
  }
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) return '{}';
    const rows = keys.map((k) => `${pad(level + 1)}${JSON.stringify(k)} : ${prettyValue((v as Record<string, unknown>)[k], level + 1)}`);
    return `{\n${rows.join(',\n')}\n${pad(level)}}`;
  }
  return JSON.stringify(v);
}

export class PveError extends Error {
  constructor(
    msg: string,
    readonly code?: number,
    readonly errors?: Record<string, string>,
    public usage?: string,
  ) {
    super(msg);
  }

  /** PVE::Exception::stringify (messages here always carry their trailing newline). */
  stringify(): string {
    let s = this.code ? `${this.code} ${this.message}` : this.message;
    if (!s.endsWith('\n')) s += '\n';
    for (const [k, v] of Object.entries(this.errors ?? {})) s += `${k}: ${v}\n`;
    if (this.usage) s += this.usage.endsWith('\n') ? this.usage : `${this.usage}\n`;
    return s;
  }
}

/** PVE::Exception::raise_param_exc: "400 Parameter verification failed." + one line per param. */
export function paramError(errors: Record<string, string>, usage?: string): PveError {
  return new PveError('Parameter verification failed.\n', 400, errors, usage);
}

/** A plain Perl `die "...\n"`. */
export function die(msg: string): PveError {
  return new PveError(msg.endsWith('\n') ? msg : `${msg}\n`);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** Perl scalar localtime (UTC): "Wed Nov 23 11:07:23 2016", day of month space-padded. */
export function perlLocaltime(epoch: number): string {
  const d = new Date(Math.floor(epoch) * 1000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** syslog/journal short: "Sep 08 15:29:23". */
export function syslogDate(epoch: number): string {
  const d = new Date(Math.floor(epoch) * 1000);
  return `${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}

/** journalctl short-iso (UTC): "2026-01-01T00:00:00+0000" (systemd < 255) or "+00:00" (>= 255). */
export function isoDate(epoch: number, colon: boolean, precise = false): string {
  const d = new Date(Math.floor(epoch) * 1000);
  const base = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  const us = precise ? `.${String(Math.floor((epoch % 1) * 1e6)).padStart(6, '0')}` : '';
  return base + us + (colon ? '+00:00' : '+0000');
}

/** ctime(3), as corosync-quorumtool prints "Date:" (same layout as Perl localtime). */
export const cDate = perlLocaltime;
