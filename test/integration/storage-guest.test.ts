// A TCG guest sees the lab LUNs as virtio disks through QEMU's own iSCSI initiator (layout iscsi: no host
// device-mapper, no host login): the shared LUN and its node's root LUN, exported by the storage steps
// from tgtd in the lab namespace and attached with the values nodeRootDisk() gives the domain XML.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUp } from '../../lab/core/pipeline.js';
import { nodeRootDisk } from '../../lab/storage/spec.js';
import { storageSteps } from '../../lab/steps/storage-steps.js';
import { buildBusyboxGuest, guestDomainXml, waitForFile, type GuestImage } from '../helpers/guest.js';
import { run } from '../helpers/run.js';
import { missingPrereq, startStorageNs, type StorageNs } from './storage-env.js';

const missing = missingPrereq(['tgtd', 'tgtadm', 'qemu-io', 'qemu-img', 'virsh', 'libvirtd', 'nsenter', 'unshare']);
let env: StorageNs;
let image: GuestImage;

beforeAll(async () => {
  if (missing) return;
  [env, image] = await Promise.all([startStorageNs('storage-guest', { libvirt: true }), buildBusyboxGuest()]);
});
afterAll(() => env?.down());

const hex = (s: string) => Buffer.from(s).toString('hex');

describe.skipIf(!!missing)(`TCG guest on the lab LUNs via QEMU's iSCSI initiator${missing ? ` (skipped: ${missing} missing)` : ''}`, () => {
  it('sees the shared LUN and its own root LUN as virtio disks with the bytes written on the host', async () => {
    const lab = env.lab({ storage: { layout: 'iscsi', lunGiB: 8 } });
    const ctx = env.ctx(lab);
    const n = ctx.names;
    await runUp(storageSteps(lab), () => env.ctx(lab));
    await env.sh(`printf PVELAB-SHARED-01 | dd of=${n.iscsi.lunImage} conv=notrunc status=none
      printf PVELAB-ROOT-PVE1 | dd of=${n.imagesDir}/pve1-root.img conv=notrunc status=none`);

    const root = nodeRootDisk(lab, n, 0);
    if (root.kind !== 'iscsi') throw new Error('layout iscsi must give an iscsi root disk');
    const disk = (iqn: string, dev: string, extra: string) =>
      `<disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>
        <source protocol='iscsi' name='${iqn}/1'><host name='${root.host}' port='${root.port}'/><initiator><iqn name='${root.initiatorIqn}'/></initiator></source>
        <target dev='${dev}' bus='virtio'/>${extra}</disk>`;
    const consoleLog = join(env.dir, 'pve1.console');
    const xml = guestDomainXml({
      name: n.nodes[0]!.domain, image, ip: `${n.nodes[0]!.ip}/24`, gateway: env.gateway, bridge: n.network.bridge, consoleLog,
      extraDevices: disk(n.iscsi.iqn, 'vda', '<shareable/>') + disk(root.iqn, 'vdb', ''),
    });
    writeFileSync(join(env.dir, 'pve1.xml'), xml);
    const virsh = (...args: string[]) => run(['virsh', '-c', env.ns.uri, '-q', ...args]);
    await virsh('define', join(env.dir, 'pve1.xml'));
    await virsh('start', n.nodes[0]!.domain);

    const log = await waitForFile(consoleLog, 'LAB-READY', 180_000);
    expect(log).toContain(`DISK vda sectors=${(8 * 2 ** 30) / 512} head=${hex('PVELAB-SHARED-01')}`);
    expect(log).toContain(`DISK vdb sectors=${(16 * 2 ** 30) / 512} head=${hex('PVELAB-ROOT-PVE1')}`);
    // tgtd sees the node's initiator name on both targets
    const conns = (await env.ns.exec(['tgtadm', '--lld', 'iscsi', '--op', 'show', '--mode', 'target'])).stdout;
    expect(conns.match(new RegExp(`Initiator: ${root.initiatorIqn.replace(/\./g, '\\.')}`, 'g'))).toHaveLength(2);
    await virsh('destroy', n.nodes[0]!.domain);
  });
});
