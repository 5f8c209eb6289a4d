// The install step on an in-memory libvirt and SSH (install-fakes.ts): parallel installs, the switch to
// the run phase, host-key pinning, every resume case, the timeout policy, Ctrl-C, check() and drift.
import { describe, expect, it } from 'vitest';
import { InterruptedError, LabError, TimeoutError } from '../../lab/core/errors.js';
import { phaseFacts } from '../../lab/install/phase.js';
import { NodeInstallTimeout } from '../../lab/install/report.js';
import { HostKeyMismatchError } from '../../lab/ssh/known-hosts.js';
import { installStep } from '../../lab/steps/install.js';
import { key, rig, type Rig } from './install-fakes.js';

const stepOf = (r: Rig) => installStep({ ssh: () => r.ssh, diskWritten: async (ctx, i) => r.lv.written.has(ctx.names.nodes[i]!.domain), sshPollMs: 5, tickMs: 0 });
const NODES = ['pve1', 'pve2', 'pve3'];

describe('install step: a fresh lab', () => {
  it('runs the three installers at the same time, then boots each VM from its disk (same UUID, CDs ejected) and pins its first host key', async () => {
    const r = rig();
    const step = stepOf(r);
    expect(await step.check(r.ctx())).toEqual({ kind: 'todo', reason: 'pve1: not installed yet; pve2: not installed yet; pve3: not installed yet' });
    await step.apply(r.ctx());
    expect(r.lv.maxRunningInstallers).toBe(3);
    expect(r.progress.some((l) => /pve1: installing.*· pve2: installing.*· pve3: installing/.test(l))).toBe(true);
    for (const [i, n] of NODES.entries()) {
      const d = r.dom(i);
      expect(d.state).toBe('running');
      expect(d.uuid).toBe(`00000000-0000-4000-8000-00000000000${i}`);
      expect(phaseFacts(d.xml)).toEqual({ phase: 'run', installerMedia: null, answerMedia: null, onReboot: 'restart', firstBoot: 'vda' });
      expect(r.lv.calls.filter((c) => c.startsWith(`start ${d.name}`))).toEqual([`start ${d.name} install`, `start ${d.name} run`]);
      expect(r.ssh.pins.get(n)).toEqual(key(n));
      expect(r.ssh.log.indexOf(`forget ${n}`)).toBeLessThan(r.ssh.log.indexOf(`pin ${n}`));
    }
    expect(await step.check(r.ctx())).toEqual({ kind: 'done', detail: 'pve1, pve2, pve3 run from disk; SSH with the lab key, host keys pinned' });
    expect(r.progress.at(-1)).toMatch(/^pve1: ready .*· pve3: ready/);
  });
});

describe('install step: resume after an interrupted `up`', () => {
  it('does not install again a node whose installer finished unobserved (shut off, disk written)', async () => {
    const r = rig();
    r.lv.written.add(r.dom(0).name);
    await stepOf(r).apply(r.ctx());
    expect(r.lv.calls.filter((c) => c.startsWith(`start ${r.dom(0).name}`))).toEqual([`start ${r.dom(0).name} run`]);
    expect(r.progress.some((l) => l.includes('pve1: installed earlier (root disk written); not installing again'))).toBe(true);
    expect(r.lv.calls).toContain(`start ${r.dom(1).name} install`);
  });

  it('waits for an installer that is still running instead of restarting it', async () => {
    const r = rig();
    const lv = r.lv.driver();
    await lv.start(r.dom(1).name); // started by the earlier run; finishes on its own
    r.lv.calls.length = 0;
    await stepOf(r).apply(r.ctx());
    expect(r.lv.calls.filter((c) => c.startsWith(`start ${r.dom(1).name}`))).toEqual([`start ${r.dom(1).name} run`]);
    expect(r.lv.calls).not.toContain(`destroy ${r.dom(1).name}`);
    expect(r.ssh.pins.has('pve2')).toBe(true);
  });

  it('destroys an installation left paused (an earlier timeout) and installs that node again', async () => {
    const r = rig();
    r.dom(2).state = 'paused';
    await stepOf(r).apply(r.ctx());
    const calls = r.lv.calls.filter((c) => c.includes(r.dom(2).name));
    expect(calls.slice(0, 2)).toEqual([`destroy ${r.dom(2).name}`, `start ${r.dom(2).name} install`]);
    expect(r.dom(2).state).toBe('running');
  });

  it('starts a shut-off node of the run phase from its disk and verifies its pin instead of replacing it', async () => {
    const r = rig();
    await stepOf(r).apply(r.ctx());
    await r.lv.driver().destroy(r.dom(0).name);
    r.lv.calls.length = 0;
    r.ssh.log.length = 0;
    expect(await stepOf(r).check(r.ctx())).toMatchObject({ kind: 'todo', reason: 'pve1: installed, VM shutoff' });
    await stepOf(r).apply(r.ctx());
    expect(r.lv.calls).toEqual([`start ${r.dom(0).name} run`]);
    expect(r.ssh.log).toEqual([]);
  });
});

describe('install step: failures', () => {
  it('an installer that never powers off: timeout naming serial log, VNC display and virsh console; the VM is left paused', async () => {
    const r = rig({ installS: 0.3 });
    r.lv.script.set(r.dom(1).name, 'hang');
    const err = await stepOf(r).apply(r.ctx()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NodeInstallTimeout);
    const e = err as NodeInstallTimeout;
    const n = r.ctx().names.nodes[1]!;
    expect(e.message).toMatch(/^timed out after .* waiting for pve2 to finish installing \(VM pvelab-t1-pve2 to power off\); last seen: running$/);
    expect(e.hint).toContain(`serial log ${n.serialLog}`);
    expect(e.hint).toContain('VNC 127.0.0.1:5901 (display :1)');
    expect(e.hint).toContain('`virsh -c qemu:///system console pvelab-t1-pve2`');
    expect(e.hint).toContain('left paused');
    expect(e.hint).toContain('timeouts.installS (now 0.3 s)');
    expect(r.dom(1).state).toBe('paused');
    expect(phaseFacts(r.dom(1).xml).phase).toBe('install');
    expect(r.dom(0).state).toBe('running'); // the others still came up
    expect(r.ssh.pins.has('pve1') && r.ssh.pins.has('pve3')).toBe(true);
  });

  it('three stuck installers: one timeout listing every node and its consoles', async () => {
    const r = rig({ installS: 0.2, graphics: 'none' });
    for (let i = 0; i < 3; i++) r.lv.script.set(r.dom(i).name, 'hang');
    const e = (await stepOf(r).apply(r.ctx()).catch((x: unknown) => x)) as TimeoutError;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toMatch(/waiting for pve1, pve2, pve3 to finish installing/);
    for (const n of r.ctx().names.nodes) expect(e.hint).toContain(`    ${n.name}: serial log ${n.serialLog}; no graphical console (libvirt.graphics: none)`);
    expect(e.hint).toContain('The installer VMs are left paused');
  });

  it('an installer that powers off without writing the disk is an error, not a blank disk to boot', async () => {
    const r = rig();
    r.lv.script.set(r.dom(0).name, 'poweroff-blank');
    const e = (await stepOf(r).apply(r.ctx()).catch((x: unknown) => x)) as LabError;
    expect(e.message).toBe('pve1: the installer powered off without writing the root disk');
    expect(phaseFacts(r.dom(0).xml).phase).toBe('install');
  });

  it('Ctrl-C while installing: interrupted, the installers keep running (they power off on their own)', async () => {
    const r = rig();
    r.lv.installMs = 10_000;
    const ac = new AbortController();
    const p = stepOf(r).apply(r.ctx(ac.signal));
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
    for (let i = 0; i < 3; i++) expect(r.dom(i).state).toBe('running');
    expect(r.lv.calls.some((c) => c.startsWith('suspend'))).toBe(false);
  });

  it('a node that offers another host key than its pin: check() says drift, apply() refuses', async () => {
    const r = rig();
    await stepOf(r).apply(r.ctx());
    r.ssh.offers.set('pve3', key('impostor'));
    const st = await stepOf(r).check(r.ctx());
    expect(st.kind).toBe('drift');
    expect(st.kind === 'drift' && st.detail).toMatch(/host key of pve3 .* does not match the pinned key/);
    r.dom(2).state = 'shutoff';
    await expect(stepOf(r).apply(r.ctx())).rejects.toBeInstanceOf(HostKeyMismatchError);
  });

  it('a node that stops while booting from its disk is reported with its consoles', async () => {
    const r = rig();
    const step = installStep({ ssh: () => ({ ...r.ssh, probe: async (n) => {
      r.lv.domains.get(n.domain)!.state = 'shutoff';
      return { ok: false, seen: 'refused' };
    }, pinned: r.ssh.pinned.bind(r.ssh), pin: r.ssh.pin.bind(r.ssh), forget: r.ssh.forget.bind(r.ssh) }), diskWritten: async (ctx, i) => r.lv.written.has(ctx.names.nodes[i]!.domain), sshPollMs: 5, tickMs: 0 });
    const e = (await step.apply(r.ctx()).catch((x: unknown) => x)) as LabError;
    expect(e.message).toMatch(/^3 nodes did not come up:\n {2}- pve1: pve1 stopped \(shutoff\) while booting from its disk/);
    expect(e.message).toContain('serial log');
  });
});
