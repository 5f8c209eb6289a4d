// Test worlds for the failover tests, built from the Proxmox fixtures (not a test file itself).
// - The HA simulator logs (times in simulated seconds) become short-iso journal captures (CRM lines on
//   the master, LRM lines on their node) and 1 Hz manager_status polls replayed from the same events.
// - HTTP samples come from a tiny "world": the service answers when up(t) says so.
// All times are anchored at BASE_WALL; the run clock maps wall BASE_WALL to monotonic MONO0.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHaMessage } from '../../lab/failover/ha-parse.js';
import type { HaSnapshot, HaStatus, HttpSample, JournalCapture, RunRecord, TrialRecord } from '../../lab/failover/record.js';
import { RUN_SCHEMA, RUN_SCHEMA_VERSION } from '../../lab/failover/record.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A Proxmox fixture: test/fixtures/pve/NAME in the repo, else the shared fixture directory. */
export function fixture(name: string): string {
  for (const dir of [join(root, 'test/fixtures/pve'), join(root, '../shared/fixtures/pve')]) {
    const p = join(dir, name);
    if (existsSync(p)) return readFileSync(p, 'utf8');
  }
  throw new Error(`fixture ${name} not found in test/fixtures/pve or ../shared/fixtures/pve`);
}

export const BASE_WALL = Date.UTC(2025, 2, 14, 9, 0, 0); // simulated t=0
export const MONO0 = 50_000;
export const monoOf = (simS: number) => MONO0 + simS * 1000;

export interface SimLine {
  t: number;
  who: string; // "node1/crm", "cmdlist", "watchdog", …
  msg: string;
}

/** Lines of a pve-ha-manager simulator log ("info    120    node1/crm: …"). */
export function simLines(text: string): SimLine[] {
  const out: SimLine[] = [];
  for (const l of text.split('\n')) {
    const m = /^(\w+)\s+(\d+)\s+(\S+?):\s(.*)$/.exec(l);
    if (m) out.push({ t: Number(m[2]), who: m[3]!, msg: m[4]! });
  }
  return out;
}

const iso = (simS: number) => new Date(BASE_WALL + simS * 1000).toISOString().replace('Z', '+0000').replace(/\.\d+/, '');

/** Journal captures per node: CRM lines of the node that logged them, LRM lines of their node. */
export function simJournal(lines: readonly SimLine[], opts: { nodeClockAheadMs?: number } = {}): JournalCapture[] {
  const byNode = new Map<string, string[]>();
  for (const l of lines) {
    const m = /^(\w+)\/(crm|lrm)$/.exec(l.who);
    if (!m) continue;
    const list = byNode.get(m[1]!) ?? [];
    list.push(`${iso(l.t + (opts.nodeClockAheadMs ?? 0) / 1000)} ${m[1]} pve-ha-${m[2]}[${m[2] === 'crm' ? 1409 : 1412}]: ${l.msg}`);
    byNode.set(m[1]!, list);
  }
  return [...byNode].map(([node, ls]) => ({ node, format: 'short-iso' as const, lines: ls }));
}

/** manager_status polls every `everyS` (offset half a period so no poll coincides with a log second). */
export function simPolls(lines: readonly SimLine[], via: string, fromS: number, toS: number, everyS = 1): HaSnapshot[] {
  const status: HaStatus = { master: null, quorate: true, nodes: {}, services: {} };
  const events = lines.filter((l) => l.who.endsWith('/crm'));
  const out: HaSnapshot[] = [];
  let i = 0;
  for (let t = fromS + everyS / 2; t <= toS; t += everyS) {
    for (; i < events.length && events[i]!.t <= t; i++) {
      const l = events[i]!;
      const e = parseHaMessage(l.msg, 'crm');
      if (/status change \S+ => master/.test(l.msg)) status.master = l.who.split('/')[0]!;
      if (e?.kind === 'node-state') status.nodes[e.node] = e.to;
      if (e?.kind === 'service-state') status.services[e.sid] = { node: e.node ?? status.services[e.sid]?.node ?? '?', state: e.to };
      const add = /^adding new service '([^']+)' on node '([^']+)'/.exec(l.msg);
      if (add) status.services[add[1]!] = { node: add[2]!, state: 'request_start' };
    }
    out.push({ t: monoOf(t), wall: BASE_WALL + t * 1000, via, ok: true, status: structuredClone(status) });
  }
  return out;
}

/** Probes every `intervalMs` from `fromS` to `toS`; answered (rtt 2 ms, body node) when up(t seconds). */
export function worldSamples(fromS: number, toS: number, intervalMs: number, up: (s: number) => string | null): HttpSample[] {
  const out: HttpSample[] = [];
  let seq = 0;
  for (let ms = fromS * 1000; ms <= toS * 1000; ms += intervalMs) {
    const s = ms / 1000;
    const node = up(s);
    const t = MONO0 + ms;
    out.push(node !== null ? { seq: seq++, t, at: t + 2, wall: BASE_WALL + ms, ok: true, status: 200, rttMs: 2, node } : { seq: seq++, t, at: t, wall: BASE_WALL + ms, ok: false, error: 'timeout' });
  }
  return out;
}

export function trial(fields: Partial<TrialRecord> & Pick<TrialRecord, 'fault' | 'service'>, index = 0): TrialRecord {
  return {
    index,
    probe: { intervalMs: 1000, timeoutMs: 800 },
    window: { start: MONO0, end: MONO0 + 600_000 },
    outcome: 'recovered',
    http: [],
    ha: [],
    libvirt: [],
    journal: [],
    notes: [],
    ...fields,
  };
}

export function run(trials: TrialRecord[], extra: Partial<RunRecord> = {}): RunRecord {
  return {
    schema: RUN_SCHEMA,
    schemaVersion: RUN_SCHEMA_VERSION,
    id: '20250314T090000Z-test',
    createdAt: new Date(BASE_WALL).toISOString(),
    pvelab: { version: '0.1.0' },
    proxmox: { version: 'pve-manager/8.4.1/2a5fa54a8503f96d', nodes: {} },
    host: { node: 'v20.20.2' },
    lab: { name: 't1', hash: 'sha256:0000', source: 'built-in default' },
    scenario: { id: 'test' },
    clock: { wallMs: BASE_WALL, monoMs: MONO0 },
    trials,
    ...extra,
  };
}

/** Simulated second of the first sim line whose message contains `text` (an oracle independent of the parser). */
export function simTime(lines: readonly SimLine[], text: string, who?: string): number {
  const l = lines.find((x) => x.msg.includes(text) && (who === undefined || x.who === who));
  if (!l) throw new Error(`no sim line contains ${text}`);
  return l.t;
}
