// tgt: the `--op show` parser on captured output, exact tgtadm argv, the convergence plan, the socket
// request layout, and the configuration file renderer.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labNames } from '../../lab/config/names.js';
import { hostStorage, isOurIqn } from '../../lab/storage/spec.js';
import { renderTgtConf } from '../../lab/storage/tgt-conf.js';
import { TgtIpcError, encodeRequest, tgtAddAccount } from '../../lab/storage/tgt-ipc.js';
import { planTargets } from '../../lab/storage/tgt-plan.js';
import { isAddressAcl, lowestFreeTid, parseTgtShowAccounts, parseTgtShowTargets } from '../../lab/storage/tgt-show.js';
import { Tgt, tgtadmArgv } from '../../lab/storage/tgt.js';
import { targetStep } from '../../lab/steps/storage-target.js';
import { cleanupScratch, FakeRunner, fixture, makeCtx, testLab } from './storage-fakes.js';

afterAll(cleanupScratch);

const live = parseTgtShowTargets(fixture('tgtadm-show-target.txt'));

describe('tgtadm --op show parser (captured from tgtd 1.0.85)', () => {
  it('reads every target with its tid and IQN', () => {
    expect(live.map((t) => [t.tid, t.iqn])).toEqual([
      [1, 'iqn.2024-01.dev.pvelab:t1'],
      [2, 'iqn.2003-01.org.example:decoy'],
      [3, 'iqn.2024-01.dev.pvelab:t1:root-pve1'],
    ]);
    expect(live[0]).toMatchObject({ driver: 'iscsi', state: 'ready' });
  });

  it('reads LUNs: backing path, SCSI identity, online flag, block size', () => {
    const [t1, , t3] = live;
    expect(t1!.luns.map((l) => l.lun)).toEqual([0, 1]);
    expect(t1!.luns[0]).toMatchObject({ type: 'controller', path: undefined, bsType: 'null' });
    expect(t1!.luns[1]).toEqual({
      lun: 1, type: 'disk', scsiId: 'pvelab-0a1b2c3d4e5f', scsiSn: 'pvl0a1b2c3d4e5f', size: '1074 MB', blockSize: 512,
      online: true, readonly: false, bsType: 'rdwr', path: '/var/lib/pvelab/t1/images/shared-lun.img',
    });
    expect(t3!.luns[1]).toMatchObject({ online: false, path: '/var/lib/pvelab/t1/images/pve1-root.img', scsiId: 'IET     00030001' });
  });

  it('reads the I_T nexus with its initiator and connection address', () => {
    expect(live[0]!.nexus).toEqual([{ nexus: 1, initiator: 'iqn.2008-11.org.linux-kvm', connections: [{ cid: 0, ip: '127.0.0.1' }] }]);
    expect(live[1]!.nexus).toEqual([]);
  });

  it('splits the one ACL list into addresses and initiator names; reads bound accounts', () => {
    expect(live[0]).toMatchObject({ aclAddresses: ['10.77.5.0/24', '127.0.0.1'], aclNames: [], accounts: [{ user: 'pvelab-t1', outgoing: false }] });
    expect(live[1]).toMatchObject({ aclAddresses: ['ALL'], aclNames: ['iqn.1993-08.org.debian:01:decoyhost'], accounts: [] });
    expect(isAddressAcl('[fd00::1]/64')).toBe(true);
    expect(isAddressAcl('iqn.2024-01.dev.pvelab:t1.pve1')).toBe(false);
  });

  it('reads an outgoing account and the account list', () => {
    const t = parseTgtShowTargets('Target 4: iqn.x:y\n    Account information:\n        alice\n        bob (outgoing)\n    ACL information:\n');
    expect(t[0]!.accounts).toEqual([{ user: 'alice', outgoing: false }, { user: 'bob', outgoing: true }]);
    expect(parseTgtShowAccounts(fixture('tgtadm-show-account.txt'))).toEqual(['pvelab-t1']);
    expect(parseTgtShowTargets('')).toEqual([]);
  });

  it('allocates the lowest free tid', () => {
    expect(lowestFreeTid(live)).toBe(4);
    expect(lowestFreeTid(live.filter((t) => t.tid !== 2))).toBe(2);
    expect(lowestFreeTid([])).toBe(1);
  });
});

describe('tgtadm argv', () => {
  it('builds each request exactly', () => {
    expect(tgtadmArgv({ op: 'new-target', tid: 2, iqn: 'iqn.2024-01.dev.pvelab:t1' })).toEqual(['tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '2', '--targetname', 'iqn.2024-01.dev.pvelab:t1']);
    expect(tgtadmArgv({ op: 'new-lun', tid: 2, lun: 1, path: '/x/lun.img' })).toEqual(['tgtadm', '--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '2', '--lun', '1', '--backing-store', '/x/lun.img']);
    expect(tgtadmArgv({ op: 'lun-params', tid: 2, lun: 1, params: { scsi_id: 'a', scsi_sn: 'b' } })).toEqual(['tgtadm', '--lld', 'iscsi', '--op', 'update', '--mode', 'logicalunit', '--tid', '2', '--lun', '1', '--params', 'scsi_id=a,scsi_sn=b']);
    expect(tgtadmArgv({ op: 'bind-address', tid: 2, address: '10.77.5.0/24' })).toEqual(['tgtadm', '--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '2', '--initiator-address', '10.77.5.0/24']);
    expect(tgtadmArgv({ op: 'delete-target', tid: 2, force: true })).toEqual(['tgtadm', '--lld', 'iscsi', '--op', 'delete', '--mode', 'target', '--force', '--tid', '2']);
    expect(tgtadmArgv({ op: 'unbind-account', tid: 2, user: 'u', outgoing: true })).toEqual(['tgtadm', '--lld', 'iscsi', '--op', 'unbind', '--mode', 'account', '--tid', '2', '--user', 'u', '--outgoing']);
  });
});

describe('convergence plan', () => {
  const lab = testLab({ storage: { chap: true } });
  const spec = hostStorage(lab, labNames(lab, '/var/lib/pvelab'));

  it('creates a missing target at the lowest free tid, with LUN identity, ACL (never ALL) and CHAP', () => {
    const decoy = live.filter((t) => t.tid === 2);
    const plan = planTargets(spec.targets, decoy, []);
    expect(plan.drift).toBeUndefined();
    const [shared] = spec.targets;
    expect(plan.steps).toEqual([
      { op: 'add-account', user: 'pvelab-t1' },
      { op: 'new-target', tid: 1, iqn: 'iqn.2024-01.dev.pvelab:t1' },
      { op: 'new-lun', tid: 1, lun: 1, path: '/var/lib/pvelab/t1/images/shared-lun.img' },
      { op: 'lun-params', tid: 1, lun: 1, params: { scsi_id: shared!.luns[0]!.scsiId, scsi_sn: shared!.luns[0]!.scsiSn } },
      { op: 'bind-address', tid: 1, address: '10.77.5.0/24' },
      { op: 'bind-address', tid: 1, address: '10.77.5.1' },
      { op: 'bind-account', tid: 1, user: 'pvelab-t1' },
    ]);
    expect(JSON.stringify(plan.steps)).not.toContain('ALL');
  });

  it('repairs our existing target: foreign ACL entries out, missing ones in, LUN back online', () => {
    const ours = parseTgtShowTargets(fixture('tgtadm-show-target.txt').replace('        127.0.0.1\nTarget 2', '        ALL\nTarget 2'));
    const t1 = ours[0]!;
    t1.luns[1]!.scsiId = spec.targets[0]!.luns[0]!.scsiId;
    t1.luns[1]!.scsiSn = spec.targets[0]!.luns[0]!.scsiSn;
    t1.luns[1]!.online = false;
    const plan = planTargets(spec.targets, [t1], ['pvelab-t1']);
    expect(plan.steps).toEqual([
      { op: 'lun-params', tid: 1, lun: 1, params: { online: '1' } },
      { op: 'unbind-address', tid: 1, address: 'ALL' },
      { op: 'bind-address', tid: 1, address: '10.77.5.1' },
    ]);
  });

  it('is empty when the live target matches', () => {
    const t = structuredClone(live[0]!);
    t.luns[1]!.scsiId = spec.targets[0]!.luns[0]!.scsiId;
    t.luns[1]!.scsiSn = spec.targets[0]!.luns[0]!.scsiSn;
    t.aclAddresses = ['10.77.5.0/24', '10.77.5.1'];
    expect(planTargets(spec.targets, [t], ['pvelab-t1'])).toEqual({ steps: [] });
  });

  it('refuses a LUN of ours backed by another file, and a LUN it did not configure', () => {
    const t = structuredClone(live[0]!);
    t.luns[1]!.path = '/home/someone/precious.img';
    expect(planTargets(spec.targets, [t], []).drift).toMatch(/LUN 1 is backed by \/home\/someone\/precious.img/);
    const u = structuredClone(live[0]!);
    u.luns.push({ ...u.luns[1]!, lun: 2, path: '/srv/other.img' });
    expect(planTargets(spec.targets, [u], []).drift).toMatch(/LUN 2 backed by \/srv\/other.img, which pvelab did not configure/);
  });

  it('marks the IQN family as ours and nothing else', () => {
    expect(isOurIqn('iqn.2024-01.dev.pvelab:t1', 'iqn.2024-01.dev.pvelab:t1')).toBe(true);
    expect(isOurIqn('iqn.2024-01.dev.pvelab:t1', 'iqn.2024-01.dev.pvelab:t1:root-pve1')).toBe(true);
    expect(isOurIqn('iqn.2024-01.dev.pvelab:t1', 'iqn.2024-01.dev.pvelab:t10')).toBe(false);
    expect(isOurIqn('iqn.2024-01.dev.pvelab:t1', 'iqn.2003-01.org.example:decoy')).toBe(false);
  });
});

describe('tgtd socket request (CHAP secret off argv)', () => {
  it('lays out struct tgtadm_req like tgtadm on x86-64', () => {
    const b = encodeRequest({ mode: 7, op: 0, body: 'user=u,password=p' });
    expect(b.length).toBe(120 + 'user=u,password=p'.length + 1);
    expect(b.readInt32LE(0)).toBe(7); // MODE_ACCOUNT
    expect(b.readInt32LE(4)).toBe(0); // OP_NEW
    expect(b.subarray(8, 13).toString()).toBe('iscsi');
    expect(b[13]).toBe(0);
    expect(b.readUInt32LE(72)).toBe(b.length); // len covers header + body
    expect(b.readInt32LE(76)).toBe(-1); // tid
    expect(b.readBigUInt64LE(88)).toBe(0xffffffffffffffffn); // lun
    expect(b.subarray(120).toString()).toBe('user=u,password=p\0');
  });
});

describe('tgtd socket exchange', () => {
  /** A stand-in tgtd socket: reads one request, answers with the given error code. */
  async function fakeTgtd(err: number): Promise<{ path: string; got: Promise<Buffer>; close: () => void }> {
    const dir = mkdtempSync(join(tmpdir(), 'pvelab-tgtipc-'));
    const path = join(dir, 'socket.0');
    let resolve!: (b: Buffer) => void;
    const got = new Promise<Buffer>((r) => (resolve = r));
    const srv = createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 76 && buf.length >= buf.readUInt32LE(72)) {
          resolve(buf);
          const rsp = Buffer.alloc(8);
          rsp.writeUInt32LE(err, 0);
          rsp.writeUInt32LE(8, 4);
          c.end(rsp);
        }
      });
    });
    await new Promise<void>((r) => srv.listen(path, r));
    return { path, got, close: () => srv.close(() => rmSync(dir, { recursive: true, force: true })) };
  }

  it('sends user and secret in the socket payload and maps tgtd errors', async () => {
    const ok = await fakeTgtd(0);
    await tgtAddAccount(ok.path, 'pvelab-t1', 'S3cret-S3cret-16');
    expect((await ok.got).subarray(120).toString()).toBe('user=pvelab-t1,password=S3cret-S3cret-16\0');
    ok.close();
    const dup = await fakeTgtd(14);
    const err = await tgtAddAccount(dup.path, 'pvelab-t1', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TgtIpcError);
    expect((err as Error).message).toBe('tgtd refused to create the CHAP account pvelab-t1: this account already exists');
    dup.close();
    await expect(tgtAddAccount(join(tmpdir(), 'no-such-tgtd.sock'), 'u', 'p')).rejects.toThrow(/is tgtd running|ENOENT/);
  });
});

describe('tgt configuration file', () => {
  it('renders every target with explicit LUN, identity, ACL and the CHAP user', () => {
    const lab = testLab({ storage: { chap: true, layout: 'iscsi' } });
    const spec = hostStorage(lab, labNames(lab, '/var/lib/pvelab'));
    const text = renderTgtConf('t1', spec.targets, { user: 'pvelab-t1', password: 'S3cretS3cretS3cr' });
    expect(text).not.toMatch(/default-driver/);
    expect(text).toContain(`<target iqn.2024-01.dev.pvelab:t1>\n    driver iscsi\n    <backing-store /var/lib/pvelab/t1/images/shared-lun.img>\n        lun 1\n        scsi_id ${spec.targets[0]!.luns[0]!.scsiId}\n`);
    expect(text).toContain('    initiator-address 10.77.5.0/24\n    initiator-address 10.77.5.1\n    incominguser pvelab-t1 S3cretS3cretS3cr\n</target>');
    expect(text).toContain('<target iqn.2024-01.dev.pvelab:t1:root-pve3>');
    expect(text.match(/<target /g)).toHaveLength(4);
    expect(text).not.toContain('ALL');
  });

  it('refuses a path that would break the file', () => {
    const lab = testLab({ storage: { dir: '/srv/my images' } });
    const spec = hostStorage(lab, labNames(lab, '/var/lib/pvelab'));
    expect(() => renderTgtConf('t1', spec.targets)).toThrow(/contains a space/);
  });
});

describe('target step plan (pvelab plan)', () => {
  it('describes starting tgtd, every tgtadm call and the file, with the secret masked', async () => {
    const r = new FakeRunner().on(['tgtadm'], { exitCode: 107, stderr: "tgtadm: can't send the request to the tgt daemon, Transport endpoint is not connected\n" });
    const ctx = makeCtx(testLab({ storage: { chap: true } }), r, { tgt: new Tgt(r) });
    expect(await targetStep.check(ctx)).toEqual({ kind: 'todo', reason: 'tgtd is not running' });
    const lines = await targetStep.describe!(ctx);
    expect(lines[0]).toBe('tgtd (or: systemctl start tgt)');
    expect(lines[1]).toBe("tgtadm --lld iscsi --op new --mode account --user pvelab-t1 --password ••••••  (sent over tgtd's socket, not argv)");
    expect(lines[2]).toBe('tgtadm --lld iscsi --op new --mode target --tid 1 --targetname iqn.2024-01.dev.pvelab:t1');
    expect(lines.at(-1)).toBe("write /etc/tgt/conf.d/pvelab-t1.conf (mode 600; tgt configuration for reboots)");
    expect(r.commands().every((c) => c.startsWith('tgtadm --lld iscsi --op show'))).toBe(true);
  });
});
