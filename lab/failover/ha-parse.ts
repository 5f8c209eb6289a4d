// Parsers for what Proxmox HA tells us. Pure.
// - manager_status JSON: `pvesh get /cluster/ha/status/manager_status --output-format json`
//   ({manager_status:{master_node, node_status, service_status, …}, quorum:{node, quorate}, lrm_status})
//   or the bare /etc/pve/ha/manager_status file form ({master_node, node_status, service_status, …}).
// - CRM/LRM log lines: `journalctl -o short-iso[-precise]`, the classic syslog form
//   ("Sep 08 15:29:23 host pve-ha-crm[1409]: msg", optionally without host/daemon columns).
// Message texts are those of pve-ha-manager (Manager.pm, NodeStatus.pm, LRM.pm; proxmox.md F.4).
import { z } from 'zod';
import type { HaStatus } from './record.js';

const rawService = z.looseObject({
  node: z.string(),
  state: z.string(),
  target: z.string().optional(),
  running: z.union([z.boolean(), z.number()]).optional(),
});
const rawManager = z.looseObject({
  master_node: z.string().optional(),
  node_status: z.record(z.string(), z.string()).optional(),
  service_status: z.record(z.string(), rawService).optional(),
});
const rawPvesh = z.looseObject({
  manager_status: rawManager.optional(),
  quorum: z.looseObject({ node: z.string().optional(), quorate: z.union([z.boolean(), z.number(), z.string()]).optional() }).optional(),
});

/** Parses manager_status (pvesh or file form, text or parsed JSON) into the compact HaStatus. */
export function parseManagerStatus(input: string | unknown): HaStatus {
  const data: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  const isPvesh = typeof data === 'object' && data !== null && ('manager_status' in data || 'lrm_status' in data || 'quorum' in data);
  const outer = isPvesh ? rawPvesh.parse(data) : undefined;
  const m = isPvesh ? (outer?.manager_status ?? {}) : rawManager.parse(data);
  const q = outer?.quorum?.quorate;
  const services: HaStatus['services'] = {};
  for (const [sid, s] of Object.entries(m.service_status ?? {})) {
    services[sid] = {
      node: s.node,
      state: s.state,
      ...(s.target !== undefined ? { target: s.target } : {}),
      ...(s.running !== undefined ? { running: Boolean(Number(s.running)) } : {}),
    };
  }
  return {
    master: m.master_node ?? null,
    quorate: q === undefined ? null : q === true || Number(q) === 1,
    nodes: { ...(m.node_status ?? {}) },
    services,
  };
}

/** What one HA log line or status change says. */
export type HaEvent =
  | { kind: 'node-state'; node: string; from: string; to: string }
  | { kind: 'service-state'; sid: string; from: string; to: string; node?: string; target?: string }
  | { kind: 'fence-try'; node: string }
  | { kind: 'fence-ack'; node: string }
  | { kind: 'recover'; sid: string; from: string; to: string }
  | { kind: 'crm-status'; from: string; to: string }
  | { kind: 'lrm-status'; from: string; to: string }
  | { kind: 'lrm-starting'; sid: string }
  | { kind: 'lrm-started'; sid: string };

/** Changes between two consecutive status polls, as the CRM would have logged them. */
export function diffStatus(prev: HaStatus | undefined, next: HaStatus): HaEvent[] {
  const out: HaEvent[] = [];
  for (const [node, to] of Object.entries(next.nodes)) {
    const from = prev?.nodes[node];
    if (from !== undefined && from !== to) out.push({ kind: 'node-state', node, from, to });
  }
  for (const [sid, s] of Object.entries(next.services)) {
    const p = prev?.services[sid];
    if (p && (p.state !== s.state || p.node !== s.node)) {
      out.push({ kind: 'service-state', sid, from: p.state, to: s.state, node: s.node, ...(s.target ? { target: s.target } : {}) });
    }
  }
  return out;
}

const Q = "'([^']*)'";
const MESSAGES: Array<[RegExp, (m: RegExpExecArray) => HaEvent]> = [
  [new RegExp(`^node ${Q}: state changed from ${Q} => ${Q}`), (m) => ({ kind: 'node-state', node: m[1]!, from: m[2]!, to: m[3]! })],
  [
    new RegExp(`^service ${Q}: state changed from ${Q} to ${Q}(?:\\s+\\(node = ([^,)]+)(?:, target = ([^)]+))?\\))?`),
    (m) => ({ kind: 'service-state', sid: m[1]!, from: m[2]!, to: m[3]!, ...(m[4] ? { node: m[4] } : {}), ...(m[5] ? { target: m[5] } : {}) }),
  ],
  [new RegExp(`fencing: acknowledged - got agent lock for node ${Q}`), (m) => ({ kind: 'fence-ack', node: m[1]! })],
  [new RegExp(`^FENCE: Try to fence node ${Q}`), (m) => ({ kind: 'fence-try', node: m[1]! })],
  [new RegExp(`^recover service ${Q} from fenced node ${Q} to node ${Q}`), (m) => ({ kind: 'recover', sid: m[1]!, from: m[2]!, to: m[3]! })],
  [/^starting service (\S+)$/, (m) => ({ kind: 'lrm-starting', sid: m[1]! })],
  [/^service status (\S+) started$/, (m) => ({ kind: 'lrm-started', sid: m[1]! })],
];
const STATUS_CHANGE = /^status change (\S+) => (\S+)/;

/** Interprets one HA message text (without timestamp/host prefix); undefined for other messages. */
export function parseHaMessage(text: string, daemon?: 'crm' | 'lrm'): HaEvent | undefined {
  const msg = text.trim();
  for (const [re, make] of MESSAGES) {
    const m = re.exec(msg);
    if (m) return make(m);
  }
  const s = STATUS_CHANGE.exec(msg);
  if (s) {
    const crmStates = ['wait_for_quorum', 'master', 'lost_manager_lock', 'slave'];
    const isCrm = daemon ? daemon === 'crm' : crmStates.includes(s[2]!) || crmStates.includes(s[1]!);
    return { kind: isCrm ? 'crm-status' : 'lrm-status', from: s[1]!, to: s[2]! };
  }
  return undefined;
}

export interface JournalLine {
  /** Epoch ms on the writing node's clock. */
  wallMs: number;
  /** Timestamp resolution: 1000 for whole seconds, 0.001 for short-iso-precise microseconds. */
  resolutionMs: number;
  host?: string;
  daemon?: 'crm' | 'lrm';
  text: string;
  event?: HaEvent;
  /** The line as read. */
  raw: string;
}

const ISO_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:?\d\d|Z)\s+(.*)$/;
const SYSLOG_LINE = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d\d):(\d\d):(\d\d)(\.\d+)?\s+(.*)$/;
const DAEMON_PREFIX = /^(?:(\S+)\s+)?pve-ha-(crm|lrm)\[\d+\]:\s?(.*)$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface SyslogContext {
  /** Year for syslog lines, which carry none. */
  year: number;
  /** The node's UTC offset in minutes (syslog lines carry no zone), e.g. 120 for CEST. */
  utcOffsetMin: number;
}

/** Parses one journal/syslog line; undefined for lines that are not log lines (headers, blanks). */
export function parseJournalLine(raw: string, ctx?: SyslogContext): JournalLine | undefined {
  const line = raw.replace(/\s+$/, '');
  let wallMs: number;
  let resolutionMs: number;
  let rest: string;
  const iso = ISO_LINE.exec(line);
  if (iso) {
    const zone = iso[3] === 'Z' ? 'Z' : iso[3]!.replace(/^([+-]\d\d)(\d\d)$/, '$1:$2');
    wallMs = Date.parse(`${iso[1]}${zone}`) + fraction(iso[2]);
    resolutionMs = iso[2] ? 1000 / 10 ** (iso[2].length - 1) : 1000;
    rest = iso[4]!;
  } else {
    const sl = SYSLOG_LINE.exec(line);
    if (!sl || !ctx) return undefined;
    const month = MONTHS.indexOf(sl[1]!);
    if (month < 0) return undefined;
    const utc = Date.UTC(ctx.year, month, Number(sl[2]), Number(sl[3]), Number(sl[4]), Number(sl[5]));
    wallMs = utc - ctx.utcOffsetMin * 60_000 + fraction(sl[6]);
    resolutionMs = sl[6] ? 1000 / 10 ** (sl[6].length - 1) : 1000;
    rest = sl[7]!;
  }
  if (!Number.isFinite(wallMs)) return undefined;
  const d = DAEMON_PREFIX.exec(rest);
  const daemon = d ? (d[2] as 'crm' | 'lrm') : undefined;
  const text = (d ? d[3]! : rest).trim();
  const event = parseHaMessage(text, daemon);
  return { wallMs, resolutionMs, ...(d?.[1] ? { host: d[1] } : {}), ...(daemon ? { daemon } : {}), text, ...(event ? { event } : {}), raw };
}

function fraction(f: string | undefined): number {
  return f ? Number(`0${f}`) * 1000 : 0;
}

/** Parses many lines, dropping non-log lines (journalctl headers, "-- No entries --"). */
export function parseJournal(lines: readonly string[], ctx?: SyslogContext): JournalLine[] {
  const out: JournalLine[] = [];
  for (const l of lines) {
    const p = parseJournalLine(l, ctx);
    if (p) out.push(p);
  }
  return out;
}

/** argv to read the HA daemons' journal for a window (epoch ms), microsecond timestamps with zone. */
export function journalArgv(sinceWallMs: number, untilWallMs: number): string[] {
  const s = (ms: number) => `@${Math.floor(ms / 1000)}`;
  return ['journalctl', '-u', 'pve-ha-crm', '-u', 'pve-ha-lrm', '-o', 'short-iso-precise', '--no-pager', '--since', s(sinceWallMs), '--until', s(untilWallMs + 1000)];
}

/** argv to read manager_status as JSON on a node. */
export const MANAGER_STATUS_ARGV: readonly string[] = ['pvesh', 'get', '/cluster/ha/status/manager_status', '--output-format', 'json'];
