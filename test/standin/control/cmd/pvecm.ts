// pvecm (pve-cluster CLI/pvecm.pm): create, add, status, nodes, apiver, delnode.
// Exit codes: create/add run in a sync worker without a status check -> 0 even when the task
// failed (error on stderr); `status` exits like corosync-quorumtool -s (2 when not quorate);
// not clustered -> "Error: Corosync config ... does not exist" (Corosync.pm check_conf_exists), 255.
import { membership, pvecmStatus } from '../model/corosync.js';
import { die } from '../model/perl.js';
import { type CmdSpec, type Prop, parseArgs } from './args.js';
import { abort } from './handle.js';
import type { Ctx } from './io.js';
import { assertCanCreate, createWorker, joinWorker } from './cluster-join.js';
import { syncWorker } from './worker.js';

const COMMANDS = ['add <hostname> [OPTIONS]', 'addnode <node> [OPTIONS]', 'apiver', 'create <clustername> [OPTIONS]', 'delnode <node>', 'expected <expected>', 'keygen <filename>', 'mtunnel [<extra-args>] [OPTIONS]', 'nodes', 'qdevice remove', 'qdevice setup <address> [OPTIONS]', 'status', 'updatecerts  [OPTIONS]', 'help [<extra-args>] [OPTIONS]'];

const nodeName = (v: string) => (/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v) ? undefined : 'value does not look like a valid node name');
const LINK: Prop = { optional: true };
const FP: Prop = { optional: true, pattern: /^([A-Fa-f0-9]{2}:){31}[A-Fa-f0-9]{2}$/ };

export const CREATE_PROPS: Record<string, Prop> = {
  clustername: { format: nodeName, maxLength: 15 },
  link0: LINK, link1: LINK, nodeid: { type: 'integer', optional: true, min: 1 }, votes: { type: 'integer', optional: true, min: 1 },
  'token-coefficient': { type: 'integer', optional: true, min: 0 },
};

export const JOIN_PROPS: Record<string, Prop> = {
  hostname: {}, link0: LINK, link1: LINK, nodeid: { type: 'integer', optional: true, min: 1 },
  votes: { type: 'integer', optional: true, min: 0 }, force: { type: 'boolean', optional: true }, fingerprint: FP,
};

const notClustered = () => die("Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?");

export async function pvecm(ctx: Ctx, args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  const m = ctx.m;
  switch (cmd) {
    case 'create': {
      const spec: CmdSpec = { cmd: 'pvecm create', args: ['clustername'], props: CREATE_PROPS };
      const { params } = parseArgs(spec, rest);
      assertCanCreate(ctx);
      await syncWorker(ctx, 'clustercreate', params.clustername!, (w) => createWorker(ctx, params, w));
      return 0;
    }
    case 'add': {
      const spec: CmdSpec = { cmd: 'pvecm add', args: ['hostname'], props: { ...JOIN_PROPS, use_ssh: { type: 'boolean', optional: true } } };
      const { params } = parseArgs(spec, rest);
      await syncWorker(ctx, 'clusterjoin', '', async (w) => {
        const pw = await ctx.stdin.readLine();
        if (pw === null) throw die('EOF while reading password');
        await joinWorker(ctx, { ...params, password: pw }, w);
      });
      return 0;
    }
    case 'status': {
      parseArgs({ cmd: 'pvecm status', props: {} }, rest);
      const c = m.view(ctx.node).db.corosync;
      if (!c || !m.cfs.isMember(ctx.node)) throw notClustered();
      const { out, quorate } = pvecmStatus(m, ctx.node, c);
      ctx.out(out);
      return quorate ? 0 : 2;
    }
    case 'nodes': {
      parseArgs({ cmd: 'pvecm nodes', props: {} }, rest);
      if (!m.cfs.isMember(ctx.node)) throw notClustered();
      ctx.out(membership(m, ctx.node, m.world.partitionOf(ctx.node), false));
      return 0;
    }
    case 'apiver':
      ctx.out('1\n');
      return 0;
    case 'delnode': {
      const { params } = parseArgs({ cmd: 'pvecm delnode', args: ['node'], props: { node: {} } }, rest);
      if (!m.cfs.isMember(ctx.node)) throw notClustered();
      if (params.node === ctx.node) throw die('Cannot delete myself from cluster!');
      if (!m.view(ctx.node).writable) throw die('cluster not ready - no quorum?');
      const conf = m.cfs.cluster!.corosync!;
      const i = conf.nodes.findIndex((n) => n.name === params.node || n.ring0 === params.node);
      if (i < 0) throw die(`Node/IP: ${params.node} is not a known host of the cluster.`);
      conf.nodes.splice(i, 1);
      conf.configVersion++;
      m.world.recompute();
      return 0;
    }
    case undefined:
      return abort(ctx, 'pvecm', 'no command specified', COMMANDS);
    default:
      return abort(ctx, 'pvecm', `unknown command 'pvecm ${cmd}'`, COMMANDS);
  }
}
