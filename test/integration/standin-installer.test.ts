// Integration: the stand-in installer ISO under TCG (test/standin/README.md) — boot menu with and without
// /auto-installer-mode.toml (proxmox.md A.1), UEFI automated install with power-off (A.5), validation
// failure -> debug shell, reboot-on-error. VMs run in a private namespace (test/helpers/labns.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { sleep } from '../helpers/run.js';
import { answer, buildStandin, diskIdentity, makeKey, missingPrereq, nsBridge, prepareIso, qcow2, startVm } from '../standin/harness.js';

const missing = missingPrereq();
const MAC = '52:54:00:5e:00:21';

describe.skipIf(!!missing)(`stand-in installer ISO ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let stock: string;
  let pub: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'standin-inst-'));
    stock = await buildStandin('9.2');
    pub = await makeKey(join(dir, 'key'));
    ns = await startLabNs({ libvirt: false, label: 'standin-inst' });
    await nsBridge(ns);
  });
  afterAll(async () => {
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stock ISO (no mode file): BIOS boot waits at the menu and never starts the installer', async () => {
    const vm = await startVm(ns, { name: 'menu', dir, cdroms: [stock], noReboot: true });
    try {
      await vm.waitSerial(/Install Proxmox VE \(Graphical\)/, 120_000);
      await sleep(15_000); // longer than the 10 s a prepared ISO waits
      expect(vm.isRunning()).toBe(true);
      const t = vm.text();
      expect(t).toMatch(/Advanced Options/);
      expect(t).not.toMatch(/Install Proxmox VE \(Automated\)/);
      expect(t).not.toMatch(/STANDIN-INSTALLER/);
    } finally {
      await vm.stop();
    }
  });

  it('UEFI: prepared ISO (iso mode) auto-installs after the menu timeout, powers off, and the disk boots under UEFI', async () => {
    const iso = join(dir, 'uefi.iso');
    const disk = join(dir, 'uefi.qcow2');
    await prepareIso(stock, iso, 'iso', answer({ fqdn: 'pveu.lab.example', ip: '10.99.0.21', mac: MAC, sshKey: pub, rebootMode: 'power-off' }));
    await qcow2(disk);
    const vm = await startVm(ns, { name: 'uefi', dir, uefi: true, mac: MAC, disks: [disk], cdroms: [iso], cdFirst: true, noReboot: true });
    try {
      await vm.waitSerial(/Install Proxmox VE \(Automated\)/, 180_000);
      await vm.waitSerial(/INFO: Fetching answer file in mode Iso:/, 120_000);
      await vm.waitSerial(/INFO: Installation done\./, 120_000);
      expect(await Promise.race([vm.exited, sleep(60_000).then(() => 'still running')])).toBe(0);
      expect(vm.text()).toMatch(/auto powering off/);
    } finally {
      await vm.stop();
    }
    const ident = await diskIdentity(disk);
    expect(ident).toMatch(/^fqdn=pveu\.lab\.example$/m);
    expect(ident).toMatch(/^cidr=10\.99\.0\.21\/24$/m);
    expect(ident).toMatch(/^root_password_hash=\$6\$/m);
    expect(ident).not.toContain('standin-pw-1');
    const node = await startVm(ns, { name: 'uefinode', dir, uefi: true, mac: MAC, disks: [disk], noReboot: true });
    try {
      await node.waitSerial(/STANDIN-NODE-READY pveu\.lab\.example 10\.99\.0\.21/, 180_000);
    } finally {
      await node.stop();
    }
  });

  // the two failure paths run side by side (one TCG VM per core)
  it.concurrent('a rejected answer prints the upstream error and waits in the debug shell', async () => {
    const iso = join(dir, 'bad.iso');
    const disk = join(dir, 'bad.qcow2');
    await prepareIso(stock, iso, 'iso', answer({ fqdn: 'pveb.lab.example', ip: '10.99.0.22', mac: MAC, sshKey: pub, password: 'short' }));
    await qcow2(disk);
    const vm = await startVm(ns, { name: 'bad', dir, mac: MAC, disks: [disk], cdroms: [iso], cdFirst: true, noReboot: true });
    try {
      await vm.waitSerial(/ERROR: Installation failed: `global\.root-password` must be at least 8 characters long/, 240_000);
      await vm.waitSerial(/Installation aborted - unable to continue \(type exit or CTRL-D to reboot\)/, 30_000);
      await vm.waitSerial(/Starting a debug shell/, 30_000);
      await sleep(5_000);
      expect(vm.isRunning()).toBe(true);
      expect(await diskIdentity(disk)).toBe('');
    } finally {
      await vm.stop();
    }
  });

  it.concurrent('reboot-on-error = true reboots instead of waiting', async () => {
    const iso = join(dir, 'roe.iso');
    await qcow2(join(dir, 'roe.qcow2'));
    await prepareIso(stock, iso, 'iso',
      answer({ fqdn: 'pver.lab.example', ip: '10.99.0.23', mac: '52:54:00:5e:00:99', sshKey: pub, rebootOnError: true }));
    const vm = await startVm(ns, { name: 'roe', dir, mac: MAC, disks: [join(dir, 'roe.qcow2')], cdroms: [iso], cdFirst: true, noReboot: true });
    try {
      await vm.waitSerial(/ERROR: Installation failed: filter did not match any device/, 240_000);
      expect(await Promise.race([vm.exited, sleep(60_000).then(() => 'still running')])).toBe(0); // -no-reboot: reboot exits QEMU
      expect(vm.text()).toMatch(/Auto-installation failed/);
      expect(vm.text()).not.toMatch(/Installation aborted/);
    } finally {
      await vm.stop();
    }
  });
});
