// The lab's iSCSI targets on the host's tgtd: the shared LUN target (ACL = lab subnet + the host's lab
// address, never ALL), in layout iscsi one root-LUN target per node (ACL = the host's lab address: only
// QEMU's initiator attaches them), optional CHAP, and the tgt configuration file that recreates them
// when tgtd restarts or the host reboots. Order in apply: tgtd running → live changes → file.
// undo: every target of the lab's IQN family (force: sessions are dropped), the lab's CHAP account, the file.
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import { chapUserOf, isOurIqn } from '../storage/spec.js';
import { renderTgtConf } from '../storage/tgt-conf.js';
import { describeTgtStep, ourTargets, planTargets, type TgtPlan } from '../storage/tgt-plan.js';
import { tgtadmArgv } from '../storage/tgt.js';
import { chapOf, portalProblem, specOf } from './storage-common.js';

async function livePlan(ctx: StepContext): Promise<TgtPlan> {
  const tgt = need(ctx, 'tgt');
  return planTargets(specOf(ctx).targets, await tgt.targets(), await tgt.accounts());
}

async function confState(ctx: StepContext, create: boolean): Promise<{ path: string; want: string; have: string | undefined; mode: string | undefined }> {
  const tgt = need(ctx, 'tgt');
  const spec = specOf(ctx);
  const path = tgt.confPath(spec.confFileName);
  const want = renderTgtConf(ctx.lab.name, spec.targets, await chapOf(ctx, create));
  return { path, want, have: await tgt.readFile(path), mode: await tgt.fileMode(path) };
}

const summary = (ctx: StepContext) =>
  specOf(ctx).targets.map((t) => `${t.iqn} (LUN ${t.luns.map((l) => l.lun).join(',')}; ACL ${t.acl.join(' ')}${t.chapUser ? '; CHAP' : ''})`).join(', ');

export const targetStep: Step = {
  id: 'storage.target',
  title: 'Exporting the lab LUNs with tgt (iSCSI target)',
  async check(ctx): Promise<StepStatus> {
    const tgt = need(ctx, 'tgt');
    if (!(await tgt.reachable())) return { kind: 'todo', reason: 'tgtd is not running' };
    const plan = await livePlan(ctx);
    if (plan.drift) return { kind: 'drift', detail: plan.drift, hint: '`pvelab down` removes the lab\'s targets (and their LUN files); or fix the target by hand with tgtadm' };
    if (plan.steps.length) return { kind: 'todo', reason: `${plan.steps.length} tgtadm change(s): ${plan.steps.map((s) => s.op).join(', ')}` };
    if (ctx.lab.storage.chap && !(await chapOf(ctx, false))) return { kind: 'todo', reason: 'no CHAP secret yet' };
    const conf = await confState(ctx, false);
    if (conf.have !== conf.want) return { kind: 'todo', reason: `${conf.path} is ${conf.have === undefined ? 'missing' : 'out of date'}` };
    if (conf.mode !== '600') return { kind: 'todo', reason: `${conf.path} has mode ${conf.mode}, want 600` };
    return { kind: 'done', detail: summary(ctx) };
  },
  async apply(ctx) {
    const tgt = need(ctx, 'tgt');
    const bad = await portalProblem(ctx);
    if (bad) throw new LabError(`${bad}; refusing to export the LUNs`, { hint: 'run the network step first, or fix network.cidr in the lab file' });
    const images = need(ctx, 'images');
    for (const t of specOf(ctx).targets)
      for (const l of t.luns)
        if (!(await images.stat(l.path)).exists) throw new LabError(`the LUN backing file ${l.path} does not exist`, { hint: 'the storage.lun-files step creates it; run `pvelab up` again' });
    ctx.progress('starting tgtd if needed');
    ctx.log.info(`  tgtd: ${await tgt.ensureRunning(ctx.signal)}`);
    const chap = await chapOf(ctx, true);
    const plan = await livePlan(ctx);
    if (plan.drift) throw new LabError(plan.drift, { hint: '`pvelab down` removes the lab\'s targets; or fix the target by hand with tgtadm' });
    for (const s of plan.steps) {
      ctx.progress(describeTgtStep(s, tgtadmArgv));
      if (s.op === 'add-account') {
        if (!chap || chap.user !== s.user) throw new LabError(`internal: no CHAP secret for ${s.user}`);
        await tgt.addAccount(s.user, chap.password);
      } else await tgt.exec(s);
    }
    const conf = await confState(ctx, true);
    if (conf.have !== conf.want || conf.mode !== '600') await tgt.writeConf(conf.path, conf.want);
  },
  async undo(ctx) {
    const tgt = need(ctx, 'tgt');
    const spec = specOf(ctx);
    if (await tgt.reachable()) {
      for (const t of ourTargets(await tgt.targets(), (iqn) => isOurIqn(spec.iqnBase, iqn))) {
        ctx.progress(`removing target ${t.iqn} (tid ${t.tid})`);
        await tgt.exec({ op: 'delete-target', tid: t.tid, force: true });
      }
      const user = chapUserOf(ctx.names);
      if ((await tgt.accounts()).includes(user)) await tgt.exec({ op: 'delete-account', user });
    }
    await tgt.removeFile(tgt.confPath(spec.confFileName));
  },
  async describe(ctx) {
    const tgt = need(ctx, 'tgt');
    const reachable = await tgt.reachable().catch(() => false);
    const plan = reachable ? await livePlan(ctx) : planTargets(specOf(ctx).targets, [], []);
    return [
      ...(reachable ? [] : ['tgtd (or: systemctl start tgt)']),
      ...plan.steps.map((s) => describeTgtStep(s, tgtadmArgv)),
      `write ${tgt.confPath(specOf(ctx).confFileName)} (mode 600; tgt configuration for reboots)`,
    ];
  },
};
