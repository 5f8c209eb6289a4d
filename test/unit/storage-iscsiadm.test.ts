// Host initiator (open-iscsi cannot run on this kernel): parsers on recorded iscsiadm output and the exact
// argv of the host-login step, including where the CHAP secret goes (stdin, never argv).
import { afterAll, describe, expect, it } from 'vitest';
import { LabError } from '../../lab/core/errors.js';
import { IscsiAdm, parseIscsiNodes, parseIscsiSessions, setRecordValues } from '../../lab/storage/iscsiadm.js';
import { hostLoginStep } from '../../lab/steps/storage-login.js';
import { cleanupScratch, FakeRunner, fixture, makeCtx, testLab } from './storage-fakes.js';

afterAll(cleanupScratch);

const IQN = 'iqn.2024-01.dev.pvelab:t1';
const BYPATH = `ip-10.77.5.1:3260-iscsi-${IQN}-lun-1`;

describe('iscsiadm output parsers', () => {
  it('parses `iscsiadm -m session` lines (seed format, IPv6 portal)', () => {
    expect(parseIscsiSessions(fixture('iscsiadm-session.txt'))).toEqual([
      { transport: 'tcp', sid: 17, portal: '127.0.0.1', port: 3260, tpgt: 1, iqn: 'iqn.com.example:vpe', flash: false },
      { transport: 'tcp', sid: 18, portal: '10.77.5.1', port: 3260, tpgt: 1, iqn: IQN, flash: false },
      { transport: 'tcp', sid: 19, portal: 'fd00:77::1', port: 3260, tpgt: 1, iqn: 'iqn.2003-01.org.example:decoy', flash: false },
    ]);
    expect(parseIscsiSessions(fixture('iscsiadm-session-none.stderr.txt'))).toEqual([]);
  });

  it('parses discovery output', () => {
    expect(parseIscsiNodes(fixture('iscsiadm-discovery.txt'))).toEqual([{ portal: '10.77.5.1', port: 3260, tpgt: 1, iqn: IQN }]);
  });

  it('sets record values in place or before "# END RECORD"', () => {
    const rec = setRecordValues(fixture('iscsiadm-node-record.txt'), { 'node.session.auth.authmethod': 'CHAP', 'node.session.auth.password': 'pw' });
    expect(rec).toContain('node.session.auth.authmethod = CHAP\n');
    expect(rec).not.toContain('authmethod = None');
    expect(rec).toMatch(/node\.session\.auth\.password = pw\n# END RECORD/);
  });
});

/** A fake host with open-iscsi: sessions appear after a successful login. */
function host(opts: { loginExit?: number } = {}) {
  let session = false;
  const r = new FakeRunner()
    .on(['iscsiadm', '-m', 'session'], () => (session ? { stdout: `tcp: [3] 10.77.5.1:3260,1 ${IQN} (non-flash)\n` } : { exitCode: 21, stderr: fixture('iscsiadm-session-none.stderr.txt') }))
    .on(['iscsiadm', '-m', 'discovery'], { stdout: fixture('iscsiadm-discovery.txt') })
    .on((a) => a[0] === 'iscsiadm' && a.length === 7, { exitCode: 21, stderr: 'iscsiadm: No records found\n' }) // show node
    .on((a) => a[0] === 'iscsiadm' && a.includes('new'), { stdout: `New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 10.77.5.1,3260,1 ${IQN}] added\n` })
    .on((a) => a[0] === 'iscsiadm' && a.includes('update'), {})
    .on(['cat', '--'], { stdout: fixture('iscsiadm-node-record.txt') })
    .on(['install', '-m', '600', '/dev/null'], {})
    .on(['dd'], {})
    .on(['mv', '-f', '--'], {})
    .on((a) => a[0] === 'iscsiadm' && a.includes('--login'), () => {
      if (opts.loginExit) return { exitCode: opts.loginExit, stderr: fixture('iscsiadm-login-auth.stderr.txt') };
      session = true;
      return { stdout: fixture('iscsiadm-login.txt') };
    })
    .on(['readlink', '-e', '--'], () => (session ? { stdout: '/dev/sdb\n' } : { exitCode: 1 }))
    .on((a) => a[0] === 'iscsiadm' && a.includes('--logout'), () => (session ? ((session = false), {}) : { exitCode: 21, stderr: 'iscsiadm: No matching sessions found\n' }))
    .on((a) => a[0] === 'iscsiadm' && a.includes('delete'), { exitCode: 21, stderr: 'iscsiadm: No records found\n' });
  return r;
}

describe('host login step (layout lvm)', () => {
  it('discovers without touching the node DB, creates only our record, sets CHAP off argv, logs in, finds the device', async () => {
    const r = host();
    const ctx = makeCtx(testLab({ storage: { chap: true } }), r, { iscsiadm: new IscsiAdm(r) });
    expect((await hostLoginStep.check(ctx)).kind).toBe('todo');
    r.calls.length = 0;
    await hostLoginStep.apply(ctx);
    expect(r.commands('iscsiadm')).toEqual([
      'iscsiadm -m session',
      'iscsiadm -m discovery -t sendtargets -p 10.77.5.1:3260 -o nonpersistent',
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260,1 -o new`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 -o update -n node.session.auth.authmethod -v CHAP`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 -o update -n node.session.auth.username -v pvelab-t1`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 --login`,
    ]);
    const secret = (await ctx.state.secrets()).chapPassword!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{16}$/);
    for (const c of r.calls) expect(c.argv.join(' ')).not.toContain(secret);
    const rec = `/etc/iscsi/nodes/${IQN}/10.77.5.1,3260,1/default`;
    expect(r.commands('install', 'dd', 'mv')).toEqual([`install -m 600 /dev/null ${rec}.pvelab-tmp`, `dd of=${rec}.pvelab-tmp status=none`, `mv -f -- ${rec}.pvelab-tmp ${rec}`]);
    expect(r.calls.find((c) => c.argv[0] === 'dd')!.input).toContain(`node.session.auth.password = ${secret}\n# END RECORD`);
    expect(r.commands('readlink')).toContain(`readlink -e -- /dev/disk/by-path/${BYPATH}`);
    expect(await hostLoginStep.check(ctx)).toEqual({ kind: 'done', detail: `/dev/sdb (${BYPATH})` });
  });

  it('without CHAP sets no credentials', async () => {
    const r = host();
    const ctx = makeCtx(testLab(), r, { iscsiadm: new IscsiAdm(r) });
    await hostLoginStep.apply(ctx);
    expect(r.commands('iscsiadm').some((c) => c.includes('auth'))).toBe(false);
    expect(r.commands('install', 'dd')).toEqual([]);
  });

  it('turns an authorization failure (exit 24) into one error with a hint', async () => {
    const r = host({ loginExit: 24 });
    const ctx = makeCtx(testLab(), r, { iscsiadm: new IscsiAdm(r) });
    const err = await hostLoginStep.apply(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/could not log in to .* \(iscsiadm exit 24\): iscsiadm: initiator reported error \(24 - iSCSI login failed due to authorization failure\)/);
    expect((err as LabError).hint).toMatch(/CHAP/);
  });

  it('refuses when the portal does not offer our target (ACL)', async () => {
    const r = host().on(['iscsiadm', '-m', 'discovery'], { exitCode: 21, stderr: 'iscsiadm: No portals found\n' });
    const ctx = makeCtx(testLab(), r, { iscsiadm: new IscsiAdm(r) });
    await expect(hostLoginStep.apply(ctx)).rejects.toThrow(/does not offer iqn.2024-01.dev.pvelab:t1 to this host/);
    expect(r.commands('iscsiadm').some((c) => c.includes('--login') || c.includes('new'))).toBe(false);
  });

  it('undo logs out and deletes only our record, and succeeds twice', async () => {
    const r = host();
    const ctx = makeCtx(testLab(), r, { iscsiadm: new IscsiAdm(r) });
    await hostLoginStep.apply(ctx);
    r.calls.length = 0;
    await hostLoginStep.undo!(ctx);
    await hostLoginStep.undo!(ctx);
    expect(r.commands('iscsiadm')).toEqual([
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 --logout`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 -o delete`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 --logout`,
      `iscsiadm -m node -T ${IQN} -p 10.77.5.1:3260 -o delete`,
    ]);
  });
});
