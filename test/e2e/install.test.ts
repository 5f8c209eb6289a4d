// End to end: the real `pvelab up` (test/helpers/pvelab.ts) inside a private lab namespace with its own
// libvirtd and tgtd, installing the Proxmox VE stand-in ISO (test/standin) on three TCG nodes.
// Everything is asserted from outside the product: virsh against the namespace's libvirtd, OpenSSH
// with the lab key and pvelab's known_hosts (strict host key checking), the nodes' serial logs.
//  1. three nodes install in parallel, come back from their disks over SSH, host keys pinned; a second
//     `up` changes nothing (no reinstall, no restart, same pins);
//  2. an answer the installer rejects at run time (our own checker accepts it: the ISO's /.cd-info
//     says 9.2 but its installer is 8.3, which only knows snake_case keys) ends, after
//     timeouts.installS, in exit 1 with a timeout naming every serial log; the installers are left
//     paused, still defined for installation.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { INSTALL_STEP, type PvelabHome, pvelabHome, runPvelab, writeLabFile } from '../helpers/pvelab.js';
import { run, waitFor } from '../helpers/run.js';
import { buildStandin, missingPrereq } from '../standin/harness.js';

const missing =
  (process.getuid?.() !== 0 ? 'root (namespaces, libvirtd)' : undefined) ??
  missingPrereq() ??
  ['/usr/sbin/libvirtd', '/usr/sbin/tgtd', '/usr/bin/qemu-img', '/usr/bin/unshare'].find((p) => !existsSync(p));


const NODES = ['pve1', 'pve2', 'pve3'];
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
const count = (text: string, what: string) => text.split(what).length - 1;

/** <disk …>…</disk> blocks of a domain XML, keyed by target dev. */
function disks(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)) {
    const dev = /<target dev='([^']+)'/.exec(m[0])?.[1];
    if (dev) out.set(dev, m[0]);
  }
  return out;
}

describe.skipIf(!!missing)(`pvelab up installs the nodes (stand-in ISO) ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  // The Proxmox steps follow the install in the pipeline: these runs stop after it.
  const upToInstall = ['up', '--until', INSTALL_STEP];
  const virsh = (...args: string[]) => run(['virsh', '-c', ns.uri, ...args]).then((r) => r.stdout.trim());
  // One scratch home per lab: image names (storage.dir) and the prepared ISO (ISO cache, keyed by
  // release) are not lab-specific, so two labs must not share those directories.
  const labFile = (h: PvelabHome, name: string, cidr: string, iso: string, installS: number) =>
    writeLabFile(h, {
      name,
      pve: { iso },
      network: { cidr },
      libvirt: { uri: 'qemu:///system', domainType: 'qemu', cpu: { model: 'qemu64' }, graphics: 'vnc' },
      storage: { layout: 'qcow2', dir: h.imagesDir, lunGiB: 8 },
      nodeDefaults: { vcpus: 1, memoryMiB: 2048, rootGiB: 16, zfsGiB: 4 },
      timeouts: { installS, sshS: 300 },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-e2e-install-'));
    ns = await startLabNs({ libvirt: true, tgtd: true, label: 'e2e-install' });
  });
  afterAll(async () => {
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs three nodes in parallel; they boot from disk, answer SSH with the lab key, host keys pinned; a second up changes nothing', async () => {
    const iso = await buildStandin('9.2');
    const net = await ns.allocSubnet();
    const lab = 'e2einst';
    const h = pvelabHome(join(dir, lab));
    const file = labFile(h, lab, net.cidr, iso, 600);
    const state = join(h.home, lab);
    const key = join(state, 'ssh', 'id_ed25519');
    const knownHosts = join(state, 'ssh', 'known_hosts');

    const up = await runPvelab(ns, h, upToInstall, { labFile: file });
    expect(up.exitCode, up.stderr).toBe(0);
    // one progress line showed all three installers at work at once
    expect(up.stderr).toMatch(/pve1: installing[^·\n]*· pve2: installing[^·\n]*· pve3: installing/);

    const pins = readFileSync(knownHosts, 'utf8');
    const ids: string[] = [];
    for (const [i, node] of NODES.entries()) {
      const dom = `pvelab-${lab}-${node}`;
      const ip = `${net.base}.${11 + i}`;
      expect(await virsh('domstate', dom)).toBe('running');
      ids.push(await virsh('domid', dom));
      for (const xml of [await virsh('dumpxml', dom), await virsh('dumpxml', '--inactive', dom)]) {
        const d = disks(xml);
        expect(d.get('vda')).toMatch(/<boot order='1'\/>/); // boots its disk
        expect(d.get('sda')).toMatch(/device='cdrom'/);
        expect(d.get('sda')).not.toMatch(/<source /); // installer ejected
        expect(d.get('sdb')).not.toMatch(/<source /); // answer CD ejected
        expect(xml).toMatch(/<on_reboot>restart<\/on_reboot>/);
      }
      // OpenSSH with strict checking against pvelab's pins: the key the node offers is the pinned one
      const ssh = await ns.exec(['ssh', '-i', key, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', '-o', 'LogLevel=ERROR', `root@${ip}`, 'hostname'], { allowFail: true });
      expect(ssh.exitCode, ssh.stderr).toBe(0);
      expect(ssh.stdout.trim()).toBe(node);
      expect(pins).toMatch(new RegExp(`^${node},${ip.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
      const serial = stripAnsi(readFileSync(join(state, 'logs', `${node}-serial.log`), 'utf8'));
      expect(count(serial, 'STANDIN-INSTALLER release 9.2')).toBe(1);
      expect(serial).toContain(`STANDIN-NODE-READY ${node}.`);
    }

    const again = await runPvelab(ns, h, upToInstall, { labFile: file });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Installing Proxmox VE on the nodes\n.*already done: pve1, pve2, pve3 run from disk/);
    expect(again.stderr).toContain('nothing to do');
    expect(readFileSync(knownHosts, 'utf8')).toBe(pins);
    for (const [i, node] of NODES.entries()) {
      expect(await virsh('domid', `pvelab-${lab}-${node}`)).toBe(ids[i]); // not restarted
      expect(count(stripAnsi(readFileSync(join(state, 'logs', `${node}-serial.log`), 'utf8')), 'STANDIN-INSTALLER')).toBe(1);
    }
    for (const node of NODES) await virsh('destroy', `pvelab-${lab}-${node}`); // free the CPU for the next test
  });

  it('an answer the installer rejects at run time ends in a timeout naming each serial log; nothing hangs, installers left paused', async () => {
    // An 8.3 installer behind a /.cd-info that says 9.2: pvelab writes (and its checker accepts) a 9.2
    // answer; the 8.3 installer rejects the kebab-case keys and waits in its debug shell forever.
    const stock = await buildStandin('8.3');
    const iso = join(dir, 'mislabelled-9.2.iso');
    copyFileSync(stock, iso);
    const uuid = /^-volume_date uuid '?(\d+)'?/m.exec((await run(['xorriso', '-dev', stock, '-report_system_area', 'cmd'])).stdout)?.[1];
    expect(uuid).toBeTruthy();
    writeFileSync(join(dir, 'cd-info'), "PRODUCT='pve'\nPRODUCTLONG='Proxmox VE'\nRELEASE='9.2'\nISORELEASE='1'\nISONAME='proxmox-ve'\n");
    await run(['xorriso', '-boot_image', 'any', 'keep', '-volume_date', 'uuid', uuid!, '-dev', iso, '-map', join(dir, 'cd-info'), '/.cd-info']);

    const net = await ns.allocSubnet();
    const lab = 'e2ebad';
    const h = pvelabHome(join(dir, lab));
    const state = join(h.home, lab);
    const up = await runPvelab(ns, h, upToInstall, { labFile: labFile(h, lab, net.cidr, iso, 60) });
    expect(up.exitCode, up.stderr).toBe(1);
    const err = up.stderr.slice(up.stderr.indexOf('✗ timed out'));
    expect(err, up.stderr).toMatch(/^✗ timed out after .* waiting for pve1, pve2, pve3 to finish installing/);
    expect(err).toContain('timeouts.installS (now 60 s)');
    expect(err).toContain('left paused');
    for (const node of NODES) {
      const dom = `pvelab-${lab}-${node}`;
      expect(err).toContain(`serial log ${join(state, 'logs', `${node}-serial.log`)}`);
      expect(err).toContain(`virsh -c qemu:///system console ${dom}`);
      expect(err).toMatch(new RegExp(`${node}: [^\\n]*VNC 127\\.0\\.0\\.1:59\\d\\d \\(display :\\d+\\)`));
      expect(await virsh('domstate', dom)).toBe('paused');
      expect(disks(await virsh('dumpxml', '--inactive', dom)).get('sda')).toMatch(/<source file='[^']*auto-from-partition\.iso'/);
    }
    // Why it timed out: let the frozen installers go on (however far they got before the deadline on a
    // loaded machine) — each one rejects the answer and then waits in its debug shell forever.
    for (const node of NODES) await virsh('resume', `pvelab-${lab}-${node}`);
    const serialOf = (node: string) => stripAnsi(readFileSync(join(state, 'logs', `${node}-serial.log`), 'utf8'));
    await waitFor('every installer to reject the answer', async () => (NODES.every((n) => serialOf(n).includes('Installation aborted')) ? true : undefined), 300_000, 1000);
    for (const node of NODES) {
      expect(serialOf(node)).toContain('unknown field `root-password-hashed`');
      expect(await virsh('domstate', `pvelab-${lab}-${node}`)).toBe('running'); // the debug shell never powers off
      await virsh('destroy', `pvelab-${lab}-${node}`);
    }
    expect(existsSync(join(state, 'ssh', 'known_hosts'))).toBe(false); // no node was ever trusted
  });
});
