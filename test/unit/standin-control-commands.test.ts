// Stand-in commands: the mistakes a client can make get Proxmox's messages and exit codes
// (pve-storage, pve-container, pve-ha-manager, pve-manager sources), and the read commands answer
// in their formats.
import { describe, expect, it } from 'vitest';
import { type Kit, TPL, formCluster, kit } from '../standin/control/testkit.js';


async function lab(release = '9.2'): Promise<Kit> {
  const k = await kit({ release });
  await formCluster(k);
  await k.ok('pve1', 'pveam update');
  await k.ok('pve1', `pveam download local ${TPL}`);
  return k;
}

describe('stand-in storage commands', () => {
  it('iscsi + shared lvm on its LUN; adding twice, bad base and a foreign VG are refused', async () => {
    const k = await lab();
    const scan = await k.ok('pve2', 'pvesm scan iscsi 10.99.0.1');
    expect(scan.stdout).toBe('iqn.2026-01.lab.test:shared 10.99.0.1:3260\n');
    const w = await k.ok('pve1', 'pvesm add iscsi san0 --portal 10.99.0.1 --target iqn.2026-01.lab.test:shared --content images,rootdir');
    expect(w.stderr).toBe("storage does not support content type 'rootdir'\n");
    const dup = await k.run('pve2', 'pvesm add iscsi san0 --portal 10.99.0.1 --target iqn.2026-01.lab.test:shared');
    expect(dup).toMatchObject({ exitCode: 255, stderr: "create storage failed: storage ID 'san0' already defined\n" });
    const list = (await k.ok('pve3', 'pvesm list san0')).stdout.split('\n');
    expect(list[0]).toMatch(/^Volid +Format +Type +Size VMID$/);
    const lun = list[1]!.split(/\s+/)[0]!;
    expect(lun).toBe('san0:0.0.1.scsi-360000000000000000e00000000010001');
    expect((await k.run('pve1', `pvesm add lvm v1 --vgname vg1 --base nosuch:${lun.split(':')[1]}`)).stderr).toBe("create storage failed: base storage ID 'nosuch' does not exist\n");
    await k.ok('pve1', `pvesm add lvm vg-san --vgname vg_san --base ${lun} --shared 1 --content images,rootdir`);
    const again = await k.run('pve2', `pvesm add lvm other --vgname vg_other --base ${lun} --shared 1`);
    expect(again.stderr).toBe(`create storage failed: device '/dev/disk/by-id/${lun.split('.').at(-1)}' is already used by volume group 'vg_san'\n`);
    const st = await k.json('pve3', 'pvesh get /nodes/pve3/storage');
    const san = st.find((s: any) => s.storage === 'vg-san');
    expect(san).toMatchObject({ type: 'lvm', shared: 1, active: 1, enabled: 1, content: 'images,rootdir' });
    expect(san.total).toBeGreaterThan(7 * 2 ** 30);
    const cfg = k.m.view('pve1').db.storage.get('vg-san')!;
    expect(cfg.opts).toEqual({ vgname: 'vg_san', base: lun, shared: '1', content: 'images,rootdir' });
    // GET /storage: SectionConfig::check_value returns boolean/integer options as numbers ($value + 0)
    const defs = await k.json('pve2', 'pvesh get /storage');
    expect(defs.find((s: any) => s.storage === 'vg-san')).toEqual({ storage: 'vg-san', type: 'lvm', digest: expect.any(String), vgname: 'vg_san', base: lun, shared: 1, content: 'images,rootdir' });
    const status = (await k.ok('pve1', 'pvesm status')).stdout.split('\n');
    expect(status[0]).toMatch(/^Name +Type +Status +Total \(KiB\) +Used \(KiB\) +Available \(KiB\) +%$/);
    expect(status.find((l) => l.startsWith('vg-san'))).toMatch(/^vg-san +lvm +active +\d+ +\d+ +\d+ +\d+\.\d\d%$/);
  });

  it('zfspool needs the pool on the node that adds it (unless --nodes excludes it)', async () => {
    const k = await lab('8.4');
    const r = await k.run('pve1', 'pvesm add zfspool tank --pool tank --content images,rootdir');
    expect(r).toMatchObject({ exitCode: 255, stderr: "create storage failed: could not activate storage 'tank', zfs error: cannot import 'tank': no such pool available\n" });
    for (const n of ['pve2', 'pve3']) await k.ok(n, 'zpool create -f -o ashift=12 tank /dev/vdb');
    await k.ok('pve1', 'pvesm add zfspool tank --pool tank --content images,rootdir --nodes pve2,pve3 --sparse 1');
    expect((await k.ok('pve1', 'pvesm status')).stdout.split('\n')[0]).toMatch(/^Name +Type +Status +Total +Used +Available +%$/);
    expect((await k.ok('pve2', 'zpool list -H -o name,health')).stdout).toBe('tank\tONLINE\n');
    expect((await k.run('pve2', 'zpool create tank /dev/vdb')).stderr).toBe("cannot create 'tank': pool already exists\n");
    expect((await k.run('pve1', 'zpool create t2 /dev/vdz')).stderr).toBe("cannot open '/dev/vdz': no such device in /dev\nmust be a full path or shorthand device name\n");
    expect((await k.ok('pve2', 'zpool status tank')).stdout).toContain('  pool: tank\n state: ONLINE\n');
  });
});

describe('stand-in containers and HA commands', () => {
  it('pct create: template, storage content and taken IDs', async () => {
    const k = await lab();
    const bad = await k.run('pve1', 'pct create 100 local:vztmpl/nosuch.tar.zst --rootfs local-lvm:4');
    expect(bad).toMatchObject({ exitCode: 255, stderr: "unable to create CT 100 - can't find file 'local:vztmpl/nosuch.tar.zst'\n" });
    const dir = await k.run('pve1', `pct create 100 local:vztmpl/${TPL} --rootfs local:4`);
    expect(dir.exitCode).toBe(255);
    expect(dir.stderr).toMatch(/^400 Parameter verification failed\.\nstorage: storage 'local' does not support container directories\n/);
    await k.ok('pve1', `pct create 100 local:vztmpl/${TPL} --rootfs local-lvm:4 --hostname web1 --net0 name=eth0,bridge=vmbr0,ip=10.99.0.50/24,gw=10.99.0.1`);
    const cfg = (await k.ok('pve1', 'pct config 100')).stdout;
    expect(cfg).toMatch(/^net0: name=eth0,bridge=vmbr0,gw=10\.99\.0\.1,hwaddr=BC:24:11(:[0-9A-F]{2}){3},ip=10\.99\.0\.50\/24,type=veth$/m);
    expect(cfg).toContain('rootfs: local-lvm:vm-100-disk-0,size=4G\n');
    const dup = await k.run('pve2', `pct create 100 local:vztmpl/${TPL} --rootfs local-lvm:4`);
    expect(dup).toMatchObject({ exitCode: 255, stderr: "CT 100 already exists on node 'pve1'\n" });
    expect((await k.run('pve2', 'pct start 100')).stderr).toBe("Configuration file 'nodes/pve2/lxc/100.conf' does not exist\n");
    await k.ok('pve1', 'pct start 100');
    expect((await k.ok('pve1', 'pct status 100')).stdout).toBe('status: running\n');
    expect((await k.run('pve1', 'pct start 100')).stderr).toBe('CT 100 already running\n');
    expect((await k.ok('pve1', 'pct list')).stdout).toMatch(/^VMID +Status +Lock +Name +\n100 +running +web1 +\n$/);
    const vmid = await k.run('pve1', `pct create 99 local:vztmpl/${TPL}`);
    expect(vmid.stderr).toMatch(/^400 Parameter verification failed\.\nvmid: value must have a minimum value of 100\n/);
  });

  it('HA: groups refused on PVE 9, rules unknown on PVE 8, duplicates and missing guests refused', async () => {
    const k9 = await lab('9.2');
    expect(await k9.run('pve1', 'ha-manager groupadd g1 --nodes pve1:2,pve2:1')).toMatchObject({ exitCode: 255, stderr: 'cannot create group: ha groups have been migrated to rules\n' });
    expect((await k9.run('pve1', 'ha-manager add ct:999')).stderr).toBe("resource 'ct:999' does not exist in cluster\n");
    await k9.ok('pve1', `pct create 100 local:vztmpl/${TPL} --rootfs local-lvm:4`);
    expect((await k9.run('pve1', 'ha-manager add ct:100 --group g1')).stderr).toBe("invalid parameter 'group': ha groups have been migrated to rules\n");
    await k9.ok('pve1', 'ha-manager add ct:100 --state started --max_restart 1 --max_relocate 1');
    expect((await k9.run('pve2', 'ha-manager add 100')).stderr).toBe("create resource failed: resource ID 'ct:100' already defined\n");
    await k9.ok('pve1', 'ha-manager rules add node-affinity r1 --resources ct:100 --nodes pve1:2,pve2:1 --strict 1');
    expect((await k9.run('pve1', 'ha-manager rules add node-affinity r2 --resources ct:101 --nodes pve1')).stderr).toBe('create ha rule failed: cannot use unmanaged resource(s) ct:101.\n');
    expect((await k9.run('pve1', 'ha-manager rules add node-affinity r3 --resources ct:100 --nodes pve9')).stderr).toBe('create ha rule failed: cannot use non-existent node(s) pve9.\n');
    expect((await k9.ok('pve1', 'ha-manager config')).stdout).toBe('ct:100\n\tmax_relocate 1\n\tmax_restart 1\n\tstate started\n\n');
    // the API lists them with SectionConfig's types: integers and booleans as JSON numbers
    expect((await k9.json('pve2', 'pvesh get /cluster/ha/resources')).find((r: any) => r.sid === 'ct:100')).toMatchObject({ max_restart: 1, max_relocate: 1, state: 'started' });
    expect((await k9.json('pve2', 'pvesh get /cluster/ha/rules')).find((r: any) => r.rule === 'r1')).toMatchObject({ strict: 1, resources: 'ct:100' });
    const k8 = await lab('8.4');
    const rules = await k8.run('pve1', 'ha-manager rules add node-affinity r1 --resources ct:100 --nodes pve1');
    expect(rules.exitCode).toBe(255);
    expect(rules.stderr).toMatch(/^ERROR: unknown command 'ha-manager rules'\nUSAGE: ha-manager <COMMAND> \[ARGS\] \[OPTIONS\]\n/);
    await k8.ok('pve1', 'ha-manager groupadd g1 --nodes pve1:2,pve2:1 --restricted 1');
    expect((await k8.json('pve3', 'pvesh get /cluster/ha/groups')).find((g: any) => g.group === 'g1')).toMatchObject({ type: 'group', restricted: 1 });
    await k8.ok('pve1', `pct create 100 local:vztmpl/${TPL} --rootfs local-lvm:4`);
    await k8.ok('pve1', 'ha-manager add ct:100 --group g1');
    expect(k8.m.view('pve1').db.haResources.get('ct:100')!.opts).toEqual({ group: 'g1' });
  });

  it('HA-managed CTs are started through the HA stack; no quorum refuses HA changes', async () => {
    const k = await lab();
    await k.ok('pve1', `pct create 100 local:vztmpl/${TPL} --rootfs local-lvm:4`);
    await k.ok('pve1', 'ha-manager add ct:100 --state stopped');
    const r = await k.ok('pve1', 'pct start 100');
    expect(r.stdout).toBe('Requesting HA start for CT 100\n');
    await k.clock.until(() => k.m.guests.isRunning('pve1', 100), 60);
    const st = await k.json('pve3', 'pvesh get /cluster/ha/status/current');
    await k.clock.advance(20);
    const svc = (await k.json('pve3', 'pvesh get /cluster/ha/status/current')).find((e: any) => e.id === 'service:ct:100');
    expect(st.map((e: any) => e.id)).toEqual(['quorum', 'master', 'fencing', 'lrm:pve1', 'lrm:pve2', 'lrm:pve3', 'service:ct:100']);
    expect(svc).toMatchObject({ sid: 'ct:100', node: 'pve1', crm_state: 'started', state: 'started', request_state: 'started', status: 'ct:100 (pve1, started)' });
    k.m.setLink('pve3', false);
    await k.clock.advance(10);
    expect((await k.run('pve3', 'ha-manager set ct:100 --state stopped')).stderr).toBe('cluster not ready - no quorum?\n');
  });

  it('replication jobs need zfspool volumes', async () => {
    const k = await lab();
    for (const n of ['pve1', 'pve2']) await k.ok(n, 'zpool create tank /dev/vdb');
    await k.ok('pve1', 'pvesm add zfspool tank --pool tank --content images,rootdir --nodes pve1,pve2');
    await k.ok('pve1', `pct create 100 local:vztmpl/${TPL} --rootfs tank:4`);
    await k.ok('pve1', `pct create 101 local:vztmpl/${TPL} --rootfs local-lvm:4`);
    expect((await k.run('pve1', 'pvesr create-local-job 101-0 pve2')).stderr).toBe("missing replicate feature on volume 'local-lvm:vm-101-disk-0'\n");
    expect((await k.run('pve1', 'pvesr create-local-job 100-0 pve1')).stderr).toBe('Source and target must not be identical\n');
    await k.ok('pve1', 'pvesr create-local-job 100-0 pve2 --schedule */1');
    expect((await k.run('pve1', 'pvesr create-local-job 100-0 pve2')).stderr).toBe("replication job '100-0' already exists\n");
    const st = (await k.ok('pve1', 'pvesr status')).stdout.split('\n');
    expect(st[0]).toMatch(/^JobID +Enabled +Target +LastSync +NextSync +Duration +FailCount State$/);
    expect(st[1]).toMatch(/^100-0 +Yes +local\/pve2 +\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d +\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d +[\d.]+ +0 OK$/);
  });
});

describe('stand-in node commands', () => {
  it('pveversion, pvesh /version, systemctl, journalctl argument errors, unknown API paths', async () => {
    const k = await kit({ release: '8.4', nodes: 1 });
    expect((await k.ok('pve1', 'pveversion')).stdout).toMatch(/^pve-manager\/8\.4\.\d+\/[0-9a-f]{16} \(running kernel: 6\.8\.\d+-\d+-pve\)\n$/);
    const v = (await k.ok('pve1', 'pveversion -v')).stdout.split('\n');
    expect(v[0]).toMatch(/^proxmox-ve: 8\.4\.\d+ \(running kernel: /);
    expect(v).toContain('pve-ha-manager: 4.0.7');
    expect(await k.json('pve1', 'pvesh get /version')).toEqual({ release: '8.4', repoid: expect.stringMatching(/^[0-9a-f]{16}$/), version: expect.stringMatching(/^8\.4\.\d+$/) });
    expect(await k.run('pve1', 'systemctl is-active pve-ha-crm pve-ha-lrm')).toMatchObject({ exitCode: 0, stdout: 'active\nactive\n' });
    expect(await k.run('pve1', 'systemctl is-active corosync')).toMatchObject({ exitCode: 3, stdout: 'inactive\n' });
    expect(await k.run('pve1', ['journalctl', '-u', 'pve-ha-crm', '--since', 'garbage'])).toMatchObject({ exitCode: 1, stderr: 'Failed to parse timestamp: garbage\n' });
    expect((await k.ok('pve1', ['journalctl', '-u', 'nosuch'])).stdout).toBe('-- No entries --\n');
    expect((await k.ok('pve1', ['journalctl', '-u', 'pve-ha-crm', '-o', 'short-iso'])).stdout).toMatch(/^2026-01-01T00:00:10\+0000 pve1 systemd\[1\]: Starting pve-ha-crm.service/);
    expect(await k.run('pve1', 'pvesh get /nosuch')).toMatchObject({ exitCode: 255, stderr: "no 'get' handler for '/nosuch'\n" });
    expect(await k.run('pve1', 'pvesh get /nodes/pve7/storage')).toMatchObject({ exitCode: 255 });
  });
});
