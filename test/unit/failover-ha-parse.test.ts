// Parsing Proxmox HA status JSON and CRM/LRM log lines from the fixtures.
import { describe, expect, test } from 'vitest';
import { diffStatus, journalArgv, parseHaMessage, parseJournal, parseJournalLine, parseManagerStatus } from '../../lab/failover/ha-parse.js';
import { fixture, simLines } from './failover-fixtures.js';

const body = (name: string) => fixture(name).replace(/^#.*\n/, '');

describe('manager_status', () => {
  const file = JSON.parse(body('ha-manager-status-file.json.txt')) as {
    master_node: string;
    node_status: Record<string, string>;
    service_status: Record<string, { node: string; state: string }>;
  };

  test('the file form keeps master, every node state and every service with its node and state', () => {
    const s = parseManagerStatus(body('ha-manager-status-file.json.txt'));
    expect(s.master).toBe(file.master_node);
    expect(s.nodes).toEqual(file.node_status);
    expect(Object.keys(s.services)).toEqual(Object.keys(file.service_status));
    for (const [sid, v] of Object.entries(file.service_status)) expect(s.services[sid]).toEqual({ node: v.node, state: v.state });
    expect(s.quorate).toBeNull();
  });

  test('the pvesh form reads manager_status, quorum and ignores lrm_status', () => {
    const pvesh = {
      manager_status: { ...file, service_status: { 'ct:100': { node: 'node2', state: 'migrate', target: 'node3', uid: 'x', running: 1 } } },
      quorum: { node: 'node2', quorate: '1' },
      lrm_status: { node1: { state: 'active', mode: 'active', timestamp: 1, results: {} } },
    };
    const s = parseManagerStatus(JSON.stringify(pvesh));
    expect(s.services['ct:100']).toEqual({ node: 'node2', state: 'migrate', target: 'node3', running: true });
    expect(s.quorate).toBe(true);
    expect(parseManagerStatus({ ...pvesh, quorum: { node: 'node2', quorate: 0 } }).quorate).toBe(false);
  });

  test('a cluster without HA yet (empty manager_status) gives empty maps', () => {
    expect(parseManagerStatus('{"manager_status":{},"quorum":{"node":"n1","quorate":1},"lrm_status":{}}')).toEqual({ master: null, quorate: true, nodes: {}, services: {} });
  });

  test('malformed status is rejected, not guessed', () => {
    expect(() => parseManagerStatus('{"node_status":{"n1":5}}')).toThrow();
    expect(() => parseManagerStatus('not json')).toThrow();
  });

  test('diffStatus reports node and service changes between polls, nothing when equal', () => {
    const a = parseManagerStatus(body('ha-manager-status-file.json.txt'));
    const b = structuredClone(a);
    b.nodes['node1'] = 'unknown';
    b.services['vm:100'] = { node: 'node2', state: 'started' };
    expect(diffStatus(a, a)).toEqual([]);
    expect(diffStatus(a, b)).toEqual([
      { kind: 'node-state', node: 'node1', from: 'online', to: 'unknown' },
      { kind: 'service-state', sid: 'vm:100', from: 'started', to: 'started', node: 'node2' },
    ]);
  });
});

describe('CRM/LRM messages', () => {
  const lines = simLines(fixture('ha-sim-test-basic1-node-network-off.log.txt'));

  test('every state-change, fence and recovery message of the simulator log is understood', () => {
    const counts = (re: RegExp) => lines.filter((l) => re.test(l.msg)).length;
    const events = lines.map((l) => parseHaMessage(l.msg, l.who.endsWith('/lrm') ? 'lrm' : l.who.endsWith('/crm') ? 'crm' : undefined));
    const kinds = (k: string) => events.filter((e) => e?.kind === k).length;
    expect(kinds('node-state')).toBe(counts(/^node '.*': state changed/));
    expect(kinds('service-state')).toBe(counts(/^service '.*': state changed/));
    expect(kinds('fence-ack')).toBe(counts(/fencing: acknowledged/));
    expect(kinds('recover')).toBe(counts(/^recover service/));
    expect(kinds('lrm-started')).toBe(counts(/^service status \S+ started$/));
    expect(kinds('crm-status') + kinds('lrm-status')).toBe(counts(/^status change /));
    expect(kinds('fence-ack')).toBeGreaterThan(0);
  });

  test('fields are taken from the message, including node and target in parentheses', () => {
    expect(parseHaMessage("service 'vm:103': state changed from 'recovery' to 'started'  (node = node2)")).toEqual({ kind: 'service-state', sid: 'vm:103', from: 'recovery', to: 'started', node: 'node2' });
    expect(parseHaMessage("service 'vm:101': state changed from 'started' to 'migrate'  (node = node2, target = node1)")).toEqual({
      kind: 'service-state', sid: 'vm:101', from: 'started', to: 'migrate', node: 'node2', target: 'node1',
    });
    expect(parseHaMessage("recover service 'vm:103' from fenced node 'node3' to node 'node2'")).toEqual({ kind: 'recover', sid: 'vm:103', from: 'node3', to: 'node2' });
    expect(parseHaMessage('status change slave => master')).toEqual({ kind: 'crm-status', from: 'slave', to: 'master' });
    expect(parseHaMessage('status change active => lost_agent_lock')).toEqual({ kind: 'lrm-status', from: 'active', to: 'lost_agent_lock' });
    expect(parseHaMessage('got lock \'ha_agent_node3_lock\'')).toBeUndefined();
  });
});

describe('journal lines', () => {
  const real = fixture('ha-crm-failover-journal-real.txt').split('\n');

  test('classic syslog lines with host and pid (capture 1) give host, daemon, time and event', () => {
    const parsed = parseJournal(real.slice(0, real.indexOf('## capture 2 (3 nodes; the author trimmed hostname/pid columns; an HTTP probe polled every 1 s)')), { year: 2024, utcOffsetMin: 120 });
    expect(parsed.length).toBe(6);
    expect(parsed.every((l) => l.host === 'fyc-proxmox-2' && l.daemon === 'crm' && l.event)).toBe(true);
    expect(new Date(parsed[0]!.wallMs).toISOString()).toBe('2024-09-08T13:29:23.000Z'); // 15:29:23 at UTC+2
    expect(parsed[2]!.event).toEqual({ kind: 'fence-ack', node: 'fyc-proxmox-1' });
    expect((parsed[2]!.wallMs - parsed[0]!.wallMs) / 1000).toBe(70);
  });

  test('trimmed lines without host/pid (capture 2) still parse; the probe log lines around them do not', () => {
    const cap2 = real.slice(real.findIndex((l) => l.startsWith('## capture 2')));
    const parsed = parseJournal(cap2, { year: 2024, utcOffsetMin: 0 });
    expect(parsed.length).toBe(cap2.filter((l) => /^Oct 05 /.test(l)).length);
    expect(parsed.every((l) => l.host === undefined && l.daemon === undefined && l.event !== undefined)).toBe(true);
  });

  test('syslog lines need a year and zone; without them they are not guessed', () => {
    expect(parseJournalLine(real.find((l) => l.startsWith('Sep 08'))!)).toBeUndefined();
  });

  test('short-iso and short-iso-precise: zone with or without colon, fraction kept with its resolution', () => {
    const a = parseJournalLine("2025-03-14T10:02:00+0100 pve2 pve-ha-crm[1409]: node 'pve1': state changed from 'online' => 'unknown'")!;
    const b = parseJournalLine("2025-03-14T10:02:00.123456+01:00 pve2 pve-ha-crm[1409]: node 'pve1': state changed from 'online' => 'unknown'")!;
    expect(new Date(a.wallMs).toISOString()).toBe('2025-03-14T09:02:00.000Z');
    expect(b.wallMs - a.wallMs).toBeCloseTo(123.456, 3);
    expect(a.resolutionMs).toBe(1000);
    expect(b.resolutionMs).toBeCloseTo(0.001, 9);
    expect(b.event).toEqual({ kind: 'node-state', node: 'pve1', from: 'online', to: 'unknown' });
    const lrm = parseJournalLine('2025-03-14T10:04:03Z pve3 pve-ha-lrm[1412]: service status ct:100 started')!;
    expect(lrm.daemon).toBe('lrm');
    expect(lrm.event).toEqual({ kind: 'lrm-started', sid: 'ct:100' });
  });

  test('journalctl chatter is skipped and unrelated messages carry no event', () => {
    const parsed = parseJournal(['-- No entries --', '-- Journal begins at Fri 2025-03-14 09:00:00 CET. --', '2025-03-14T10:00:00+0100 pve2 pve-ha-crm[1]: loop take too long (31 seconds)']);
    expect(parsed.length).toBe(1);
    expect(parsed[0]!.event).toBeUndefined();
  });

  test('journalArgv reads both HA daemons for the window with precise timestamps, no shell', () => {
    const argv = journalArgv(Date.UTC(2025, 0, 1, 0, 0, 0, 500), Date.UTC(2025, 0, 1, 0, 5, 0));
    expect(argv.slice(0, 7)).toEqual(['journalctl', '-u', 'pve-ha-crm', '-u', 'pve-ha-lrm', '-o', 'short-iso-precise']);
    const since = Number(argv[argv.indexOf('--since') + 1]!.slice(1));
    const until = Number(argv[argv.indexOf('--until') + 1]!.slice(1));
    expect(since * 1000).toBeLessThanOrEqual(Date.UTC(2025, 0, 1, 0, 0, 0, 500));
    expect(until * 1000).toBeGreaterThanOrEqual(Date.UTC(2025, 0, 1, 0, 5, 0));
  });
});
