// Timeline of a trial from the fixtures' real timings: the HA simulator's node-network-off runs and a
// real CRM journal with an HTTP probe measured by its author.
import { describe, expect, test } from 'vitest';
import { BOUNDARIES, PHASES, buildTimeline, type Timeline } from '../../lab/failover/timeline.js';
import { BASE_WALL, MONO0, fixture, monoOf, run, simJournal, simLines, simPolls, simTime, trial, worldSamples } from './failover-fixtures.js';

const basic1 = simLines(fixture('ha-sim-test-basic1-node-network-off.log.txt'));
const basic5 = simLines(fixture('ha-sim-test-basic5-master-network-off.log.txt'));
const BOOT_S = 17; // the test world's guest + app start time after the LRM started the service

/** basic1: vm:103 on node3, node3's network cut at the cmdlist time; HTTP back BOOT_S after the LRM start. */
function basic1Trial(opts: { journal?: boolean; polls?: boolean; clockAheadMs?: number; offsets?: boolean } = {}) {
  const cut = simTime(basic1, 'network node3 off');
  const lrmStart = simTime(basic1, 'service status vm:103 started', 'node2/lrm');
  return trial({
    fault: { kind: 'link-down', target: 'node3', injectedAt: monoOf(cut), injectedWall: BASE_WALL + cut * 1000, healedAt: null },
    service: { sid: 'vm:103', url: 'http://192.0.2.100/', nodeBefore: 'node3' },
    probe: { intervalMs: 500, timeoutMs: 400 },
    http: worldSamples(60, 400, 500, (s) => (s < cut ? 'node3' : s >= lrmStart + BOOT_S ? 'node2' : null)),
    journal: opts.journal === false ? [] : simJournal(basic1, { nodeClockAheadMs: opts.clockAheadMs ?? 0 }),
    ha: opts.polls === false ? [] : simPolls(basic1, 'node1', 60, 400),
    ...(opts.offsets ? { clockOffsetsMs: { node1: opts.clockAheadMs ?? 0, node2: opts.clockAheadMs ?? 0 } } : {}),
  });
}

const b = (tl: Timeline, id: string) => tl.boundaries.find((x) => x.id === id)!;
const p = (tl: Timeline, id: string) => tl.phases.find((x) => x.id === id)!;
const s = (ms: number | null) => (ms === null ? null : ms / 1000);

describe('timeline from the simulator log (node3 network off, basic1)', () => {
  const tr = basic1Trial();
  const tl = buildTimeline(run([tr]), tr);

  test('every Proxmox boundary comes from the CRM journal line that reports it, at that line’s time', () => {
    const expectLine = (id: string, text: string) => {
      const bd = b(tl, id);
      expect(bd.source?.source, id).toBe('journal');
      expect(bd.source?.text).toContain(text);
      expect(s(bd.sinceInjectMs)).toBe(simTime(basic1, text) - simTime(basic1, 'network node3 off'));
    };
    expectLine('nodeUnknown', "node 'node3': state changed from 'online' => 'unknown'");
    expectLine('fence', "service 'vm:103': state changed from 'started' to 'fence'");
    expectLine('fenceAck', "fencing: acknowledged - got agent lock for node 'node3'");
    expectLine('recovery', "service 'vm:103': state changed from 'fence' to 'recovery'");
    expectLine('started', "service 'vm:103': state changed from 'recovery' to 'started'  (node = node2)");
    expect(tl.nodeAfter).toBe('node2');
    expect(tl.nodeBefore).toBe('node3');
  });

  test('the polls of the same run corroborate each HA boundary no earlier than the journal and within one poll', () => {
    for (const id of ['nodeUnknown', 'fence', 'fenceAck', 'started']) {
      const bd = b(tl, id);
      const poll = bd.also.find((o) => o.source === 'ha-poll');
      expect(poll, id).toBeDefined();
      expect(poll!.t).toBeGreaterThanOrEqual(bd.at!);
      expect(poll!.t - bd.at!).toBeLessThanOrEqual(1000);
    }
  });

  test('HTTP boundaries and downtime come from the probes around the cut', () => {
    const cutMono = tr.fault.injectedAt;
    expect(b(tl, 'firstFail').source?.ref).toMatch(/^http#\d+$/);
    expect(b(tl, 'firstFail').at! - cutMono).toBeGreaterThanOrEqual(0);
    expect(b(tl, 'firstFail').at! - cutMono).toBeLessThan(tr.probe.intervalMs);
    const backS = simTime(basic1, 'service status vm:103 started', 'node2/lrm') + BOOT_S;
    expect(s(b(tl, 'firstGood').at! - MONO0)).toBeCloseTo(backS, 1);
    expect(b(tl, 'firstGood').source?.text).toContain('from node2');
    // downtime: last good before → first good after; the estimate is within one interval of the world's outage
    const real = (backS - simTime(basic1, 'network node3 off')) * 1000;
    expect(tl.downtime.ms! - real).toBeGreaterThanOrEqual(0);
    expect(tl.downtime.ms! - real).toBeLessThanOrEqual(2 * tr.probe.intervalMs);
    expect(Math.abs(tl.downtime.estimateMs! - real)).toBeLessThanOrEqual(tr.probe.intervalMs);
  });

  test('phases follow Proxmox order, are non-negative and add up to fault → first good answer', () => {
    expect(tl.phases.map((x) => x.id)).toEqual(PHASES.map((x) => x.id));
    expect(tl.phases.every((x) => x.ms !== null && x.ms >= 0)).toBe(true);
    const sum = tl.phases.reduce((a, x) => a + x.ms!, 0);
    expect(sum).toBe(b(tl, 'firstGood').at! - b(tl, 'injected').at!);
    expect(tl.recoveryMs).toBe(sum);
    // fencing waits for the agent lock: the simulator's fence → ack gap
    expect(s(p(tl, 'fencing').ms)).toBe(simTime(basic1, 'fencing: acknowledged') - simTime(basic1, "to 'fence'"));
    expect(tl.notes).toEqual([]);
  });

  test('the LRM start and the watchdog are kept as extra events, not as boundaries', () => {
    expect(tl.events.some((e) => e.text.includes('service status vm:103 started'))).toBe(true);
    expect(tl.events.every((e) => !tl.boundaries.some((bd) => bd.source?.ref === e.ref))).toBe(true);
  });
});

test('without the journal the polls give each boundary as an upper bound, saying so for recovery', () => {
  const withJ = buildTimeline(run([basic1Trial()]), basic1Trial());
  const tr = basic1Trial({ journal: false });
  const tl = buildTimeline(run([tr]), tr);
  for (const id of ['nodeUnknown', 'fence', 'fenceAck', 'recovery', 'started']) {
    const bd = b(tl, id);
    expect(bd.source?.source, id).toBe('ha-poll');
    const exact = b(withJ, id).at!;
    expect(bd.at!).toBeGreaterThanOrEqual(exact);
    expect(bd.at! - bd.source!.uncertaintyMs).toBeLessThanOrEqual(exact);
  }
  expect(b(tl, 'recovery').source?.text).toContain('upper bound');
});

test('with no HA data the HA boundaries are null with a reason, and the HTTP measurement stands', () => {
  const tr = basic1Trial({ journal: false, polls: false });
  const tl = buildTimeline(run([tr]), tr);
  for (const id of ['nodeUnknown', 'fence', 'fenceAck', 'recovery', 'started']) {
    expect(b(tl, id).at).toBeNull();
    expect(b(tl, id).reason).toMatch(/no CRM journal lines and no HA status polls/);
  }
  expect(p(tl, 'fenceDelay').ms).toBeNull();
  expect(p(tl, 'haDetect').reason).toContain("no node 'unknown'");
  expect(tl.downtime.ms).toBe(buildTimeline(run([basic1Trial()]), basic1Trial()).downtime.ms);
});

test('a node clock running ahead shifts journal times unless its offset is recorded', () => {
  const ahead = 5000;
  const skewed = basic1Trial({ clockAheadMs: ahead });
  const fixed = basic1Trial({ clockAheadMs: ahead, offsets: true });
  const ref = buildTimeline(run([basic1Trial()]), basic1Trial());
  const tSkew = buildTimeline(run([skewed]), skewed);
  const tFixed = buildTimeline(run([fixed]), fixed);
  expect(b(tSkew, 'fence').at! - b(ref, 'fence').at!).toBe(ahead);
  expect(tSkew.notes.some((n) => n.includes('node clock ahead'))).toBe(true);
  expect(tFixed.boundaries.map((x) => x.at)).toEqual(ref.boundaries.map((x) => x.at));
});

test('a trial that timed out has no first good answer and no downtime, only a lower bound', () => {
  const cut = simTime(basic1, 'network node3 off');
  const tr = trial({
    fault: { kind: 'link-down', target: 'node3', injectedAt: monoOf(cut), injectedWall: BASE_WALL + cut * 1000, healedAt: null },
    service: { sid: 'vm:103', url: 'http://192.0.2.100/', nodeBefore: 'node3' },
    outcome: 'timeout',
    window: { start: monoOf(60), end: monoOf(300) },
    http: worldSamples(60, 300, 1000, (x) => (x < cut ? 'node3' : null)),
  });
  const tl = buildTimeline(run([tr]), tr);
  expect(b(tl, 'firstGood').at).toBeNull();
  expect(b(tl, 'firstGood').reason).toMatch(/no good answer until \+180\.00 s \(trial outcome: timeout\)/);
  expect(tl.downtime.ms).toBeNull();
  expect(tl.downtime.lowerMs).toBe((300 - cut) * 1000);
  expect(p(tl, 'appStart').ms).toBeNull();
  expect(tl.recoveryMs).toBeNull();
});

test('faulting a node that does not run the service: no outage, no recovery expected, said so', () => {
  const cut = simTime(basic1, 'network node3 off');
  const tr = trial({
    fault: { kind: 'link-down', target: 'node3', injectedAt: monoOf(cut), injectedWall: BASE_WALL + cut * 1000, healedAt: null },
    service: { sid: 'vm:101', url: 'http://192.0.2.101/', nodeBefore: null },
    http: worldSamples(60, 400, 1000, () => 'node1'),
    ha: simPolls(basic1, 'node1', 60, 400),
  });
  const tl = buildTimeline(run([tr]), tr);
  expect(tl.nodeBefore).toBe('node1'); // from the last poll before the fault
  expect(b(tl, 'firstFail').at).toBeNull();
  expect(b(tl, 'firstFail').reason).toMatch(/no failed probe after the fault \(\d+ good probes/);
  expect(tl.downtime.ms).toBe(0);
  expect(b(tl, 'nodeUnknown').source?.source).toBe('ha-poll'); // the node still goes unknown
  expect(b(tl, 'started').at).toBeNull();
  expect(b(tl, 'started').reason).toBe('vm:101 ran on node1, not on the faulted node node3: no recovery expected');
});

test('when the CRM master is the faulted node, detection waits for the new master (basic5)', () => {
  const cut = simTime(basic5, 'network node1 off');
  const tr = trial({
    fault: { kind: 'link-down', target: 'node1', injectedAt: monoOf(cut), injectedWall: BASE_WALL + cut * 1000, healedAt: null },
    service: { sid: 'vm:101', url: 'http://192.0.2.101/', nodeBefore: 'node1' },
    http: worldSamples(60, 400, 1000, (x) => (x < cut ? 'node1' : x >= simTime(basic5, 'service status vm:101 started', 'node2/lrm') + BOOT_S ? 'node2' : null)),
    journal: simJournal(basic5.filter((l) => l.t < 500)),
  });
  const tl = buildTimeline(run([tr]), tr);
  expect(b(tl, 'nodeUnknown').source?.text).toMatch(/^journal node3 /);
  expect(s(p(tl, 'haDetect').ms)).toBe(simTime(basic5, "node 'node1': state changed from 'online' => 'unknown'") - cut);
  expect(s(p(tl, 'haDetect').ms)).toBeGreaterThan(s(p(tl, 'fenceDelay').ms)!);
  expect(tl.nodeAfter).toBe('node2');
});

test('a boundary seen before its predecessor makes that phase null and adds a note', () => {
  // Storage-loss-like world: HTTP keeps answering for 20 s after the fault, the node goes unknown first.
  const cut = simTime(basic1, 'network node3 off');
  const tr = basic1Trial();
  tr.http = worldSamples(60, 400, 500, (x) => (x < cut + 20 ? 'node3' : x >= 260 ? 'node2' : null));
  const tl = buildTimeline(run([tr]), tr);
  expect(p(tl, 'haDetect').ms).toBeNull();
  expect(p(tl, 'haDetect').reason).toBe("out of order: node 'unknown' before first failed probe");
  expect(tl.notes.some((n) => n.startsWith("node 'unknown' came 20.00 s before first failed probe"))).toBe(true);
  expect(p(tl, 'userDetect').ms).toBe(20_000);
});

test('a real CRM journal (syslog form) with its author’s 1 Hz probe: same outage length, phases from the lines', () => {
  const text = fixture('ha-crm-failover-journal-real.txt');
  const cap2 = text.slice(text.indexOf('## capture 2'));
  const hms = (label: string) => {
    const m = new RegExp(`${label}\\s*:?\\s*(\\d\\d):(\\d\\d):(\\d\\d)`).exec(cap2)!;
    return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  };
  const [watch, cut, back] = [hms('SURVEILLANCE'), hms('COUPURE'), hms('RETOUR DU SERVICE')];
  const authorS = Number(/DUREE INTERRUPTION : (\d+)/.exec(cap2)![1]);
  const day = Date.UTC(2024, 9, 5); // "Oct 05", year assumed, node clock in UTC
  const wall = (sec: number) => day + sec * 1000;
  const r = run([], { clock: { wallMs: wall(watch), monoMs: MONO0 } });
  const mono = (sec: number) => MONO0 + (sec - watch) * 1000;
  const http = [];
  for (let sec = watch, seq = 0; sec <= back + 30; sec++, seq++) {
    const ok = sec < cut || sec >= back;
    http.push(ok ? { seq, t: mono(sec), at: mono(sec) + 5, wall: wall(sec), ok, status: 200, rttMs: 5 } : { seq, t: mono(sec), at: mono(sec), wall: wall(sec), ok, error: 'timeout' });
  }
  const tr = trial({
    fault: { kind: 'link-down', target: 'pve-a', injectedAt: mono(cut), injectedWall: wall(cut), healedAt: null },
    service: { sid: 'vm:100', url: 'http://192.0.2.100/', nodeBefore: 'pve-a' },
    http,
    journal: [{ node: 'pve-b', format: 'syslog', year: 2024, utcOffsetMin: 0, lines: cap2.split('\n') }],
  });
  const tl = buildTimeline(r, tr);
  expect(Math.abs(tl.downtime.ms! / 1000 - authorS)).toBeLessThanOrEqual(1);
  const lineSec = (text: string) => {
    const m = new RegExp(`(\\d\\d):(\\d\\d):(\\d\\d)\\s+${text.replace(/[()]/g, '\\$&')}`).exec(cap2)!;
    return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  };
  expect(s(b(tl, 'nodeUnknown').sinceInjectMs)).toBe(lineSec("node 'pve-a': state changed from 'online' => 'unknown'") - cut);
  expect(s(p(tl, 'fenceDelay').ms)).toBe(lineSec("service 'vm:100': state changed from 'started' to 'fence'") - lineSec("node 'pve-a': state changed from 'online' => 'unknown'"));
  // no "fencing: acknowledged" line in this capture: the node's fence → unknown line stands in for it
  expect(b(tl, 'fenceAck').source?.text).toContain("node 'pve-a': state changed from 'fence' => 'unknown'");
  expect(b(tl, 'started').source?.text).toContain('(node = pve-b)');
  expect(tl.nodeAfter).toBe('pve-b');
  expect(BOUNDARIES.every((bd) => b(tl, bd.id).at !== null)).toBe(true);
});

test('a probe in flight when the fault hits is stamped at the fault, not at its send time; older failures are not', () => {
  const cut = simTime(basic1, 'network node3 off');
  const lrmStart = simTime(basic1, 'service status vm:103 started', 'node2/lrm');
  const base = basic1Trial();
  const tr = { ...base, probe: { intervalMs: 300, timeoutMs: 400 }, http: worldSamples(60, 400, 300, (s) => (s < cut - 0.35 ? 'node3' : s >= lrmStart + BOOT_S ? 'node2' : null)) };
  const sent = tr.http.find((x) => !x.ok)!;
  expect(sent.at).toBeLessThan(tr.fault.injectedAt); // sent 300 ms before the cut, failed by it
  const tl = buildTimeline(run([tr]), tr);
  expect(b(tl, 'firstFail').at).toBe(tr.fault.injectedAt);
  expect(b(tl, 'firstFail').source?.text).toMatch(/in flight at the fault/);
  expect(p(tl, 'userDetect').ms).toBe(0);
  expect(tl.notes.some((n) => n.startsWith('probes were already failing'))).toBe(false);
  // failing for longer than a probe timeout before the fault: that is not this fault's doing
  const early = { ...base, probe: { intervalMs: 300, timeoutMs: 400 }, http: worldSamples(60, 400, 300, (s) => (s < cut - 2 ? 'node3' : s >= lrmStart + BOOT_S ? 'node2' : null)) };
  const tl2 = buildTimeline(run([early]), early);
  expect(b(tl2, 'firstFail').at).toBeLessThan(early.fault.injectedAt);
  expect(tl2.notes.some((n) => n.startsWith('probes were already failing'))).toBe(true);
});
