// Stand-in model, HA behaviour over virtual time (proxmox.md F.3/F.4): quorum loss and regain,
// fence -> acknowledged -> recovery -> started elsewhere, watchdog reset of the isolated node,
// master loss (longer path), two nodes lost (no quorum, no recovery).
import { describe, expect, it } from 'vitest';
import { type Kit, PASSWORD, TPL, formCluster, kit, managerStatus, sharedLvm, standardTemplate } from '../standin/control/testkit.js';

/** cluster + shared LVM on the SAN LUN + CT 100 on it under HA (started), settled on pve1 */
async function haLab(k: Kit): Promise<void> {
  await formCluster(k);
  await sharedLvm(k);
  await standardTemplate(k);
  await k.ok('pve1', `pct create 100 local:vztmpl/${TPL} --hostname web1 --rootfs vg-san:4 --net0 name=eth0,bridge=vmbr0,ip=10.99.0.50/24,gw=10.99.0.1 --password x1234567`);
  await k.ok('pve1', 'ha-manager add ct:100 --state started --max_restart 1 --max_relocate 1');
  await k.clock.until(() => k.m.guests.isRunning('pve1', 100), 120);
  await k.clock.until(() => managerStatus(k, 'pve1').service_status?.['ct:100']?.running === 1, 60);
}

/** make sure CT 100 runs on a node that is not the CRM master; returns that node */
async function ownerNotMaster(k: Kit): Promise<string> {
  const master = managerStatus(k, 'pve1').master_node as string;
  const owner = managerStatus(k, 'pve1').service_status['ct:100'].node as string;
  if (owner !== master) return owner;
  const target = ['pve1', 'pve2', 'pve3'].find((n) => n !== master)!;
  await k.ok(master, `ha-manager relocate ct:100 ${target}`);
  await k.clock.until(() => k.m.guests.isRunning(target, 100) && managerStatus(k, master).service_status['ct:100'].running === 1, 200);
  return target;
}

function crmLog(k: Kit, node: string): string[] {
  return k.m.journal.query(node, { units: ['pve-ha-crm'] }).map((e) => e.msg);
}

describe('stand-in HA model', () => {
  it('loses quorum on the isolated node, keeps it on the other two, regains it', async () => {
    const k = await kit();
    await formCluster(k);
    k.m.setLink('pve3', false);
    await k.clock.advance(k.m.t.membership + 0.5);
    expect(k.m.world.quorate('pve3')).toBe(false);
    expect(k.m.world.quorate('pve1')).toBe(true);
    const s3 = await k.run('pve3', 'pvecm status');
    expect(s3.exitCode).toBe(2);
    expect(s3.stdout).toContain('Quorate:          No\n');
    expect(s3.stdout).toContain('Quorum:           2 Activity blocked\nFlags:            \n');
    const add = await k.run('pve3', 'pvesm add dir d1 --path /srv/d1');
    expect(add.exitCode).toBe(255);
    expect(add.stderr).toContain("trying to acquire cfs lock 'file-storage_cfg' ...\n");
    expect(add.stderr).toMatch(/create storage failed: cfs-lock 'file-storage_cfg' error: no quorum!\n$/);
    const ha = await k.json('pve3', 'pvesh get /cluster/ha/status/current');
    expect(ha[0]).toEqual({ id: 'quorum', type: 'quorum', node: 'pve3', status: "No quorum on node 'pve3'!", quorate: 0 });
    k.m.setLink('pve3', true);
    await k.clock.advance(k.m.t.membership + 0.5);
    expect(k.m.world.quorate('pve3')).toBe(true);
    expect((await k.ok('pve3', 'pvecm status')).stdout).toContain('Quorate:          Yes\n');
  });

  it('fences a cut node, recovers its CT elsewhere, and the node resets and rejoins', async () => {
    const k = await kit();
    await haLab(k);
    const owner = await ownerNotMaster(k);
    const master = managerStatus(k, owner).master_node as string;
    // recovery target: fewest HA services, then name (basic CRS): the lowest-named other node
    const other = ['pve1', 'pve2', 'pve3'].find((n) => n !== owner)!;
    const cut = k.clock.now();
    k.m.setLink(owner, false);
    await k.clock.until(() => managerStatus(k, master).service_status['ct:100'].node !== owner, 400);
    const log = crmLog(k, master);
    const idx = (re: RegExp) => log.findIndex((l) => re.test(l));
    const seq = [
      new RegExp(`node '${owner}': state changed from 'online' => 'unknown'`),
      /service 'ct:100': state changed from 'started' to 'fence'/,
      new RegExp(`node '${owner}': state changed from 'unknown' => 'fence'`),
      new RegExp(`fencing: acknowledged - got agent lock for node '${owner}'`),
      /service 'ct:100': state changed from 'fence' to 'recovery'/,
      new RegExp(`recover service 'ct:100' from fenced node '${owner}' to node '${other}'`),
      new RegExp(`service 'ct:100': state changed from 'recovery' to 'started' {2}\\(node = ${other}\\)`),
    ].map(idx);
    expect(seq.every((i) => i >= 0)).toBe(true);
    expect([...seq].sort((a, b) => a - b)).toEqual(seq);
    const t = (re: RegExp) => k.m.journal.query(master, { units: ['pve-ha-crm'] }).find((e) => re.test(e.msg))!.t - cut;
    expect(t(/'unknown' => 'fence'/)).toBeGreaterThanOrEqual(k.m.t.fenceDelay);
    expect(t(/fencing: acknowledged/)).toBeGreaterThanOrEqual(k.m.t.lockLifetime);
    const target = managerStatus(k, master).service_status['ct:100'].node;
    expect(target).toBe(other);
    await k.clock.until(() => k.m.guests.isRunning(target, 100), 30);
    expect(k.m.notifications.some((n) => n.node === owner && n.msg === `watchdog: node '${owner}' reset`)).toBe(true);
    expect(k.m.guests.isRunning(owner, 100)).toBe(false);
    const lrm1 = k.m.journal.query(owner, { units: ['pve-ha-lrm'] }).map((e) => e.msg);
    expect(lrm1).toContain('status change active => lost_agent_lock');
    expect(k.m.journal.query(owner, { units: ['watchdog-mux'] }).some((e) => /watchdog expired - disable watchdog updates/.test(e.msg))).toBe(true);
    k.m.setLink(owner, true);
    await k.clock.until(() => k.m.world.quorate(owner), 60);
    await k.clock.until(() => managerStatus(k, master).node_status[owner] === 'online', 60);
    const iso = await k.ok(master, 'journalctl -u pve-ha-crm -o short-iso');
    expect(iso.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 pve\d pve-ha-crm\[\d+\]: /m);
    const short = await k.ok(master, 'journalctl -u pve-ha-crm');
    expect(short.stdout).toMatch(/^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d pve\d pve-ha-crm\[\d+\]: service 'ct:100': state changed from 'started' to 'fence'$/m);
    expect((await k.ok(owner, 'journalctl -u pve-ha-lrm')).stdout).toMatch(/^-- Boot [0-9a-f]{32} --$/m);
  });

  it('restoring the link before the watchdog fires keeps the CT where it is (no fence)', async () => {
    const k = await kit();
    await haLab(k);
    k.m.setLink('pve1', false);
    await k.clock.advance(30);
    k.m.setLink('pve1', true);
    await k.clock.advance(300);
    expect(managerStatus(k, 'pve2').service_status['ct:100']).toMatchObject({ node: 'pve1', state: 'started' });
    expect(k.m.guests.isRunning('pve1', 100)).toBe(true);
    expect(k.m.notifications.filter((n) => /reset/.test(n.msg))).toEqual([]);
  });

  it('losing the CRM master takes the longer path: new master, then fence delay from its view', async () => {
    const k = await kit();
    await haLab(k);
    const master = managerStatus(k, 'pve1').master_node;
    const owner = 'pve1';
    if (master !== owner) await k.ok(owner, `ha-manager migrate ct:100 ${master}`);
    await k.clock.until(() => managerStatus(k, 'pve2').service_status['ct:100']?.node === master && k.m.guests.isRunning(master, 100), 200);
    const cut = k.clock.now();
    k.m.setLink(master, false);
    const others = [...k.m.world.nodes.keys()].filter((n) => n !== master);
    await k.clock.until(() => others.some((n) => k.m.crmState(n) === 'master'), 300);
    const newMaster = others.find((n) => k.m.crmState(n) === 'master')!;
    const tMaster = k.clock.now() - cut;
    expect(tMaster).toBeGreaterThanOrEqual(k.m.t.lockLifetime);
    await k.clock.until(() => managerStatus(k, newMaster).service_status['ct:100']?.node !== master, 200);
    const fenceAt = k.m.journal.query(newMaster, { units: ['pve-ha-crm'] }).find((e) => /'started' to 'fence'/.test(e.msg))!.t - cut;
    expect(fenceAt).toBeGreaterThanOrEqual(tMaster + k.m.t.fenceDelay - k.m.t.loop);
    expect(crmLog(k, master)).toContain('status change master => lost_manager_lock');
  });

  it('two nodes lost: no quorum anywhere, no recovery, services stay on their node', async () => {
    const k = await kit();
    await haLab(k);
    k.m.setLink('pve1', false);
    k.m.powerOff('pve2');
    await k.clock.advance(400);
    for (const n of ['pve1', 'pve3']) expect(k.m.world.quorate(n)).toBe(false);
    expect(k.m.view('pve3').db.managerStatus.service_status).toMatchObject({ 'ct:100': { node: 'pve1' } });
    expect(crmLog(k, 'pve3').filter((l) => /recover service/.test(l))).toEqual([]);
    expect(k.m.guests.isRunning('pve3', 100)).toBe(false);
    const st = await k.ok('pve3', 'ha-manager status');
    expect(st.stdout.split('\n')[0]).toBe("quorum No quorum on node 'pve3'!");
    void PASSWORD;
  });
});

describe('stand-in HA with node-local storage', () => {
  it('a CT on local-lvm is fenced and "recovered", but cannot start elsewhere and ends in error', async () => {
    const k = await kit();
    await formCluster(k);
    await standardTemplate(k, 'pve2');
    await k.ok('pve2', `pct create 100 local:vztmpl/${TPL} --rootfs local-lvm:4`);
    await k.ok('pve2', 'ha-manager add ct:100');
    await k.clock.until(() => k.m.guests.isRunning('pve2', 100), 120);
    k.m.setLink('pve2', false);
    await k.clock.until(() => managerStatus(k, 'pve1').service_status['ct:100']?.state === 'error', 900);
    const master = managerStatus(k, 'pve1').master_node as string;
    const lrm = [...k.m.world.nodes.keys()].flatMap((n) => k.m.journal.query(n, { units: ['pve-ha-lrm'] }).map((e) => `${n}: ${e.msg}`));
    expect(lrm.some((l) => /unable to start service ct:100 on local node after 1 retries/.test(l))).toBe(true);
    expect(lrm.some((l) => /<root@pam> end task UPID:pve\d:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzstart:100:root@pam: startup for container '100' failed: no such logical volume pve\/vm-100-disk-0$/.test(l))).toBe(true);
    expect(lrm.some((l) => /restart policy: retry number 1 for service 'ct:100'/.test(l))).toBe(true);
    const crm = k.m.journal.query(master, { units: ['pve-ha-crm'] }).map((e) => e.msg);
    expect(crm.some((l) => /starting service ct:100 on node 'pve\d' failed, relocating service\./.test(l))).toBe(true);
    expect(crm.some((l) => /recovery policy for service ct:100 failed, entering error state\. Failed nodes: pve\d, pve\d/.test(l))).toBe(true);
    expect(['pve1', 'pve3'].some((n) => k.m.guests.isRunning(n, 100))).toBe(false);
  });
});
