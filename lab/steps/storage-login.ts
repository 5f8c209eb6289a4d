// Layout lvm: the host logs in to the shared LUN (open-iscsi) so it can hold the lab VG and the nodes'
// root LVs. Only the lab portal and the lab IQN are touched: discovery is non-persistent, the node record
// is created for our IQN alone, and undo logs out and deletes exactly that record.
// Order in apply: portal check → discovery (is the target offered to us?) → record (+ CHAP) → login →
// wait for udev's /dev/disk/by-path link.
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { waitFor } from '../core/wait.js';
import { iscsiadmArgv } from '../storage/iscsiadm.js';
import { byPathName } from '../storage/spec.js';
import { chapOf, portalProblem, specOf, unlessMissingTool } from './storage-common.js';

/** The shared LUN as the host sees it (by-path link name). */
export function sharedLunByPath(ctx: StepContext): string {
  const s = specOf(ctx);
  return byPathName(s.portal, s.port, s.iqnBase, 1);
}

async function loggedIn(ctx: StepContext): Promise<boolean> {
  const s = specOf(ctx);
  return (await need(ctx, 'iscsiadm').sessions()).some((x) => x.iqn === s.iqnBase && x.portal === s.portal && x.port === s.port);
}

export const hostLoginStep: Step = {
  id: 'storage.host-login',
  title: 'Logging the host in to the shared LUN (open-iscsi)',
  async check(ctx): Promise<StepStatus> {
    if (!(await loggedIn(ctx))) return { kind: 'todo', reason: `no session to ${ctx.names.iscsi.iqn} at ${ctx.names.iscsi.portal}` };
    const dev = await need(ctx, 'iscsiadm').device(sharedLunByPath(ctx));
    if (!dev) return { kind: 'todo', reason: `logged in, but /dev/disk/by-path/${sharedLunByPath(ctx)} is missing` };
    return { kind: 'done', detail: `${dev} (${sharedLunByPath(ctx)})` };
  },
  async apply(ctx) {
    const iscsi = need(ctx, 'iscsiadm');
    const s = specOf(ctx);
    const bad = await portalProblem(ctx);
    if (bad) throw new LabError(bad, { hint: 'the host logs in through its own lab address; run the network step first' });
    if (!(await loggedIn(ctx))) {
      const offered = (await iscsi.discover(s.portal, s.port)).find((n) => n.iqn === s.iqnBase);
      if (!offered)
        throw new LabError(`tgtd at ${s.portal}:${s.port} does not offer ${s.iqnBase} to this host`, {
          hint: `its ACL must contain the host's lab address ${s.portal} (tgtadm --lld iscsi --op show --mode target)`,
        });
      const node = { ...offered, portal: s.portal, port: s.port };
      if (!(await iscsi.hasNode(s.iqnBase, s.portal, s.port))) await iscsi.newNode(s.iqnBase, s.portal, s.port, node.tpgt);
      const chap = await chapOf(ctx, true);
      if (chap) await iscsi.setChap(node, chap.user, chap.password);
      ctx.progress(`iscsiadm login to ${s.iqnBase} at ${s.portal}:${s.port}`);
      await iscsi.login(s.iqnBase, s.portal, s.port);
    }
    await waitFor(
      async () => {
        const dev = await iscsi.device(sharedLunByPath(ctx));
        return dev ? { done: true, value: dev } : { done: false, seen: `no ${iscsi.byPathDir}/${sharedLunByPath(ctx)}` };
      },
      { what: 'the shared LUN\'s block device', timeoutMs: 30_000, intervalMs: 250, signal: ctx.signal, hint: 'is udev running? `iscsiadm -m session -P 3` shows the attached disk' },
    );
  },
  async undo(ctx) {
    const iscsi = need(ctx, 'iscsiadm');
    const s = specOf(ctx);
    await unlessMissingTool(async () => {
      await iscsi.logout(s.iqnBase, s.portal, s.port);
      await iscsi.deleteNode(s.iqnBase, s.portal, s.port);
    });
  },
  describe(ctx) {
    const s = specOf(ctx);
    return [
      iscsiadmArgv.discover(s.portal, s.port).join(' '),
      iscsiadmArgv.newNode(s.iqnBase, s.portal, s.port, 1).join(' '),
      ...(ctx.lab.storage.chap ? ['(CHAP user and secret written into the node record, secret via stdin)'] : []),
      iscsiadmArgv.login(s.iqnBase, s.portal, s.port).join(' '),
    ];
  },
};
