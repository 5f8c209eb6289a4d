// Node disk API on the stand-in (pve-storage API2/Disks.pm list, API2/Disks/ZFS.pm index/create):
// the data disk is listed unused until a pool is created on it through the API, the create task
// prints the commands it runs, and the API refuses what pve-storage refuses.
import { describe, expect, it } from 'vitest';
import { formCluster, kit } from '../standin/control/testkit.js';

const GiB = 2 ** 30;

describe('stand-in /nodes/<node>/disks', () => {
  it('list -> zfs create -> pool ONLINE, disk used by ZFS', async () => {
    const k = await kit({ release: '9.2' });
    await formCluster(k);
    const before = await k.json('pve2', 'pvesh get /nodes/pve2/disks/list --skipsmart 1');
    expect(before).toEqual([expect.objectContaining({ devpath: '/dev/vdb', size: 16 * GiB, gpt: 0, health: 'UNKNOWN' })]);
    expect(before[0].used).toBeUndefined();
    expect(await k.json('pve2', 'pvesh get /nodes/pve2/disks/zfs')).toEqual([]);
    const c = await k.ok('pve1', 'pvesh create /nodes/pve2/disks/zfs --name tank --raidlevel single --devices /dev/vdb --ashift 12 --compression on --add_storage 0');
    expect(c.stdout).toContain('# /sbin/zpool create -o ashift=12 tank /dev/vdb\n# /sbin/zfs set compression=on tank\n');
    const pools = await k.json('pve2', 'pvesh get /nodes/pve2/disks/zfs');
    expect(pools).toEqual([expect.objectContaining({ name: 'tank', health: 'ONLINE' })]);
    expect(pools[0].size).toBeGreaterThan(15 * GiB);
    expect(await k.json('pve2', 'pvesh get /nodes/pve2/disks/list')).toEqual([expect.objectContaining({ devpath: '/dev/vdb', used: 'ZFS', gpt: 1 })]);
    expect(await k.json('pve2', 'pvesh get /nodes/pve2/disks/list --type unused')).toEqual([]);
    expect((await k.ok('pve2', 'zpool list -H -o name,health')).stdout).toBe('tank\tONLINE\n');
    expect(await k.json('pve3', 'pvesh get /nodes/pve3/disks/zfs')).toEqual([]);
    expect(k.m.view('pve1').db.storage.has('tank')).toBe(false);
  });

  it('refuses used disks, unknown devices, existing pools and wrong disk counts', async () => {
    const k = await kit({ release: '8.4' });
    await formCluster(k);
    await k.ok('pve1', 'pvesh create /nodes/pve1/disks/zfs --name tank --raidlevel single --devices /dev/vdb');
    const used = await k.run('pve1', 'pvesh create /nodes/pve1/disks/zfs --name t2 --raidlevel single --devices /dev/vdb');
    expect(used).toMatchObject({ exitCode: 255, stderr: "device '/dev/vdb' is already in use\n" });
    expect((await k.run('pve1', 'pvesh create /nodes/pve1/disks/zfs --name t2 --raidlevel single --devices /dev/vdz')).stderr).toBe('failed to get absolute path to /dev/vdz\n');
    expect((await k.run('pve2', 'pvesh create /nodes/pve2/disks/zfs --name t2 --raidlevel mirror --devices /dev/vdb')).stderr).toBe('mirror needs at least 2 disks\n');
    await k.ok('pve2', 'pvesh create /nodes/pve2/disks/zfs --name tank --raidlevel single --devices /dev/vdb --add_storage 1');
    expect(k.m.view('pve2').db.storage.get('tank')).toMatchObject({ type: 'zfspool', opts: expect.objectContaining({ pool: 'tank', nodes: 'pve2' }) });
  });
});

describe('stand-in /cluster/replication', () => {
  it('lists the jobs pvesr created, schedule only when set', async () => {
    const k = await kit({ release: '9.2' });
    await formCluster(k);
    expect(await k.json('pve1', 'pvesh get /cluster/replication')).toEqual([]);
    for (const n of ['pve1', 'pve2', 'pve3']) await k.ok(n, 'zpool create -f -o ashift=12 tank /dev/vdb');
    await k.ok('pve1', 'pvesm add zfspool tank --pool tank --content images,rootdir');
    await k.ok('pve1', 'pveam update');
    await k.ok('pve1', 'pveam download local debian-12-standard_12.7-1_amd64.tar.zst');
    await k.ok('pve1', 'pct create 100 local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst --rootfs tank:1 --hostname ct');
    await k.ok('pve1', "pvesr create-local-job 100-0 pve2 --schedule */1");
    await k.ok('pve1', 'pvesr create-local-job 100-1 pve3');
    expect(await k.json('pve3', 'pvesh get /cluster/replication')).toEqual([
      { id: '100-0', type: 'local', target: 'pve2', guest: 100, jobnum: 0, schedule: '*/1' },
      { id: '100-1', type: 'local', target: 'pve3', guest: 100, jobnum: 1 },
    ]);
  });
});
