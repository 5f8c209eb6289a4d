// The pve-* steps through the real pipeline against a scripted 3-node Proxmox (pve-world.ts): the exact
// commands sent, release branching (8: groups, 9: rules), re-runs that change nothing, the gates and
// refusals, and the root password only ever on stdin.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type StepOutcome, runUp } from '../../lab/core/pipeline.js';
import { clearSecrets } from '../../lab/core/secrets.js';
import type { Services, Step } from '../../lab/core/step.js';
import { indexPage, templateCacheDir } from '../../lab/pve/guest.js';
import { clusterJoinStep } from '../../lab/steps/pve-cluster.js';
import { pveSteps } from '../../lab/steps/pve-index.js';
import { PveWorld } from './pve-world.js';
import { testCtx, testLab } from './pve-fixtures.js';

async function up(world: PveWorld, lab: ReturnType<typeof testLab>['lab'], names: ReturnType<typeof testLab>['names'], steps?: Step[]) {
  const services: Partial<Services> = {
    nodes: world,
    guestHttp: async (url) => (url === `http://${names.guest.ip}/` && world.guest?.status === 'running' && world.guest.page ? { status: 200, body: world.guest.page } : { status: 0, body: 'connect ECONNREFUSED' }),
  };
  const ctx = testCtx(lab, names, services);
  world.rootPassword = (await ctx.state.secrets()).rootPassword;
  const outcomes = await runUp(steps ?? pveSteps(lab, names), () => ctx);
  return { ctx, outcomes };
}

const MUTATING = /^(pvecm (create|add)|pvesh (create|set|delete)|apt-get|env |sh -c set -e|pveam (update|download)|pct (create|start)|pct exec \S+ -- (apt-get|env|tee)|vzdump|rm |mkdir |ha-manager (add|set|groupadd|groupset|rules)|pvesr)/;
const results = (o: StepOutcome[]) => Object.fromEntries(o.map((x) => [x.id, x.result]));

afterEach(() => clearSecrets());

describe.each([9, 8])('pve pipeline on Proxmox VE %i', (major) => {
  it('builds cluster, storages and the HA guest with exactly these commands; a second run changes nothing', async () => {
    const { lab, names } = testLab();
    const world = new PveWorld(names, major);
    const first = await up(world, lab, names);
    // The two waits find their condition already met in this world (joins are instantaneous, the guest was started for Apache).
    expect(first.outcomes.filter((o) => o.result !== 'applied').map((o) => o.id)).toEqual(['pve.cluster-quorum', 'pve.ha-serving']);

    const cmds = world.lines((s) => MUTATING.test(s.argv.join(' ')));
    const suite = major === 9 ? 'trixie' : 'bookworm';
    expect(cmds.filter((c) => !c.includes('sh -c set -e'))).toEqual([
      'pve1: apt-get update',
      'pve1: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends open-iscsi',
      'pve2: apt-get update',
      'pve2: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends open-iscsi',
      'pve3: apt-get update',
      'pve3: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends open-iscsi',
      'pve1: pvecm create lab --link0 10.77.0.11',
      'pve2: pvecm add 10.77.0.11 --link0 10.77.0.12 --fingerprint 80:EC:8B:A3:1F:B0:41:C6:F3:5C:E2:7A:47:6C:66:EE:12:DD:B9:EF:CE:0D:43:85:6A:70:A6:92:A7:DA:0F:27',
      'pve3: pvecm add 10.77.0.11 --link0 10.77.0.13 --fingerprint 80:EC:8B:A3:1F:B0:41:C6:F3:5C:E2:7A:47:6C:66:EE:12:DD:B9:EF:CE:0D:43:85:6A:70:A6:92:A7:DA:0F:27',
      'pve1: pvesh create /storage --storage lab-san --type iscsi --portal 10.77.0.1 --target iqn.2024-01.dev.pvelab:lab --content none --output-format json',
      'pve1: pvesh create /storage --storage lab-lvm --type lvm --vgname vg_lab --base lab-san:0.0.1.scsi-360000000000000000e00000000010001 --shared 1 --content images,rootdir --output-format json',
      'pve1: pvesh create /nodes/pve1/disks/zfs --name tank --raidlevel single --devices /dev/vdb --ashift 12 --compression on --add_storage 0 --output-format json',
      'pve2: pvesh create /nodes/pve2/disks/zfs --name tank --raidlevel single --devices /dev/vdb --ashift 12 --compression on --add_storage 0 --output-format json',
      'pve3: pvesh create /nodes/pve3/disks/zfs --name tank --raidlevel single --devices /dev/vdb --ashift 12 --compression on --add_storage 0 --output-format json',
      'pve1: pvesh create /storage --storage lab-zfs --type zfspool --pool tank --content images,rootdir --sparse 1 --nodes pve1,pve2,pve3 --output-format json',
      'pve1: pveam update',
      'pve1: pveam download local debian-12-standard_12.7-1_amd64.tar.zst',
      `pve1: pct create 100 local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst --hostname web --memory 512 --cores 1 --rootfs lab-lvm:4 --net0 name=eth0,bridge=vmbr0,hwaddr=${names.guest.mac},ip=10.77.0.100/24,gw=10.77.0.1,type=veth --nameserver 10.77.0.1 --searchdomain pvelab.internal --ssh-public-keys /root/.pvelab/guest-authorized-keys --unprivileged 1 --features nesting=1 --onboot 1 --tags pvelab --start 0`,
      'pve1: pct start 100',
      'pve1: pct exec 100 -- apt-get update --error-on=any',
      'pve1: pct exec 100 -- env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends apache2',
      'pve1: pct exec 100 -- tee /var/www/html/index.html',
      'pve1: rm -rf /var/tmp/pvelab-vzdump',
      'pve1: mkdir -p /var/tmp/pvelab-vzdump',
      'pve1: vzdump 100 --mode suspend --compress zstd --dumpdir /var/tmp/pvelab-vzdump',
      'pve1: rm -rf /var/tmp/pvelab-vzdump',
      ...(major === 9
        ? ['pve1: ha-manager add ct:100 --state started', 'pve1: ha-manager rules add node-affinity lab-ha --resources ct:100 --nodes pve1:2,pve2:1,pve3:1']
        : ['pve1: ha-manager groupadd lab-ha --nodes pve1:2,pve2:1,pve3:1', 'pve1: ha-manager add ct:100 --state started --group lab-ha']),
    ]);
    // Node prep fixed the repositories of every node for this release, and /etc/hosts where it was wrong (pve2).
    const fixes = world.sent.filter((s) => s.argv[0] === 'sh' && s.argv[2]?.startsWith('set -e'));
    expect(fixes.map((s) => `${s.node} ${s.argv.slice(4).join(' ')}`)).toEqual([`pve1 ${major} ${suite}`, `pve2 pve2 pve2.pvelab.internal 10.77.0.12`, `pve2 ${major} ${suite}`, `pve3 ${major} ${suite}`]);
    // The guest's keys and page, and the template cached on the host for offline classes.
    expect(world.uploads).toEqual([{ node: 'pve1', local: `${names.stateDir}/ssh/id_ed25519.pub`, remote: '/root/.pvelab/guest-authorized-keys', mode: 0o600 }]);
    expect(world.guest?.page).toBe(indexPage(names));
    expect(world.downloads).toEqual([{ node: 'pve1', remote: '/var/tmp/pvelab-vzdump/vzdump-lxc-100-2026_01_01-00_00_00.tar.zst', local: join(templateCacheDir(names), 'pvelab-apache_debian-12-standard_12.7-1_amd64.tar.zst') }]);

    // Run again: every step is already done and nothing that changes a node is sent.
    const before = world.sent.length;
    const second = await up(world, lab, names);
    expect(second.outcomes.map((o) => o.result)).toEqual(second.outcomes.map(() => 'already done'));
    expect(world.sent.slice(before).filter((s) => MUTATING.test(s.argv.join(' ')))).toEqual([]);
    expect(second.outcomes.find((o) => o.id === 'pve.ha-serving')?.detail).toBe('HA started on pve1; http://10.77.0.100/ serves the web page');
  });
});

describe('secrets', () => {
  it('the root password reaches pvecm add on stdin only: never in argv, logs or progress', async () => {
    const { lab, names } = testLab();
    const world = new PveWorld(names, 9);
    const { ctx } = await up(world, lab, names);
    const pw = world.rootPassword;
    expect(pw.length).toBeGreaterThan(8);
    const withInput = world.sent.filter((s) => s.input?.includes(pw));
    expect(withInput.map((s) => `${s.node}: ${s.argv.slice(0, 2).join(' ')}`)).toEqual(['pve2: pvecm add', 'pve3: pvecm add']);
    expect(withInput.every((s) => s.input === `${pw}\n`)).toBe(true);
    expect(world.sent.some((s) => s.argv.some((a) => a.includes(pw)))).toBe(false);
    expect([...ctx.log.lines, ...ctx.progressLines].some((l) => l.includes(pw))).toBe(false);
  });
});

describe('ZFS guest', () => {
  it('puts the rootfs on the ZFS storage and adds replication jobs to every other node, once', async () => {
    const { lab, names } = testLab({ guest: { storage: 'zfs' } });
    const world = new PveWorld(names, 9);
    const { outcomes } = await up(world, lab, names);
    expect(results(outcomes)['pve.replication']).toBe('applied');
    expect(world.lines((s) => s.argv[0] === 'pvesr')).toEqual(["pve1: pvesr create-local-job 100-0 pve2 --schedule */1", "pve1: pvesr create-local-job 100-1 pve3 --schedule */1"]);
    expect(world.guest?.config['rootfs']).toBe('lab-zfs:vm-100-disk-0,size=4G');
    const again = await up(world, lab, names);
    expect(results(again.outcomes)['pve.replication']).toBe('already done');
    expect(world.lines((s) => s.argv[0] === 'pvesr')).toHaveLength(2);
  });
});

describe('refusals', () => {
  it('a node that belongs to another cluster is a drift, not a join', async () => {
    const { lab, names } = testLab();
    const world = new PveWorld(names, 9);
    await up(world, lab, names);
    world.node3Cluster('school');
    const err = (await up(world, lab, names).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toBe('Joining pve3 to the cluster: pve3 already belongs to another cluster "school" (this lab\'s is "lab")');
    expect(err.hint).toMatch(/reinstalling/);
  });

  it('joining a node the cluster already lists (reinstalled) names `pvecm delnode`', async () => {
    const { lab, names } = testLab();
    const world = new PveWorld(names, 9);
    await up(world, lab, names);
    world.nodes[2]!.cluster = undefined; // pve3 forgot, the cluster did not
    const sentBefore = world.sent.length;
    const err = (await up(world, lab, names, [clusterJoinStep(names.nodes[2]!, names.nodes[1]!)]).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toBe('Joining pve3 to the cluster: cluster lab already lists pve3, but pve3 itself is in no cluster (was it reinstalled?)');
    expect(err.hint).toBe('remove the stale member with `pvecm delnode pve3` on pve1, then run `pvelab up` again');
    expect(world.sent.slice(sentBefore).some((s) => s.argv[1] === 'add')).toBe(false);
  });

  it('a join waits for the previous node: pve3 is not joined before pve2', async () => {
    const { lab, names } = testLab();
    const world = new PveWorld(names, 9);
    const steps = pveSteps(lab, names);
    await up(world, lab, names, steps.slice(0, 4)); // node prep ×3 + cluster create
    const err = (await up(world, lab, names, [clusterJoinStep(names.nodes[2]!, names.nodes[1]!)]).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('cannot join pve3 yet: pve2 is not an online member of the cluster (lab quorate, 0/1 online (missing: pve2))');
    expect(world.lines((s) => s.argv[0] === 'pvecm' && s.argv[1] === 'add')).toEqual([]);
  });
});

describe('offline lab', () => {
  it('without a cached Apache template it stops at the template step and says how to fill the cache', async () => {
    const { lab, names } = testLab({ guest: { offline: true } });
    const world = new PveWorld(names, 9);
    for (const nd of world.nodes) nd.iscsi = true;
    const err = (await up(world, lab, names).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toBe(`the lab is offline and the host has no Apache template in ${templateCacheDir(names)}`);
    expect(err.hint).toMatch(/guest\.offline: false/);
    expect(world.lines((s) => /^(apt-get|env|pveam)/.test(s.argv[0] ?? ''))).toEqual([]); // nothing from the internet
  });

  it('with the cache, uploads the Apache template and only writes the page', async () => {
    const { lab, names } = testLab({ guest: { offline: true } });
    const world = new PveWorld(names, 8, { apacheInTemplate: true });
    for (const nd of world.nodes) nd.iscsi = true;
    const file = 'pvelab-apache_debian-12-standard_12.7-1_amd64.tar.zst';
    mkdirSync(templateCacheDir(names), { recursive: true });
    writeFileSync(join(templateCacheDir(names), file), 'x');
    world.uploadHook = (remote) => world.templates.push(remote.split('/').pop()!);
    const { outcomes } = await up(world, lab, names);
    expect(results(outcomes)['pve.guest-cache']).toBe('already done');
    expect(world.uploads.find((u) => u.remote.endsWith('.tar.zst'))).toEqual({ node: 'pve1', local: join(templateCacheDir(names), file), remote: `/var/lib/vz/template/cache/${file}`, mode: undefined });
    expect(world.lines((s) => /apt-get|pveam|repos/.test(s.argv.join(' ')) && s.argv[0] !== 'sh')).toEqual([]);
    expect(world.lines((s) => s.argv[0] === 'pct' && s.argv[1] === 'create')[0]).toContain(`local:vztmpl/${file}`);
  });
});
