// `up` interrupted at any point continues when run again and reaches the same lab. The real CLI runs
// inside a lab namespace; it is SIGKILLed (no chance to clean up, like a power cut of the terminal)
// when it starts each step in turn — every step boundary up to the defined node VMs — and once in
// the middle of the install, then run again until it completes. The kill points covered are counted.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { INSTALL_STEP, type PvelabHome, REPO, pvelabHome, runPvelab, writeLabFile } from '../helpers/pvelab.js';
import { buildStandin, missingPrereq } from '../standin/harness.js';

const missing =
  (process.getuid?.() !== 0 ? 'root (namespaces, libvirtd)' : undefined) ??
  missingPrereq() ??
  ['/usr/sbin/libvirtd', '/usr/sbin/tgtd', '/usr/bin/qemu-img', '/usr/bin/unshare', '/usr/bin/virsh'].find((p) => !existsSync(p));

const LAB = 'resume';

describe.skipIf(!!missing)(`up resumes after being killed anywhere ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let h: PvelabHome;
  let file: string;
  const sh = async (argv: string[]) => (await ns.exec(argv, { allowFail: true })).stdout.trim();

  /** Starts `pvelab up …` and SIGKILLs it when stderr shows `marker`; resolves with what it printed. */
  function upKilledAt(args: string[], marker: RegExp): Promise<{ killed: boolean; stderr: string }> {
    const child = ns.spawn(['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/tgt/conf.d && shift && exec "$@"', 'sh', h.tgtConfDir,
      'node', join(REPO, 'node_modules/tsx/dist/cli.mjs'), join(REPO, 'lab/main.ts'), '-c', file, 'up', ...args], {
      cwd: h.dir,
      env: { ...process.env, PVELAB_HOME: h.home, PVELAB_ISO_DIR: h.isoDir, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    return new Promise((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!killed && marker.test(stderr)) {
          killed = true;
          // every pvelab process in the namespace's own PID namespace, at once and without warning
          void ns.exec(['pkill', '-KILL', '-f', 'lab/main.ts'], { allowFail: true });
        }
      });
      child.on('exit', () => resolve({ killed, stderr }));
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-e2e-resume-'));
    h = pvelabHome(dir);
    ns = await startLabNs({ libvirt: true, tgtd: true, label: 'e2e-resume' });
    const net = await ns.allocSubnet();
    file = writeLabFile(h, {
      name: LAB,
      pve: { iso: await buildStandin('9.2') },
      network: { cidr: net.cidr },
      libvirt: { uri: 'qemu:///system', domainType: 'qemu', cpu: { model: 'qemu64' }, graphics: 'vnc' },
      storage: { layout: 'qcow2', dir: h.imagesDir, lunGiB: 8 },
      nodeDefaults: { vcpus: 1, memoryMiB: 2048, rootGiB: 16, zfsGiB: 4 },
      timeouts: { installS: 900, sshS: 300 },
    });
  });
  afterAll(async () => {
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('killed at every step boundary up to the node VMs, each rerun continues; the result is the complete lab', async () => {
    const plan = await runPvelab(ns, h, ['--json', 'plan'], { labFile: file });
    const ids = (JSON.parse(plan.stdout) as { id: string; title: string }[]);
    const upto = ids.slice(0, ids.findIndex((s) => s.id === 'libvirt.domains') + 1);
    let covered = 0;
    for (const step of upto) {
      const title = step.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const r = await upKilledAt(['--until', 'libvirt.domains'], new RegExp(`▸ ${title}\\n`));
      if (r.killed) covered++;
      // the journal may say "running" for the killed step; the next run decides from the world
    }
    console.log(`kill points covered at step boundaries: ${covered} of ${upto.length}`);
    expect(covered).toBeGreaterThanOrEqual(upto.length - 1);
    const done = await runPvelab(ns, h, ['up', '--until', 'libvirt.domains'], { labFile: file });
    expect(done.exitCode, done.stderr).toBe(0);
    const again = await runPvelab(ns, h, ['up', '--until', 'libvirt.domains'], { labFile: file });
    expect(again.stderr).toContain('nothing to do');
    // the same lab as one uninterrupted run builds: three defined nodes, the network, the target, the files
    expect((await sh(['virsh', 'list', '--all', '--name'])).split('\n').filter((d) => d.startsWith(`pvelab-${LAB}-`)).sort()).toEqual(['pvelab-resume-pve1', 'pvelab-resume-pve2', 'pvelab-resume-pve3']);
    expect(await sh(['virsh', 'net-list', '--name'])).toContain(`pvelab-${LAB}`);
    expect(await sh(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'target'])).toContain(`iqn.2024-01.dev.pvelab:${LAB}`);
    for (const f of ['shared-lun.img', 'pve1-root.qcow2', 'pve3-zfs.qcow2']) expect(existsSync(join(h.imagesDir, `pvelab-${LAB}`, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(h.home, LAB, 'state.json'), 'utf8')).steps['libvirt.domains'].status).toBe('done');
  });

  it('killed in the middle of the install, the rerun finishes it: every node runs from disk and answers SSH', async () => {
    const r = await upKilledAt(['--until', INSTALL_STEP], /pve\d: installing/);
    expect(r.killed, r.stderr).toBe(true);
    const done = await runPvelab(ns, h, ['up', '--until', INSTALL_STEP], { labFile: file, timeoutMs: 20 * 60_000 });
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/ready \(SSH with the lab key, host key pinned\)/);
    for (const n of ['pve1', 'pve2', 'pve3']) expect(await sh(['virsh', 'domstate', `pvelab-${LAB}-${n}`])).toBe('running');
    const again = await runPvelab(ns, h, ['up', '--until', INSTALL_STEP], { labFile: file });
    expect(again.stderr).toContain('nothing to do');
  });

  it('down on the half-built lab removes it, and down on nothing at all succeeds', async () => {
    expect((await runPvelab(ns, h, ['down', '--yes'], { labFile: file })).exitCode).toBe(0);
    expect((await sh(['virsh', 'list', '--all', '--name'])).includes(`pvelab-${LAB}-`)).toBe(false);
    expect(readdirSync(h.imagesDir)).toEqual([]); // the lab's images and its own directory in storage.dir
    const none = await runPvelab(ns, h, ['down', '--yes', '--name', 'neverbuilt']);
    expect(none.exitCode, none.stderr).toBe(0);
  });
});
