// The whole class journey, end to end, with the real CLI inside a private lab namespace against three
// Proxmox stand-in nodes (HA at time scale 0.1: fence delay 6 s, lock lifetime 12 s, watchdog 6 s):
// up → status → up again (nothing to do) → failover (3 link-down trials) → Ctrl-C during a trial
// (healed before exit 130) → kill -9 during a trial + `pvelab heal` → snapshot save → reset →
// failover (1 power-off trial) → report of both runs → down → nothing left.
// Decoys without pvelab's mark (a domain, a network, a tgt target) must survive `down`.
// Everything is checked from outside the product: virsh, tgtadm, curl, the run directories, the
// pending-fault record and the file system. One lab serves every step (each is a full TCG cluster).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunRecord, type RunRecord } from '../../lab/failover/record.js';
import { buildTimeline } from '../../lab/failover/timeline.js';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { type PvelabHome, REPO, pvelabHome, runPvelab } from '../helpers/pvelab.js';
import { sleep } from '../helpers/run.js';
import { buildStandinLab, serialLogsOnFailure, type StandinLab } from '../helpers/standin-lab.js';
import { missingPrereq } from '../standin/harness.js';

const missing =
  (process.getuid?.() !== 0 ? 'root (namespaces, libvirtd)' : undefined) ??
  missingPrereq() ??
  ['/usr/sbin/libvirtd', '/usr/sbin/tgtd', '/usr/bin/qemu-img', '/usr/bin/unshare', '/usr/bin/virsh', '/usr/bin/curl'].find((p) => !existsSync(p));

const LAB = 'journey';
const ORDER = ['nodeUnknown', 'fence', 'fenceAck', 'recovery', 'started', 'firstGood'] as const;

describe.skipIf(!!missing)(`the class journey on stand-in nodes ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let h: PvelabHome;
  let lab: StandinLab;
  const sh = async (argv: string[]) => (await ns.exec(argv, { allowFail: true })).stdout.trim();
  const virsh = (...args: string[]) => sh(['virsh', '-c', 'qemu:///system', ...args]);
  const pvelab = (args: string[], timeoutMs = 30 * 60_000) => runPvelab(ns, h, args, { labFile: lab.file, timeoutMs });
  const page = () => sh(['curl', '-s', '-m', '3', `http://${lab.names.guest.ip}/`]);

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
    dir = mkdtempSync(join(tmpdir(), 'pvelab-e2e-journey-'));
    h = pvelabHome(dir);
    ns = await startLabNs({ libvirt: true, tgtd: true, label: 'e2e-journey' });
  });
  serialLogsOnFailure(() => lab);
  afterAll(async () => {
    await lab?.control.stop();
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('up builds the lab: quorate cluster, iSCSI + shared LVM + ZFS storages, the Apache container under HA answering HTTP', async () => {
    const net = await ns.allocSubnet();
    lab = await buildStandinLab(ns, h, { name: LAB, cidr: net.cidr });
    expect(lab.up.exitCode, lab.up.stderr).toBe(0);
    expect(lab.up.stderr).toMatch(/✓ \d+ step\(s\) applied/);
    const body = await page();
    expect(body).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
  });

  it('status reports every part of the lab', async () => {
    const r = await pvelab(['--json', 'status', '--deadline', '2000']);
    expect(r.exitCode, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.domains.value.map((d: { state: string }) => d.state)).toEqual(['running', 'running', 'running']);
    expect(s.network.value.active).toBe(true);
    expect(s.target.value.iqn).toBe(lab.names.iscsi.iqn);
    expect(s.cluster.value).toMatchObject({ name: lab.names.pve.clusterName, quorate: true });
    expect(s.cluster.value.nodes.every((n: { online: boolean }) => n.online)).toBe(true);
    const types = Object.fromEntries(s.storages.value.map((x: { id: string; type: string }) => [x.id, x.type]));
    expect(types).toMatchObject({ [lab.names.pve.storageIscsi]: 'iscsi', [lab.names.pve.storageLvm]: 'lvm', [lab.names.pve.storageZfs]: 'zfspool' });
    expect(s.ha.value).toMatchObject({ sid: lab.names.guest.haSid, state: 'started' });
    expect(s.guest.value.status).toBe(200);
    const t0 = performance.now();
    await pvelab(['status']);
    console.log(`pvelab status (text, lab up): ${Math.round(performance.now() - t0)} ms including process start`);
  });

  it('up a second time changes nothing and says so per step', async () => {
    const r = await pvelab(['up']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('nothing to do');
    expect(r.stderr).not.toMatch(/ applied \(/);
  });

  function checkTrials(run: RunRecord, fault: string, n: number): void {
    expect(run.trials).toHaveLength(n);
    for (const t of run.trials) {
      expect(t.fault.kind).toBe(fault);
      expect(t.outcome, t.notes.join('\n')).toBe('recovered');
      expect(t.fault.healedAt).not.toBeNull();
      const tl = buildTimeline(run, t);
      const at = Object.fromEntries(tl.boundaries.map((b) => [b.id, b.at]));
      const seen = ORDER.filter((id) => at[id] !== null);
      const why = JSON.stringify(tl.boundaries.map((b) => [b.id, b.at === null ? null : Math.round(b.at - t.fault.injectedAt)]));
      expect(seen.length, why).toBeGreaterThanOrEqual(4);
      for (let i = 1; i < seen.length; i++) expect(at[seen[i]!]! + 250, `${seen[i - 1]} ≤ ${seen[i]}: ${why}`).toBeGreaterThanOrEqual(at[seen[i - 1]!]!);
      expect(tl.downtime.ms, tl.downtime.reason).toBeGreaterThan(0);
      expect(tl.nodeAfter).not.toBe(t.fault.target);
    }
  }

  const runDirs: string[] = [];
  async function failover(fault: string, trials: number): Promise<{ run: RunRecord; files: string[] }> {
    const r = await pvelab(['--json', 'failover', '--fault', fault, '--trials', String(trials)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { dir: string; files: string[] };
    runDirs.push(out.dir);
    return { run: parseRunRecord(readFileSync(join(out.dir, 'run.json'), 'utf8')), files: out.files };
  }

  it('failover: 3 link-down trials, each healed, phases in Proxmox order, report written', async () => {
    const { run, files } = await failover('link-down', 3);
    checkTrials(run, 'link-down', 3);
    for (const f of ['run.json', 'trials.csv', 'report.md', 'report.html']) expect(files.some((x) => x.endsWith(`/${f}`) && existsSync(x))).toBe(true);
    for (const n of lab.names.nodes) expect(await virsh('domif-getlink', n.domain, n.mac)).toMatch(/ up$/);
    expect(readFileSync(files.find((f) => f.endsWith('run.json'))!, 'utf8')).not.toContain(lab.password);
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
    // The class goes on: the lab settles by itself (the fenced node rebooted and rejoined).
    const healthy = await (async () => {
      const end = Date.now() + 600_000;
      let last = '';
      while (Date.now() < end) {
        const st = await pvelab(['--json', 'status', '--deadline', '3000']);
        last = st.stdout;
        try {
          const s = JSON.parse(st.stdout);
          if (s.cluster.value?.quorate && s.cluster.value.nodes.every((n: { online: boolean }) => n.online) && s.ha.value?.state === 'started' && s.guest.value?.status === 200) return true;
        } catch {
          /* not JSON yet */
        }
        await sleep(3000);
      }
      return last;
    })();
    expect(healthy).toBe(true);
  });
  it('snapshot save keeps every disk and brings the lab back; reset returns to it, quorate and serving', async () => {
    const save = await pvelab(['snapshot', 'save']);
    expect(save.exitCode, save.stderr).toBe(0);
    expect(readdirSync(join(lab.names.imagesDir, 'snapshots', 'golden')).sort()).toEqual(expect.arrayContaining(['manifest.json', 'shared-lun.img', 'pve1-zfs.qcow2', 'pve1-root.qcow2']));
    expect(await page()).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
    // the class changes something, then the teacher resets
    const marker = join(lab.names.imagesDir, 'pve2-zfs.qcow2');
    const before = readFileSync(join(lab.names.imagesDir, 'snapshots', 'golden', 'pve2-zfs.qcow2'));
    const reset = await pvelab(['reset']);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(reset.stderr).toMatch(/✓ lab reset to "golden" in [\d.]+ s .*quorate.*HTTP 200/);
    expect(readFileSync(marker).subarray(0, 4096).equals(before.subarray(0, 4096))).toBe(true);
    expect(await page()).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
  });

  it('failover after the reset: 1 power-off trial, the node powered on again', async () => {
    const { run } = await failover('power-off', 1);
    checkTrials(run, 'power-off', 1);
    const n = lab.names.nodes.find((x) => x.name === run.trials[0]!.fault.target)!;
    expect(await virsh('domstate', n.domain)).toBe('running');
    // both runs in one report, re-rendered without a lab (scripts/demo hands it out: PVELAB_DEMO_OUT)
    const out = join(process.env['PVELAB_DEMO_OUT'] ?? dir, 'pvelab-demo-report');
    const label = 'Made with the simulated Proxmox VE stand-in (no real Proxmox, HA timings scaled ×0.1): a demonstration of pvelab, not a measurement of Proxmox.';
    const rep = await runPvelab(ns, h, ['--json', 'report', ...runDirs, '--out', out, '--label', label]);
    expect(rep.exitCode, rep.stderr).toBe(0);
    expect(JSON.parse(rep.stdout).trials).toBe(4);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('simulated Proxmox VE stand-in');
  });

  it('down removes everything pvelab built and nothing else; twice; status then finds no lab', async () => {
    // decoys without our mark
    writeFileSync(join(dir, 'decoy-net.xml'), "<network><name>decoy-net</name><bridge name='decoybr0'/></network>");
    expect(await virsh('net-define', join(dir, 'decoy-net.xml'))).toMatch(/defined/);
    writeFileSync(join(dir, 'decoy-dom.xml'), "<domain type='qemu'><name>pvelab-journey-decoy</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>");
    expect(await virsh('define', join(dir, 'decoy-dom.xml'))).toMatch(/defined/);
    await sh(['tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '77', '-T', 'iqn.2024-01.org.example:decoy']);
    await lab.control.stop();
    const down = await pvelab(['down', '--yes']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect((await pvelab(['down', '--yes'])).exitCode).toBe(0);
    const domains = await virsh('list', '--all', '--name');
    expect(domains.split('\n').filter((d) => d.startsWith(`pvelab-${LAB}-pve`))).toEqual([]);
    expect(domains).toContain('pvelab-journey-decoy');
    const nets = await virsh('net-list', '--all', '--name');
    expect(nets).not.toContain(lab.names.network.name);
    expect(nets).toContain('decoy-net');
    const targets = await sh(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'target']);
    expect(targets).not.toContain(lab.names.iscsi.iqn);
    expect(targets).toContain('iqn.2024-01.org.example:decoy');
    expect(existsSync(join(h.home, LAB))).toBe(false);
    expect(lab.names.imagesDir).toBe(join(h.imagesDir, `pvelab-${LAB}`)); // the lab's own directory in storage.dir
    expect(readdirSync(h.imagesDir).filter((f) => !f.startsWith('.'))).toEqual([]); // gone, storage.dir kept
    expect(existsSync(join(h.tgtConfDir, `pvelab-${LAB}.conf`))).toBe(false);
    expect(await sh(['ip', 'link', 'show', lab.names.network.bridge])).toBe('');
    const st = await pvelab(['--json', 'status']);
    expect(JSON.parse(st.stdout).domains.value).toEqual([]);
  });
});
