// End to end: `pvelab failover` and `pvelab heal` (the real CLI, test/helpers/pvelab.ts) inside a
// private lab namespace against three Proxmox stand-in nodes built by `pvelab up`
// (test/helpers/standin-lab.ts), HA at time scale 0.1 (fence delay 6 s, lock lifetime 12 s, watchdog
// 6 s): 3 link-down trials, 1 power-off trial, Ctrl-C during a trial, kill -9 during a trial followed by
// `pvelab heal`. Asserted from outside the product: the run directory (run.json, report files), virsh
// against the namespace's libvirtd (links up, domains running afterwards), the pending-fault record.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunRecord, type RunRecord } from '../../lab/failover/record.js';
import { buildTimeline } from '../../lab/failover/timeline.js';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { type PvelabHome, REPO, pvelabHome, runPvelab } from '../helpers/pvelab.js';
import { sleep } from '../helpers/run.js';
import { buildStandinLab, type StandinLab } from '../helpers/standin-lab.js';
import { missingPrereq } from '../standin/harness.js';

const missing =
  (process.getuid?.() !== 0 ? 'root (namespaces, libvirtd)' : undefined) ??
  missingPrereq() ??
  ['/usr/sbin/libvirtd', '/usr/sbin/tgtd', '/usr/bin/qemu-img', '/usr/bin/unshare', '/usr/bin/virsh', '/usr/bin/curl'].find((p) => !existsSync(p));

const LAB = 'e2efo';
const ORDER = ['nodeUnknown', 'fence', 'fenceAck', 'recovery', 'started', 'firstGood'] as const;

describe.skipIf(!!missing)(`pvelab failover on stand-in nodes ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let h: PvelabHome;
  let lab: StandinLab;
  const virsh = async (...args: string[]) => (await ns.exec(['virsh', '-c', 'qemu:///system', ...args], { allowFail: true })).stdout.trim();
  /** Later tests need the lab the first one builds; without it they fail at once instead of timing out. */
  const built = () => {
    if (lab?.up.exitCode !== 0) throw new Error('the lab was not built (see the first test)');
  };
  /** Waits for `what` while the pvelab child runs; fails at once with its stderr when it exits. */
  const whileRunning = async <T>(child: ChildProcess, err: () => string, what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pvelab exited (${child.exitCode}) before ${what}:\n${err()}`);
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${err()}`);
      await sleep(200);
    }
  };
  const pending = () => (JSON.parse(readFileSync(join(h.home, LAB, 'failover-pending.json'), 'utf8')) as { pending: unknown[] }).pending;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-e2e-failover-'));
    h = pvelabHome(dir);
    ns = await startLabNs({ libvirt: true, tgtd: true, label: 'e2e-failover' });
  });
  afterAll(async () => {
    await lab?.control.stop();
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pvelab up builds the lab on three stand-in nodes: cluster, storages, Apache container under HA', async () => {
    const net = await ns.allocSubnet();
    lab = await buildStandinLab(ns, h, { name: LAB, cidr: net.cidr });
    expect(lab.up.exitCode, lab.up.stderr).toBe(0);
    expect((await ns.exec(['curl', '-s', '-m', '3', `http://${lab.names.guest.ip}/`], { allowFail: true })).stdout).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
  });

  async function failover(fault: string, trials: number): Promise<{ run: RunRecord; files: string[]; out: string }> {
    built();
    const r = await runPvelab(ns, h, ['--json', 'failover', '--fault', fault, '--trials', String(trials), '--stable', '3s', '--ha-interval', '500ms'], { labFile: lab.file, timeoutMs: 30 * 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { dir: string; files: string[]; run: string };
    return { run: parseRunRecord(readFileSync(join(out.dir, 'run.json'), 'utf8')), files: out.files, out: r.stderr };
  }

  function checkTrials(run: RunRecord, fault: string, n: number): void {
    expect(run.trials).toHaveLength(n);
    for (const t of run.trials) {
      expect(t.fault.kind).toBe(fault);
      expect(t.outcome, t.notes.join('\n')).toBe('recovered');
      expect(t.fault.healedAt).not.toBeNull();
      expect(t.fault.target).toBe(t.service.nodeBefore); // --node owner
      const tl = buildTimeline(run, t);
      const at = Object.fromEntries(tl.boundaries.map((b) => [b.id, b.at]));
      const seen = ORDER.filter((id) => at[id] !== null);
      const why = JSON.stringify(tl.boundaries.map((b) => [b.id, b.at === null ? null : Math.round(b.at - t.fault.injectedAt), b.source?.source ?? b.reason]));
      expect(seen.length, why).toBeGreaterThanOrEqual(4);
      // Journal times (node clock, corrected by the measured offset) against host times: 250 ms for the
      // offset's error (half an SSH round trip under load).
      for (let i = 1; i < seen.length; i++) expect(at[seen[i]!]! + 250, `${seen[i - 1]} ≤ ${seen[i]}: ${why}`).toBeGreaterThanOrEqual(at[seen[i - 1]!]!);
      // The timeline's own order check (journal resolution as slack) agrees, for the HA phases.
      const inOrder = (id: string) => (ORDER as readonly string[]).includes(id);
      for (const p of tl.phases) if (inOrder(p.from) && inOrder(p.to) && at[p.from] !== null && at[p.to] !== null) expect(p.ms, `${p.id}: ${p.reason}`).not.toBeNull();
      expect(tl.downtime.ms, tl.downtime.reason).toBeGreaterThan(0);
      expect(tl.nodeAfter).not.toBe(t.fault.target);
      const s = (id: string) => (at[id] === null ? '—' : `${((at[id]! - t.fault.injectedAt) / 1000).toFixed(2)}s`);
      console.log(`${fault} #${t.index + 1} on ${t.fault.target} → ${tl.nodeAfter}: unknown ${s('nodeUnknown')} fence ${s('fence')} ack ${s('fenceAck')} started ${s('started')} HTTP ${s('firstGood')}; downtime ${(tl.downtime.ms! / 1000).toFixed(2)}s`);
    }
  }

  it('3 link-down trials: each on the owner, recovered elsewhere, healed; phases in Proxmox order; report written', async () => {
    const { run, files } = await failover('link-down', 3);
    checkTrials(run, 'link-down', 3);
    for (const f of ['run.json', 'trials.csv', 'report.md', 'report.html']) expect(files.some((x) => x.endsWith(`/${f}`) && existsSync(x))).toBe(true);
    for (const t of run.trials) {
      const n = lab.names.nodes.find((x) => x.name === t.fault.target)!;
      expect(await virsh('domif-getlink', n.domain, n.mac)).toMatch(/ up$/);
    }
    expect(readFileSync(files.find((f) => f.endsWith('run.json'))!, 'utf8')).not.toContain(lab.password);
  });

  it('1 power-off trial: destroyed, recovered elsewhere, started again', async () => {
    const { run } = await failover('power-off', 1);
    checkTrials(run, 'power-off', 1);
    const n = lab.names.nodes.find((x) => x.name === run.trials[0]!.fault.target)!;
    expect(await virsh('domstate', n.domain)).toBe('running');
    expect(run.trials[0]!.libvirt.some((e) => e.node === n.name && e.event === 'stopped')).toBe(true);
  });

  it('Ctrl-C during a trial heals the fault before pvelab exits (130); nothing left pending', async () => {
    built();
    const child = ns.spawn(['node', join(REPO, 'node_modules/tsx/dist/cli.mjs'), join(REPO, 'lab/main.ts'), '-c', lab.file, 'failover', '--fault', 'link-down', '--trials', '2'], {
      cwd: h.dir,
      env: { ...process.env, PVELAB_HOME: h.home, PVELAB_ISO_DIR: h.isoDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const cut = await whileRunning(child, () => err, 'a link cut by pvelab', async () => {
      for (const n of lab.names.nodes) if ((await virsh('domif-getlink', n.domain, n.mac)).endsWith(' down')) return n;
      return undefined;
    }, 300_000);
    expect(pending()).toMatchObject([{ fault: 'link-down', node: cut.name }]);
    await sleep(2000);
    // SIGINT to pvelab itself (the process nsenter started), as a terminal's Ctrl-C would.
    const pid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(pid, 'SIGINT');
    expect(await exited, err).toBe(130);
    expect(err).toMatch(/healed link-down on/);
    expect(await virsh('domif-getlink', cut.domain, cut.mac)).toMatch(/ up$/);
    expect(pending()).toEqual([]);
  });

  it('kill -9 during a trial leaves the fault recorded; `pvelab heal` restores the link and clears the record', async () => {
    built();
    const child = ns.spawn(['node', join(REPO, 'node_modules/tsx/dist/cli.mjs'), join(REPO, 'lab/main.ts'), '-c', lab.file, 'failover', '--fault', 'link-down'], {
      cwd: h.dir,
      env: { ...process.env, PVELAB_HOME: h.home, PVELAB_ISO_DIR: h.isoDir, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const cut = await whileRunning(child, () => err, 'a link cut by pvelab', async () => {
      for (const n of lab.names.nodes) if ((await virsh('domif-getlink', n.domain, n.mac)).endsWith(' down')) return n;
      return undefined;
    }, 300_000);
    // The process running lab/main.ts is tsx's child: nsenter → node (tsx) → node (pvelab).
    const kids = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    const tsxPid = kids(child.pid!)[0]!;
    const pvelabPid = kids(tsxPid)[0]!;
    expect(readFileSync(`/proc/${pvelabPid}/cmdline`, 'utf8')).toContain('main.ts');
    process.kill(pvelabPid, 'SIGKILL');
    await exited;
    expect(await virsh('domif-getlink', cut.domain, cut.mac)).toMatch(/ down$/);
    expect(pending()).toMatchObject([{ fault: 'link-down', node: cut.name }]);
    const heal = await runPvelab(ns, h, ['heal'], { labFile: lab.file });
    expect(heal.exitCode, heal.stderr).toBe(0);
    expect(heal.stderr).toContain(`healing link-down on ${cut.name}`);
    expect(await virsh('domif-getlink', cut.domain, cut.mac)).toMatch(/ up$/);
    expect(pending()).toEqual([]);
    const again = await runPvelab(ns, h, ['heal'], { labFile: lab.file });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to heal');
  });
});
