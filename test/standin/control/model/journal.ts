// Per-node systemd journal of the stand-in: entries written by the modelled daemons, read back by
// `journalctl`. Output layouts follow systemd's logs-show.c: short = "Mon DD HH:MM:SS host ident[pid]: msg",
// short-iso = ISO date ("+0000" before systemd 255, "+00:00" since), "-- Boot <id> --" between boots,
// "-- No entries --" when nothing matches. All times UTC (the stand-in nodes run in UTC).
import { isoDate, syslogDate, toJson } from './perl.js';

export interface JournalEntry {
  t: number;
  node: string;
  unit: string; // systemd unit without ".service"
  ident: string; // SYSLOG_IDENTIFIER
  pid: number;
  prio: number; // syslog priority 0..7
  msg: string;
  boot: string; // 32 hex
  seq: number;
}

export interface JournalQuery {
  units?: string[];
  since?: number;
  until?: number;
  lines?: number;
  boot?: string; // only this boot
  reverse?: boolean;
}

export type JournalMode = 'short' | 'short-iso' | 'short-iso-precise' | 'short-precise' | 'short-unix' | 'cat' | 'json';

export const PRIO: Record<string, number> = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7 };

export class Journal {
  private entries: JournalEntry[] = [];
  private seq = 0;

  add(e: Omit<JournalEntry, 'seq'>): void {
    for (const line of e.msg.replace(/\n+$/, '').split('\n')) this.entries.push({ ...e, msg: line, seq: this.seq++ });
  }

  all(): readonly JournalEntry[] {
    return this.entries;
  }

  query(node: string, q: JournalQuery = {}): JournalEntry[] {
    const units = q.units?.map((u) => u.replace(/\.service$/, ''));
    let out = this.entries.filter(
      (e) =>
        e.node === node &&
        (!units || units.includes(e.unit)) &&
        (q.since === undefined || e.t >= q.since) &&
        (q.until === undefined || e.t <= q.until) &&
        (q.boot === undefined || e.boot === q.boot),
    );
    out.sort((a, b) => a.t - b.t || a.seq - b.seq);
    if (q.lines !== undefined) out = q.lines === 0 ? [] : out.slice(-q.lines);
    if (q.reverse) out.reverse();
    return out;
  }

  render(entries: JournalEntry[], mode: JournalMode, isoColon: boolean, opts: { quiet?: boolean; noHostname?: boolean } = {}): string {
    if (!entries.length) return opts.quiet || mode === 'json' || mode === 'cat' ? '' : '-- No entries --\n';
    let out = '';
    let prevBoot: string | undefined;
    for (const e of entries) {
      if (mode === 'json') {
        out += toJson({
          __REALTIME_TIMESTAMP: String(Math.round(e.t * 1e6)),
          _BOOT_ID: e.boot,
          _HOSTNAME: e.node,
          _PID: String(e.pid),
          _SYSTEMD_UNIT: `${e.unit}.service`,
          SYSLOG_IDENTIFIER: e.ident,
          PRIORITY: String(e.prio),
          MESSAGE: e.msg,
        }) + '\n';
        continue;
      }
      if (prevBoot !== undefined && prevBoot !== e.boot && !opts.quiet) out += `-- Boot ${e.boot} --\n`;
      prevBoot = e.boot;
      if (mode === 'cat') {
        out += `${e.msg}\n`;
        continue;
      }
      let ts: string;
      if (mode === 'short-iso') ts = isoDate(e.t, isoColon);
      else if (mode === 'short-iso-precise') ts = isoDate(e.t, isoColon, true);
      else if (mode === 'short-unix') ts = `${Math.floor(e.t)}.${String(Math.floor((e.t % 1) * 1e6)).padStart(6, '0')}`;
      else if (mode === 'short-precise') ts = `${syslogDate(e.t)}.${String(Math.floor((e.t % 1) * 1e6)).padStart(6, '0')}`;
      else ts = syslogDate(e.t);
      const host = opts.noHostname ? '' : ` ${e.node}`;
      out += `${ts}${host} ${e.ident}[${e.pid}]: ${e.msg}\n`;
    }
    return out;
  }
}

const UNIT_SEC: Array<[RegExp, number]> = [
  [/^(us|usec)$/, 1e-6],
  [/^(ms|msec)$/, 1e-3],
  [/^(s|sec|secs|second|seconds)?$/, 1],
  [/^(m|min|mins|minute|minutes)$/, 60],
  [/^(h|hr|hour|hours)$/, 3600],
  [/^(d|day|days)$/, 86400],
  [/^(w|week|weeks)$/, 604800],
];

function spanSeconds(s: string): number | undefined {
  let total = 0;
  let rest = s.trim();
  if (!rest) return undefined;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)\s*/.exec(rest);
    if (!m) return undefined;
    const unit = UNIT_SEC.find(([re]) => re.test(m[2]!));
    if (!unit) return undefined;
    total += Number(m[1]) * unit[1];
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** systemd parse_timestamp() subset (UTC): @epoch, now/today/yesterday/tomorrow, ±span, "span ago",
 *  "YYYY-MM-DD[( |T)HH:MM[:SS]][Z| UTC|±HH[:]MM]", "HH:MM[:SS]". Returns undefined when unparseable. */
export function parseTimestamp(input: string, now: number): number | undefined {
  const s = input.trim();
  const dayStart = Math.floor(now / 86400) * 86400;
  if (s === 'now') return now;
  if (s === 'today') return dayStart;
  if (s === 'yesterday') return dayStart - 86400;
  if (s === 'tomorrow') return dayStart + 86400;
  let m = /^@(\d+(?:\.\d+)?)$/.exec(s);
  if (m) return Number(m[1]);
  m = /^([+-])(.+)$/.exec(s);
  if (m && !/^\d{4}-/.test(m[2]!)) {
    const span = spanSeconds(m[2]!);
    return span === undefined ? undefined : now + (m[1] === '-' ? -span : span);
  }
  m = /^(.+?)\s+ago$/.exec(s);
  if (m) {
    const span = spanSeconds(m[1]!);
    return span === undefined ? undefined : now - span;
  }
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) {
    let t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) / 1000;
    const tz = m[7];
    if (tz && tz !== 'Z' && tz !== 'UTC') {
      const z = /([+-])(\d{2}):?(\d{2})/.exec(tz)!;
      t -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3]) * 60);
    }
    return Number.isNaN(t) ? undefined : t;
  }
  m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m) return dayStart + Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
  return undefined;
}
