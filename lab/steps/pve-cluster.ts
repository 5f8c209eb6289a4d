// Cluster: create on the first node, join the others one at a time (each join gated on the previous
// node being a member), then wait for quorum with every node online. The root password reaches
// `pvecm add` on stdin only. All decisions come from GET /cluster/status of the nodes themselves.
import type { NodeNames } from '../config/names.js';
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { waitFor } from '../core/wait.js';
import {
  type ClusterStatus, clusterCreateArgv, clusterJoinArgv, clusterJoinInput, describeClusterStatus, isHealthyCluster, joinFingerprint, parseClusterStatus, parseJoinInfo,
} from '../pve/cluster.js';
import { firstNode, progressOutput, pveshOf, runnerOf } from './pve-common.js';

export async function clusterStatus(ctx: StepContext, node: string): Promise<ClusterStatus> {
  return parseClusterStatus(await pveshOf(ctx, node).get('/cluster/status'));
}

const otherCluster = (node: string, name: string, want: string): StepStatus => ({
  kind: 'drift',
  detail: `${node} already belongs to another cluster "${name}" (this lab's is "${want}")`,
  hint: `a node leaves a cluster only by reinstalling; run \`pvelab down\` and \`pvelab up\`, or change the lab name`,
});

async function waitForCluster(ctx: StepContext, node: string, member: string, timeoutMs: number): Promise<void> {
  const name = ctx.names.pve.clusterName;
  await waitFor(
    async () => {
      const s = await clusterStatus(ctx, node);
      return s.cluster?.name === name && s.nodes.some((n) => n.name === member) ? { done: true, value: undefined } : { done: false, seen: describeClusterStatus(s, [member]) };
    },
    { what: `${node} to report cluster ${name} with ${member}`, timeoutMs, intervalMs: 2000, signal: ctx.signal },
  );
}

export const clusterCreateStep: Step = {
  id: 'pve.cluster-create',
  title: 'Creating the Proxmox cluster',
  async check(ctx) {
    const first = firstNode(ctx);
    const s = await clusterStatus(ctx, first.name);
    const want = ctx.names.pve.clusterName;
    if (!s.cluster) return { kind: 'todo', reason: `${first.name} is not in a cluster` };
    if (s.cluster.name !== want) return otherCluster(first.name, s.cluster.name, want);
    return { kind: 'done', detail: `cluster ${want} on ${first.name}` };
  },
  async apply(ctx) {
    const first = firstNode(ctx);
    await runnerOf(ctx, first.name).run(clusterCreateArgv(ctx.names.pve.clusterName, first.ip), { timeoutMs: 5 * 60_000, onOutput: progressOutput(ctx, first.name), signal: ctx.signal });
    await waitForCluster(ctx, first.name, first.name, 120_000);
  },
  async undo() {}, // `down` deletes the nodes
  describe: (ctx) => [`pvecm create ${ctx.names.pve.clusterName} --link0 ${firstNode(ctx).ip}   # on ${firstNode(ctx).name}`],
};

/**
 * Joins `node` (index ≥ 1) via the first node. Gate: the previous node must already be a member, so
 * joins happen strictly one after the other, as Proxmox requires.
 */
export function clusterJoinStep(node: NodeNames, previous: NodeNames): Step {
  const inspect = async (ctx: StepContext): Promise<StepStatus> => {
    const want = ctx.names.pve.clusterName;
    const own = await clusterStatus(ctx, node.name);
    if (own.cluster) {
      if (own.cluster.name !== want) return otherCluster(node.name, own.cluster.name, want);
      return { kind: 'done', detail: `${node.name} is a member of ${want}` };
    }
    const first = firstNode(ctx);
    const fs = await clusterStatus(ctx, first.name);
    if (fs.nodes.some((n) => n.name === node.name))
      return {
        kind: 'drift',
        detail: `cluster ${want} already lists ${node.name}, but ${node.name} itself is in no cluster (was it reinstalled?)`,
        hint: `remove the stale member with \`pvecm delnode ${node.name}\` on ${first.name}, then run \`pvelab up\` again`,
      };
    if (!fs.cluster || fs.cluster.name !== want) return { kind: 'todo', reason: `waiting for cluster ${want} on ${first.name}` };
    if (!fs.nodes.some((n) => n.name === previous.name)) return { kind: 'todo', reason: `waiting for ${previous.name} to join first` };
    return { kind: 'todo', reason: `${node.name} joins ${want} via ${first.name}` };
  };
  return {
    id: `pve.cluster-join.${node.name}`,
    title: `Joining ${node.name} to the cluster`,
    check: inspect,
    async apply(ctx) {
      const st = await inspect(ctx);
      if (st.kind === 'drift') throw new LabError(st.detail, { hint: st.hint });
      if (st.kind === 'done') return;
      const first = firstNode(ctx);
      const fs = await clusterStatus(ctx, first.name);
      if (!fs.cluster || !fs.nodes.some((n) => n.name === previous.name && n.online))
        throw new LabError(`cannot join ${node.name} yet: ${previous.name} is not an online member of the cluster (${describeClusterStatus(fs, [previous.name])})`, {
          hint: 'the cluster steps run in order; run `pvelab up` again to resume there',
        });
      const fp = joinFingerprint(parseJoinInfo(await pveshOf(ctx, first.name).get('/cluster/config/join')), first.name);
      const { rootPassword } = await ctx.state.secrets();
      await runnerOf(ctx, node.name).run(clusterJoinArgv(first.ip, node.ip, fp), {
        input: clusterJoinInput(rootPassword),
        timeoutMs: 10 * 60_000,
        onOutput: progressOutput(ctx, node.name),
        signal: ctx.signal,
      });
      await waitForCluster(ctx, node.name, node.name, ctx.lab.timeouts.quorumS * 1000);
    },
    async undo() {},
    describe: (ctx) => [`pvecm add ${firstNode(ctx).ip} --link0 ${node.ip} --fingerprint <sha256 of ${firstNode(ctx).name}'s certificate>   # on ${node.name}, root password on stdin`],
  };
}

export const clusterQuorumStep: Step = {
  id: 'pve.cluster-quorum',
  title: 'Waiting for a quorate cluster with every node online',
  async check(ctx) {
    const first = firstNode(ctx);
    const expected = ctx.names.nodes.map((n) => n.name);
    const s = await clusterStatus(ctx, first.name);
    return isHealthyCluster(s, ctx.names.pve.clusterName, expected) ? { kind: 'done', detail: describeClusterStatus(s, expected) } : { kind: 'todo', reason: describeClusterStatus(s, expected) };
  },
  async apply(ctx) {
    const first = firstNode(ctx);
    const expected = ctx.names.nodes.map((n) => n.name);
    await waitFor(
      async () => {
        const s = await clusterStatus(ctx, first.name);
        const seen = describeClusterStatus(s, expected);
        ctx.progress(seen);
        return isHealthyCluster(s, ctx.names.pve.clusterName, expected) ? { done: true, value: undefined } : { done: false, seen };
      },
      { what: `cluster ${ctx.names.pve.clusterName} to be quorate with ${expected.join(', ')} online`, timeoutMs: ctx.lab.timeouts.quorumS * 1000, intervalMs: 2000, signal: ctx.signal, hint: 'corosync needs UDP 5405-5412 between the nodes; `pvecm status` on a node shows the membership' },
    );
  },
  async undo() {},
  describe: () => ['pvesh get /cluster/status --output-format json   # until quorate and all nodes online'],
};

/** The cluster steps in order: create, one join per further node, quorum. */
export function clusterSteps(nodes: readonly NodeNames[]): Step[] {
  const joins = nodes.slice(1).map((n, i) => clusterJoinStep(n, nodes[i]!));
  return [clusterCreateStep, ...joins, clusterQuorumStep];
}
