// Per node, before clustering: the host name is final (corosync keys nodes by name), /etc/hosts maps
// it to the lab address, the release is 8 or 9 and the same as the first node's, apt uses the
// no-subscription repositories (online labs), open-iscsi is installed, CHAP credentials are set (chap).
import type { NodeNames } from '../config/names.js';
import { LabError, PreflightError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import {
  APT_UPDATE, CHAP_CHECK_ARGV, CHAP_FIX_ARGV, DPKG_OPEN_ISCSI, aptInstall, chapInput, fixHostsArgv, isInstalled, parseGetentHosts, reposCheckArgv, reposFixArgv,
} from '../pve/node.js';
import { debianSuite } from '../pve/version.js';
import { clusterRelease, isOnline, nodeRelease, progressOutput, runnerOf } from './pve-common.js';

interface Pending {
  hosts?: boolean;
  repos?: string;
  iscsi?: boolean;
  chap?: boolean;
}

async function chapSecrets(ctx: StepContext): Promise<{ user: string; password: string }> {
  const s = await ctx.state.secrets();
  if (!s.chapUser || !s.chapPassword) throw new LabError('storage.chap is on but the lab has no CHAP credentials yet', { hint: 'the iSCSI target step creates them; run `pvelab up` from the start' });
  return { user: s.chapUser, password: s.chapPassword };
}

async function inspect(ctx: StepContext, node: NodeNames): Promise<{ status: StepStatus; pending: Pending }> {
  const run = runnerOf(ctx, node.name);
  const pending: Pending = {};
  const host = (await run.run(['hostname'])).stdout.trim();
  if (host !== node.name)
    return { pending, status: { kind: 'drift', detail: `${node.name} (${node.ip}) calls itself "${host}"`, hint: `a cluster node's name cannot change; reinstall it (\`pvelab down\`, then \`pvelab up\`)` } };
  const v = await nodeRelease(ctx, node.name);
  if (v.major !== 8 && v.major !== 9) return { pending, status: { kind: 'drift', detail: `${node.name} runs Proxmox VE ${v.full}`, hint: 'pvelab supports Proxmox VE 8 and 9 (pve.release)' } };
  const first = await clusterRelease(ctx);
  if (first.major !== v.major)
    return { pending, status: { kind: 'drift', detail: `${node.name} runs Proxmox VE ${v.full} but ${ctx.names.nodes[0]?.name} runs ${first.full}`, hint: 'all nodes must run the same major release; reinstall the odd one' } };
  const addr = parseGetentHosts((await run.run(['getent', 'hosts', node.name], { allowExit: [2] })).stdout);
  if (addr !== node.ip) pending.hosts = true;
  if (isOnline(ctx.lab)) {
    const r = await run.run(reposCheckArgv(v.major, debianSuite(v.major)), { allowExit: [1] });
    if (r.exitCode !== 0) pending.repos = r.stdout.trim().split('\n').join(', ');
  }
  if (!isInstalled((await run.run(DPKG_OPEN_ISCSI, { allowExit: [1] })).stdout)) pending.iscsi = true;
  if (ctx.lab.storage.chap) {
    const { user, password } = await chapSecrets(ctx);
    if ((await run.run(CHAP_CHECK_ARGV, { input: chapInput(user, password), allowExit: [1] })).exitCode !== 0) pending.chap = true;
  }
  const todo = [
    pending.hosts && `/etc/hosts maps ${node.name} to ${addr ?? 'nothing'}, want ${node.ip}`,
    pending.repos && `apt repositories: ${pending.repos}`,
    pending.iscsi && 'open-iscsi is not installed',
    pending.chap && 'iSCSI CHAP credentials are not set',
  ].filter(Boolean);
  return { pending, status: todo.length ? { kind: 'todo', reason: todo.join('; ') } : { kind: 'done', detail: `Proxmox VE ${v.full}` } };
}

export function nodePrepStep(node: NodeNames): Step {
  return {
    id: `pve.node-prep.${node.name}`,
    title: `Preparing ${node.name} (host name, repositories, open-iscsi)`,
    async check(ctx) {
      return (await inspect(ctx, node)).status;
    },
    async apply(ctx) {
      const { pending, status } = await inspect(ctx, node);
      if (status.kind === 'drift') throw new LabError(status.detail, { hint: status.hint });
      const run = runnerOf(ctx, node.name);
      if (pending.hosts) await run.run(fixHostsArgv(node.name, node.fqdn, node.ip));
      if (pending.repos) {
        const v = await nodeRelease(ctx, node.name);
        await run.run(reposFixArgv(v.major, debianSuite(v.major)));
      }
      if (pending.iscsi) {
        if (!isOnline(ctx.lab))
          throw new PreflightError(`${node.name} has no open-iscsi and the lab is offline (guest.offline)`, { hint: 'run the lab online once, or install open-iscsi on the node by hand' });
        ctx.progress(`${node.name}: apt-get update`);
        await run.run(APT_UPDATE, { timeoutMs: 10 * 60_000, onOutput: progressOutput(ctx, node.name), signal: ctx.signal });
        await run.run(aptInstall('open-iscsi'), { timeoutMs: 15 * 60_000, onOutput: progressOutput(ctx, node.name), signal: ctx.signal });
      }
      if (pending.chap) {
        const { user, password } = await chapSecrets(ctx);
        await run.run(CHAP_FIX_ARGV, { input: chapInput(user, password) });
      }
    },
    // Nothing to undo: `down` deletes the node.
    async undo() {},
    describe: (ctx) => [
      `hostname; getent hosts ${node.name}   # on ${node.name}, want ${node.ip}`,
      ...(isOnline(ctx.lab) ? ['disable enterprise apt sources, add pve-no-subscription'] : []),
      'apt-get install -y open-iscsi   # when missing',
    ],
  };
}
