// The lab's lifecycle for classes, end to end, with the real CLI inside a private lab namespace against
// three Proxmox stand-in nodes (HA at time scale 0.1): up → status → up again (nothing to do) →
// snapshot save → reset (quorate and serving, checked) → down → nothing left.
// (Failover trials on such a lab: test/e2e/failover.test.ts and journey.test.ts, set aside in git history; see issue 9/10 notes.)
// Decoys without pvelab's mark (a domain, a network, a tgt target) must survive `down`.
// Everything is checked from outside the product: virsh, tgtadm, curl and the file system.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { type PvelabHome, pvelabHome, runPvelab } from '../helpers/pvelab.js';
import { buildStandinLab, type StandinLab } from '../helpers/standin-lab.js';
import { missingPrereq } from '../standin/harness.js';

const missing =
  (process.getuid?.() !== 0 ? 'root (namespaces, libvirtd)' : undefined) ??
  missingPrereq() ??
  ['/usr/sbin/libvirtd', '/usr/sbin/tgtd', '/usr/bin/qemu-img', '/usr/bin/unshare', '/usr/bin/virsh', '/usr/bin/curl'].find((p) => !existsSync(p));

const LAB = 'lifecycle';

describe.skipIf(!!missing)(`the lab lifecycle on stand-in nodes ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let h: PvelabHome;
  let lab: StandinLab;
  const sh = async (argv: string[]) => (await ns.exec(argv, { allowFail: true })).stdout.trim();
  const virsh = (...args: string[]) => sh(['virsh', '-c', 'qemu:///system', ...args]);
  const pvelab = (args: string[], timeoutMs = 30 * 60_000) => runPvelab(ns, h, args, { labFile: lab.file, timeoutMs });
  const page = () => sh(['curl', '-s', '-m', '3', `http://${lab.names.guest.ip}/`]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-e2e-lifecycle-'));
    h = pvelabHome(dir);
    ns = await startLabNs({ libvirt: true, tgtd: true, label: 'e2e-lifecycle' });
  });
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

  it('snapshot save keeps every disk and brings the lab back; reset returns to it, quorate and serving', async () => {
    const save = await pvelab(['snapshot', 'save']);
    expect(save.exitCode, save.stderr).toBe(0);
    expect(readdirSync(join(h.imagesDir, 'snapshots', 'golden')).sort()).toEqual(expect.arrayContaining(['manifest.json', 'shared-lun.img', 'pve1-zfs.qcow2', 'pve1-root.qcow2']));
    expect(await page()).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
    // the class changes something, then the teacher resets
    const marker = join(h.imagesDir, 'pve2-zfs.qcow2');
    const before = readFileSync(join(h.imagesDir, 'snapshots', 'golden', 'pve2-zfs.qcow2'));
    const reset = await pvelab(['reset']);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(reset.stderr).toMatch(/✓ lab reset to "golden" in [\d.]+ s .*quorate.*HTTP 200/);
    expect(readFileSync(marker).subarray(0, 4096).equals(before.subarray(0, 4096))).toBe(true);
    expect(await page()).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
  });

  it('down removes everything pvelab built and nothing else; twice; status then finds no lab', async () => {
    // decoys without our mark
    writeFileSync(join(dir, 'decoy-net.xml'), "<network><name>decoy-net</name><bridge name='decoybr0'/></network>");
    expect(await virsh('net-define', join(dir, 'decoy-net.xml'))).toMatch(/defined/);
    writeFileSync(join(dir, 'decoy-dom.xml'), "<domain type='qemu'><name>pvelab-lifecycle-decoy</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>");
    expect(await virsh('define', join(dir, 'decoy-dom.xml'))).toMatch(/defined/);
    await sh(['tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '77', '-T', 'iqn.2024-01.org.example:decoy']);
    await lab.control.stop();
    const down = await pvelab(['down', '--yes']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect((await pvelab(['down', '--yes'])).exitCode).toBe(0);
    const domains = await virsh('list', '--all', '--name');
    expect(domains.split('\n').filter((d) => d.startsWith(`pvelab-${LAB}-pve`))).toEqual([]);
    expect(domains).toContain('pvelab-lifecycle-decoy');
    const nets = await virsh('net-list', '--all', '--name');
    expect(nets).not.toContain(lab.names.network.name);
    expect(nets).toContain('decoy-net');
    const targets = await sh(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'target']);
    expect(targets).not.toContain(lab.names.iscsi.iqn);
    expect(targets).toContain('iqn.2024-01.org.example:decoy');
    expect(existsSync(join(h.home, LAB))).toBe(false);
    expect(readdirSync(h.imagesDir).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(existsSync(join(h.tgtConfDir, `pvelab-${LAB}.conf`))).toBe(false);
    expect(await sh(['ip', 'link', 'show', lab.names.network.bridge])).toBe('');
    const st = await pvelab(['--json', 'status']);
    expect(JSON.parse(st.stdout).domains.value).toEqual([]);
  });
});
