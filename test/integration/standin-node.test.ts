// Integration: install with partition mode + a PROXMOX-AIS answer CD, then the installed node (SSH with
// the answer's key at the answer's address, vmbr0, container networking pieces, link cut), and the
// reinstall loop of reboot-mode "reboot" with the ISO first in the boot order (proxmox.md A.2, A.5).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { sleep } from '../helpers/run.js';
import { type StandinVm, answer, answerMedia, buildStandin, makeKey, missingPrereq, nsBridge, prepareIso, qcow2, sshNode, startVm } from '../standin/harness.js';

const missing = missingPrereq();
const MAC = '52:54:00:5e:00:11';
const IP = '10.99.0.11';

describe.skipIf(!!missing)(`stand-in installed node ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let key: string;
  let pub: string;
  let node: StandinVm | undefined;
  let loop: StandinVm | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'standin-node-'));
    key = join(dir, 'key');
    pub = await makeKey(key);
    await makeKey(join(dir, 'other'));
    ns = await startLabNs({ libvirt: false, label: 'standin-node' });
    await nsBridge(ns);
    // reinstall-loop VM (last test): 8.3 ISO, snake_case answer without reboot-mode, ISO first
    const iso = join(dir, 'loop.iso');
    const a = answer({ fqdn: 'pve3.lab.example', ip: '10.99.0.13', mac: '52:54:00:5e:00:13', sshKey: pub, snake: true });
    await prepareIso(await buildStandin('8.3'), iso, 'iso', a);
    await qcow2(join(dir, 'loop.qcow2'));
    loop = await startVm(ns, { name: 'loop', dir, mac: '52:54:00:5e:00:13', disks: [join(dir, 'loop.qcow2')], cdroms: [iso], cdFirst: true });
  });
  afterAll(async () => {
    await node?.stop();
    await loop?.stop();
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('partition mode: finds the PROXMOX-AIS medium, installs and powers off', async () => {
    const stock = await buildStandin('9.2');
    const iso = join(dir, 'part.iso');
    await prepareIso(stock, iso, 'partition');
    await answerMedia(join(dir, 'ais.iso'), answer({ fqdn: 'pve1.lab.example', ip: IP, mac: MAC, sshKey: pub, rebootMode: 'power-off' }));
    await qcow2(join(dir, 'node.qcow2'));
    const vm = await startVm(ns, { name: 'inst', dir, mac: MAC, disks: [join(dir, 'node.qcow2')], cdroms: [iso, join(dir, 'ais.iso')], cdFirst: true, noReboot: true });
    try {
      await vm.waitSerial(/INFO: Found partition with label 'PROXMOX-AIS'/, 240_000);
      await vm.waitSerial(/INFO: Installation done\./, 120_000);
      expect(await Promise.race([vm.exited, sleep(60_000).then(() => 'still running')])).toBe(0);
      expect(vm.text()).toMatch(/INFO: progress 100\.0 % - installation finished/);
    } finally {
      await vm.stop();
    }
  });

  it('the installed node boots from its disk and answers SSH with the answer key at the answer address', async () => {
    // ISO still attached, disk first (what pvelab does after install)
    node = await startVm(ns, { name: 'node', dir, mac: MAC, disks: [join(dir, 'node.qcow2')], cdroms: [join(dir, 'part.iso')] });
    await node.waitSerial(new RegExp(`STANDIN-NODE-READY pve1\\.lab\\.example ${IP.replace(/\./g, '\\.')}`), 180_000);
    expect(node.text()).not.toMatch(/STANDIN-INSTALLER/);
    const r = await sshNode(ns, key, IP, 'hostname; cat /etc/hosts; ip -4 -o addr show vmbr0; ls /sys/class/net/vmbr0/brif');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^pve1$/m);
    expect(r.stdout).toContain(`${IP} pve1.lab.example pve1`);
    expect(r.stdout).toMatch(new RegExp(`vmbr0\\s+inet ${IP.replace(/\./g, '\\.')}/24`));
    expect(r.stdout).toMatch(/^enp\d+s\d+$/m); // the NIC is a bridge port, named like udev would
  });

  it('rejects a key that is not in the answer', async () => {
    const r = await sshNode(ns, join(dir, 'other'), IP, 'true');
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Permission denied/);
  });

  it('has the kernel pieces for container networking: a netns HTTP server behind a veth on vmbr0', async () => {
    const r = await sshNode(ns, key, IP, 'ip netns add ct1 && ip link add veth1 type veth peer name eth0 netns ct1 && ' +
      'ip link set veth1 master vmbr0 up && ip -n ct1 addr add 10.99.0.50/24 dev eth0 && ip -n ct1 link set eth0 up && ' +
      'ip -n ct1 link set lo up && mkdir -p /srv/ct1 && echo hello-from-ct1 > /srv/ct1/index.html && ' +
      'ip netns exec ct1 httpd -p 80 -h /srv/ct1 && ls /sys/class/net/vmbr0/brif && echo NETNS-OK');
    expect(r.stdout, r.stderr).toContain('NETNS-OK');
    expect(r.stdout).toMatch(/^veth1$/m);
    const page = await ns.exec(['curl', '-s', '-m', '10', 'http://10.99.0.50/'], { allowFail: true }); // busybox-static wget segfaults
    expect(page.stdout, page.stderr).toBe('hello-from-ct1\n');
  });

  it('a link cut on its NIC makes it unreachable; restoring the link brings it back', async () => {
    expect((await sshNode(ns, key, IP, 'true')).exitCode).toBe(0);
    await node!.qmp('set_link', { name: 'n0', up: false });
    const ping = await ns.exec(['busybox', 'ping', '-c', '3', '-W', '1', IP], { allowFail: true });
    expect(ping.exitCode).not.toBe(0);
    expect((await sshNode(ns, key, IP, 'true')).exitCode).toBe(255);
    await node!.qmp('set_link', { name: 'n0', up: true });
    let back = -1;
    for (let i = 0; i < 10 && back !== 0; i++) back = (await sshNode(ns, key, IP, 'true')).exitCode;
    expect(back).toBe(0);
    await node!.stop();
    node = undefined;
  });

  it('reboot-mode "reboot" (8.3 default) with the ISO first in the boot order reinstalls again', async () => {
    const vm = loop!; // started in beforeAll, runs alongside the tests above
    try {
      const first = await vm.waitSerial(/INFO: Installation done\.[\s\S]*?rebooting - please wait/, 300_000);
      const after = first.index + first[0].length;
      await vm.waitSerial(/STANDIN-INSTALLER release 8\.3/, 180_000, after);
      await vm.waitSerial(/INFO: Installation done\./, 180_000, after);
      expect(vm.text().match(/INFO: Rebooting system after successful installation/g)?.length).toBeGreaterThanOrEqual(2);
    } finally {
      await vm.stop();
    }
  });
});
