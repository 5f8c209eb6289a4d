// Real tgtd in a private namespace, driven by the storage steps and checked from outside the product with
// libiscsi (iscsi-ls, iscsi-inq, iscsi-readcapacity16, qemu-io reading the LUN) from two initiator hosts:
// one on the lab bridge (inside the ACL) and one routed from another subnet (outside it).
import { readFileSync, statSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDown, runUp } from '../../lab/core/pipeline.js';
import { storageLossFault } from '../../lab/storage/faults.js';
import { nodeRootIqn } from '../../lab/storage/spec.js';
import { parseTgtShowTargets } from '../../lab/storage/tgt-show.js';
import { storageSteps } from '../../lab/steps/storage-steps.js';
import { targetStep } from '../../lab/steps/storage-target.js';
import { iscsiUrl, missingPrereq, startStorageNs, type StorageNs } from './storage-env.js';

const DECOY = 'iqn.2003-01.org.example:decoy';
const missing = missingPrereq(['tgtd', 'tgtadm', 'tgt-admin', 'iscsi-ls', 'iscsi-inq', 'iscsi-readcapacity16', 'qemu-io', 'qemu-img', 'nsenter', 'unshare']);
let env: StorageNs;
let secret = '';

const tgtShow = async () => parseTgtShowTargets((await env.ns.exec(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'target'])).stdout);
const tgtdPids = async () => (await env.ns.exec(['pidof', 'tgtd'], { allowFail: true })).stdout.trim().split(/\s+/).filter(Boolean);

async function restartTgtd(): Promise<void> {
  for (const pid of await tgtdPids()) await env.ns.exec(['kill', '-KILL', pid]); // the tgtd this test's namespace started
  for (let i = 0; i < 100 && (await tgtdPids()).length; i++) await new Promise((r) => setTimeout(r, 50));
  await env.ns.exec(['tgtd']);
  for (let i = 0; i < 100; i++) {
    if ((await env.ns.exec(['tgtadm', '--op', 'show', '--mode', 'sys'], { allowFail: true })).exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('tgtd did not come back');
}

beforeAll(async () => {
  if (missing) return;
  env = await startStorageNs('storage-tgt');
  // A target that is not ours: open to everyone, with its own LUN and account. It must survive undo.
  await env.sh(`truncate -s 64M ${env.dir}/decoy.img
    tgtadm --lld iscsi --op new --mode target --tid 1 --targetname ${DECOY}
    tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 --backing-store ${env.dir}/decoy.img
    tgtadm --lld iscsi --op bind --mode target --tid 1 --initiator-address ALL
    tgtadm --lld iscsi --op new --mode account --user decoy-user --password decoy-not-a-secret`);
});
afterAll(() => env?.down());

describe.skipIf(!!missing)(`tgt target through the storage steps (layout iscsi, CHAP on)${missing ? ` (skipped: ${missing} missing)` : ''}`, () => {
  const lab = () => env.lab({ storage: { layout: 'iscsi', chap: true } });
  const ctx = () => env.ctx(lab());

  it('builds LUN files, targets and the configuration file; a second run changes nothing', async () => {
    const first = await runUp(storageSteps(lab()), () => ctx());
    expect(first.map((o) => [o.id, o.result])).toEqual([
      ['storage.preflight', 'already done'],
      ['storage.lun-files', 'applied'],
      ['storage.target', 'applied'],
      ['storage.zfs-images', 'applied'],
    ]);
    const second = await runUp(storageSteps(lab()), () => ctx());
    expect(second.every((o) => o.result === 'already done')).toBe(true);
    secret = (await ctx().state.secrets()).chapPassword!;
    expect(secret).toHaveLength(16);
    for (const argv of env.host.argvs) expect(argv.join(' ')).not.toContain(secret);
  });

  it('allocates the lowest free tid next to the decoy, with the lab ACL only (never ALL)', async () => {
    const live = await tgtShow();
    const n = ctx().names;
    const ours = live.filter((t) => t.iqn.startsWith(n.iscsi.iqn));
    expect(ours.map((t) => [t.tid, t.iqn])).toEqual([
      [2, n.iscsi.iqn], [3, nodeRootIqn(n, 'pve1')], [4, nodeRootIqn(n, 'pve2')], [5, nodeRootIqn(n, 'pve3')],
    ]);
    expect(ours[0]).toMatchObject({ aclAddresses: [env.cidr, env.gateway], aclNames: [], accounts: [{ user: `pvelab-${env.labName}`, outgoing: false }] });
    expect(ours[0]!.luns[1]).toMatchObject({ path: n.iscsi.lunImage, online: true, scsiId: expect.stringMatching(/^pvelab-[0-9a-f]{12}$/) });
    for (const t of ours.slice(1)) expect(t.aclAddresses).toEqual([env.gateway]);
  });

  it('serves the shared LUN to an initiator inside the ACL with CHAP (libiscsi)', async () => {
    const n = ctx().names;
    const user = `pvelab-${env.labName}`;
    const ls = await env.initiator('inhost', ['iscsi-ls', '-s', `iscsi://${user}@${env.gateway}`], secret);
    expect(ls.stdout).toContain(`Target:${n.iscsi.iqn} Portal:${env.gateway}:3260,1`);
    const cap = await env.initiator('inhost', ['iscsi-readcapacity16', iscsiUrl(env.gateway, n.iscsi.iqn, 1, user)], secret);
    expect(cap.stdout).toContain(`Total size:${8 * 2 ** 30}`);
    const inq = await env.initiator('inhost', ['iscsi-inq', iscsiUrl(env.gateway, n.iscsi.iqn, 1, user)], secret);
    expect(inq.stdout).toContain('Peripheral Device Type:DIRECT_ACCESS');
    // Bytes written to the backing file come back through iSCSI.
    await env.sh(`printf 'pvelab-lun-probe' | dd of=${n.iscsi.lunImage} bs=1 seek=1048576 conv=notrunc status=none`);
    const rd = await env.initiator('inhost', ['qemu-io', '-f', 'raw', '-c', 'read -v 1048576 16', iscsiUrl(env.gateway, n.iscsi.iqn, 1, user)], secret);
    expect(rd.stdout).toContain(`00100000:  ${[...Buffer.from('pvelab-lun-probe')].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  });

  it('refuses an initiator without CHAP, and one outside the ACL even with the secret', async () => {
    const n = ctx().names;
    const noChap = await env.initiator('inhost', ['iscsi-inq', iscsiUrl(env.gateway, n.iscsi.iqn)]);
    expect(noChap.exitCode).not.toBe(0);
    expect(noChap.stdout + noChap.stderr).toMatch(/Authentication failure/);
    const outside = await env.initiator('outhost', ['iscsi-inq', iscsiUrl(env.gateway, n.iscsi.iqn, 1, `pvelab-${env.labName}`)], secret);
    expect(outside.exitCode).not.toBe(0);
    expect(outside.stdout + outside.stderr).toMatch(/Login Failed/);
    // The decoy (ACL ALL) is reachable from there: the refusal is our ACL, not the network.
    const decoy = await env.initiator('outhost', ['iscsi-inq', iscsiUrl(env.gateway, DECOY)]);
    expect(decoy.exitCode).toBe(0);
    const ls = await env.initiator('outhost', ['iscsi-ls', `iscsi://${env.gateway}`]);
    expect(ls.stdout).not.toContain(n.iscsi.iqn);
  });

  it('keeps the configuration file 0600 with the targets, ACL and CHAP user', async () => {
    const c = ctx();
    const path = `${env.dir}/conf.d/pvelab-${env.labName}.conf`;
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(`<target ${c.names.iscsi.iqn}>`);
    expect(text).toContain(`    initiator-address ${env.cidr}\n    initiator-address ${env.gateway}\n    incominguser pvelab-${env.labName} ${secret}\n`);
  });

  it('the configuration file brings the targets back after a tgtd restart (tgt-admin -e, as tgt.service does)', async () => {
    const n = ctx().names;
    await restartTgtd();
    expect((await tgtShow()).map((t) => t.iqn)).toEqual([]);
    expect(await targetStep.check(ctx())).toEqual({ kind: 'todo', reason: expect.stringMatching(/tgtadm change/) });
    await env.ns.exec(['tgt-admin', '-e', '-c', `${env.dir}/conf.d/pvelab-${env.labName}.conf`]);
    const back = await tgtShow();
    expect(back.map((t) => t.iqn)).toEqual([n.iscsi.iqn, nodeRootIqn(n, 'pve1'), nodeRootIqn(n, 'pve2'), nodeRootIqn(n, 'pve3')]);
    expect(back[0]).toMatchObject({ aclAddresses: [env.cidr, env.gateway] });
    expect(await targetStep.check(ctx())).toMatchObject({ kind: 'done' });
    const inq = await env.initiator('inhost', ['iscsi-inq', iscsiUrl(env.gateway, n.iscsi.iqn, 1, `pvelab-${env.labName}`)], secret);
    expect(inq.exitCode).toBe(0);
  });

  it('apply restores the targets itself after a restart, and starts tgtd when it is down', async () => {
    await restartTgtd();
    await runUp([targetStep], () => ctx());
    expect(await targetStep.check(ctx())).toMatchObject({ kind: 'done' });
    for (const pid of await tgtdPids()) await env.ns.exec(['kill', '-KILL', pid]);
    for (let i = 0; i < 100 && (await tgtdPids()).length; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await targetStep.check(ctx())).toEqual({ kind: 'todo', reason: 'tgtd is not running' });
    await runUp([targetStep], () => ctx());
    expect(await tgtdPids()).not.toEqual([]);
    expect(await targetStep.check(ctx())).toMatchObject({ kind: 'done' });
    // the decoy was lost with the killed tgtd (it had no configuration file); put it back for the undo test
    await env.sh(`tgtadm --lld iscsi --op new --mode target --tid 9 --targetname ${DECOY}
      tgtadm --lld iscsi --op new --mode logicalunit --tid 9 --lun 1 --backing-store ${env.dir}/decoy.img
      tgtadm --lld iscsi --op bind --mode target --tid 9 --initiator-address ALL
      tgtadm --lld iscsi --op new --mode account --user decoy-user --password decoy-not-a-secret`);
  });

  it('storage-loss fault: the shared LUN goes offline for every initiator and comes back', async () => {
    const n = ctx().names;
    const fault = storageLossFault(ctx().services.tgt!, n.iscsi.iqn);
    const read = () => env.initiator('inhost', ['qemu-io', '-f', 'raw', '-c', 'read 0 4096', iscsiUrl(env.gateway, n.iscsi.iqn, 1, `pvelab-${env.labName}`)], secret);
    expect((await read()).exitCode).toBe(0);
    await fault.inject();
    await fault.inject();
    expect(await fault.online()).toBe(false);
    const lost = await read();
    expect(lost.exitCode).not.toBe(0);
    expect(lost.stdout + lost.stderr).toMatch(/NOT READY/);
    expect(await targetStep.check(ctx())).toEqual({ kind: 'todo', reason: expect.stringMatching(/lun-params/) });
    await fault.heal();
    await fault.heal();
    expect(await fault.online()).toBe(true);
    expect((await read()).exitCode).toBe(0);
  });

  it('undo removes only our targets, account, file and images, and runs twice; the decoy survives', async () => {
    const n = ctx().names;
    await runDown(storageSteps(lab()), () => ctx());
    await runDown(storageSteps(lab()), () => ctx());
    const live = await tgtShow();
    expect(live.map((t) => t.iqn)).toEqual([DECOY]);
    expect(live[0]).toMatchObject({ aclAddresses: ['ALL'], luns: [expect.anything(), expect.objectContaining({ path: `${env.dir}/decoy.img` })] });
    const accounts = (await env.ns.exec(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'account'])).stdout;
    expect(accounts).toContain('decoy-user');
    expect(accounts).not.toContain(`pvelab-${env.labName}`);
    expect(existsSync(`${env.dir}/conf.d/pvelab-${env.labName}.conf`)).toBe(false);
    expect(existsSync(n.iscsi.lunImage)).toBe(false);
    expect(existsSync(n.nodes[0]!.zfsImage)).toBe(false);
  });
});
