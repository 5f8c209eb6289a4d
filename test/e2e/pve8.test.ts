// PVE 8 end to end: the real `pvelab up` against three Proxmox stand-in nodes of release 8.2 (the
// oldest release pvelab supports; snake_case answer keys, HA groups instead of node-affinity rules)
// inside a private lab namespace. The journey (journey.test.ts) covers PVE 9; this covers the
// release-dependent half of the Proxmox configuration: the answer file style, the HA group, the
// resource in it, and that no rule was attempted. Asserted from outside the product: OpenSSH with the
// lab key and pvelab's known_hosts (strict checking) running Proxmox's own commands on the nodes,
// curl for the guest, virsh for the domains after `down`.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabNs, startLabNs } from '../helpers/labns.js';
import { type PvelabHome, pvelabHome, runPvelab } from '../helpers/pvelab.js';
import { buildStandinLab, serialLogsOnFailure, type StandinLab } from '../helpers/standin-lab.js';
import { missingPrereq } from '../standin/harness.js';

const missing =
  (process.getuid?.() !== 0 ? 'root (namespaces, libvirtd)' : undefined) ??
  missingPrereq() ??
  ['/usr/sbin/libvirtd', '/usr/sbin/tgtd', '/usr/bin/qemu-img', '/usr/bin/unshare', '/usr/bin/virsh', '/usr/bin/curl', '/usr/bin/ssh', '/usr/bin/xorriso'].find((p) => !existsSync(p));

const LAB = 'pve8';

describe.skipIf(!!missing)(`pvelab up on PVE 8.2 stand-in nodes ${missing ? `(skipped: ${missing} missing)` : ''}`, () => {
  let ns: LabNs;
  let dir: string;
  let h: PvelabHome;
  let lab: StandinLab;
  const sh = async (argv: string[]) => ns.exec(argv, { allowFail: true });
  /** A command on a node over OpenSSH with the lab's key and pinned host keys. */
  const onNode = async (node: string, command: string) => {
    const state = join(h.home, LAB);
    const ip = lab.names.nodes.find((n) => n.name === node)!.ip;
    return sh(['ssh', '-i', join(state, 'ssh', 'id_ed25519'), '-o', `UserKnownHostsFile=${join(state, 'ssh', 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
      '-o', `HostKeyAlias=${node}`, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', `root@${ip}`, command]);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pvelab-e2e-pve8-'));
    h = pvelabHome(dir);
    ns = await startLabNs({ libvirt: true, tgtd: true, label: 'e2e-pve8' });
  });
  serialLogsOnFailure(() => lab);
  afterAll(async () => {
    await lab?.control.stop();
    await ns?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('up reaches a quorate 8.2 cluster with both storages and the Apache container under an HA group, answering HTTP', async () => {
    const net = await ns.allocSubnet();
    lab = await buildStandinLab(ns, h, { name: LAB, cidr: net.cidr, release: '8.2' });
    expect(lab.up.exitCode, lab.up.stderr).toBe(0);
    // the installer of 8.2 only knows snake_case answer keys: the install itself proves pvelab wrote them
    for (const n of lab.names.nodes) {
      const out = join(dir, `${n.name}-answer.toml`);
      expect((await sh(['xorriso', '-osirrox', 'on', '-indev', n.answerIso, '-extract', '/answer.toml', out])).exitCode).toBe(0);
      const toml = readFileSync(out, 'utf8');
      expect(toml).toMatch(/^root_password = /m); // hashed passwords only from 8.3 on
      expect(toml).toMatch(/^root_ssh_keys = /m);
      expect(toml).not.toMatch(/^[a-z]+-[a-z-]+ = /m); // no kebab-case key anywhere
    }
    const ver = await onNode('pve1', 'pveversion');
    expect(ver.stdout).toMatch(/^pve-manager\/8\.2\./);
    const status = JSON.parse((await onNode('pve2', 'pvesh get /cluster/status --output-format json')).stdout) as Array<{ type: string; quorate?: number; online?: number }>;
    expect(status.find((x) => x.type === 'cluster')?.quorate).toBe(1);
    expect(status.filter((x) => x.type === 'node' && x.online === 1)).toHaveLength(3);
    const storages = JSON.parse((await onNode('pve3', 'pvesh get /storage --output-format json')).stdout) as Array<{ storage: string; type: string; shared?: number }>;
    const byId = Object.fromEntries(storages.map((s) => [s.storage, s]));
    expect(byId[lab.names.pve.storageIscsi]?.type).toBe('iscsi');
    expect(byId[lab.names.pve.storageLvm]).toMatchObject({ type: 'lvm', shared: 1 });
    expect(byId[lab.names.pve.storageZfs]?.type).toBe('zfspool');
    // PVE 8: an HA group holds the resource; there are no rules on 8.x
    const groups = await onNode('pve1', 'ha-manager groupconfig');
    expect(groups.exitCode, groups.stderr).toBe(0);
    expect(groups.stdout).toMatch(new RegExp(`^group: ${lab.names.pve.haGroup}$`, 'm'));
    const resources = JSON.parse((await onNode('pve1', 'pvesh get /cluster/ha/resources --output-format json')).stdout) as Array<{ sid: string; group?: string; state?: string }>;
    expect(resources.find((r) => r.sid === lab.names.guest.haSid)).toMatchObject({ group: lab.names.pve.haGroup, state: 'started' });
    const page = await sh(['curl', '-s', '-m', '5', `http://${lab.names.guest.ip}/`]);
    expect(page.stdout).toContain(`<h1>${lab.names.guest.hostname}</h1>`);
  });

  it('a second up changes nothing; status agrees; down removes the lab', async () => {
    if (lab?.up.exitCode !== 0) throw new Error('the lab was not built (see the first test)');
    const again = await runPvelab(ns, h, ['up'], { labFile: lab.file });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to do');
    const st = await runPvelab(ns, h, ['--json', 'status', '--deadline', '3000'], { labFile: lab.file });
    const s = JSON.parse(st.stdout);
    expect(s.cluster.value).toMatchObject({ quorate: true });
    expect(s.ha.value).toMatchObject({ sid: lab.names.guest.haSid, state: 'started' });
    await lab.control.stop();
    const down = await runPvelab(ns, h, ['down', '--yes'], { labFile: lab.file });
    expect(down.exitCode, down.stderr).toBe(0);
    const domains = (await sh(['virsh', '-c', 'qemu:///system', 'list', '--all', '--name'])).stdout;
    expect(domains.split('\n').filter((d) => d.startsWith(`pvelab-${LAB}-`))).toEqual([]);
    expect(existsSync(join(h.home, LAB))).toBe(false);
  });
});
