// Step: Proxmox VE installed on every node, in parallel. Each node boots the prepared ISO with its
// answer CD, pvelab waits for the installer to power the VM off (timeouts.installS), switches the VM to
// boot from its disk (CDs ejected), starts it, waits for SSH with the lab key (timeouts.sshS) and pins
// the node's host key. Per-node flow, resume rules and the timeout policy: lab/install/node.ts and
// lab/install/report.ts.
// check(): reads the world only — each VM's boot phase (from its definition), its state, the pin in
//          the lab's known_hosts and one SSH login with the lab key against that pin. Done when every
//          node runs from its disk and answers; a node offering another host key than its pin is drift.
// apply(): converges every node at once (one progress line shows them all); waits for all of them,
//          then reports every failure together.
// undo():  nothing of its own (the domains step removes the VMs; the state dir holds the pins).
import { InterruptedError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { need } from '../core/step.js';
import type { NodeNames } from '../config/names.js';
import { rootDiskSource, rootDiskWritten } from '../install/disk.js';
import { ProgressBoard } from '../install/board.js';
import { convergeNode, type NodeDeps } from '../install/node.js';
import { phaseFacts } from '../install/phase.js';
import { NodeInstallTimeout, combinedFailure, combinedInstallTimeout } from '../install/report.js';
import { labNodeSsh, type NodeSsh } from '../install/ssh-probe.js';
import type { NodeDomainOptions } from '../libvirt/lab-views.js';

export interface InstallStepOptions {
  /** SSH prober (default: ssh2 with the lab key and known_hosts). */
  ssh?: (ctx: StepContext) => NodeSsh;
  /** Has node i's root disk been written? (default: reads the disk's head on the host) */
  diskWritten?: (ctx: StepContext, index: number) => Promise<boolean>;
  /** Extra view options for the run-phase definition; pass the same as to domainsStep(). */
  view?: (ctx: StepContext, index: number) => Partial<NodeDomainOptions>;
  sshPollMs?: number;
  /** Progress line refresh while waiting (default 60 s). */
  tickMs?: number;
}

type NodeStatus = { ready: true } | { ready: false; why: string } | { drift: string; hint: string };

async function nodeStatus(ctx: StepContext, node: NodeNames, ssh: NodeSsh): Promise<NodeStatus> {
  const lv = need(ctx, 'libvirt');
  const dom = await lv.getDomain(node.domain);
  if (!dom) return { ready: false, why: 'VM not defined yet' };
  const facts = phaseFacts(await lv.domainXml(node.domain, { inactive: true }));
  if (facts.phase === 'install') {
    const why = dom.state === 'shutoff' ? 'not installed yet' : dom.state === 'paused' ? 'an installation left paused (will start again)' : `installer ${dom.state}`;
    return { ready: false, why };
  }
  if (dom.state !== 'running') return { ready: false, why: `installed, VM ${dom.state}` };
  if (!(await ssh.pinned(node))) return { ready: false, why: 'host key not pinned yet' };
  const r = await ssh.probe(node, 'verify');
  if (r.ok) return { ready: true };
  if ('mismatch' in r) return { drift: r.mismatch.message, hint: r.mismatch.hint ?? '' };
  return { ready: false, why: `no SSH yet (${r.seen})` };
}

export function installStep(opts: InstallStepOptions = {}): Step {
  const sshOf = opts.ssh ?? ((ctx: StepContext) => labNodeSsh(ctx.state));
  const diskWritten =
    opts.diskWritten ?? ((ctx: StepContext, i: number) => rootDiskWritten(ctx.host, rootDiskSource(ctx.lab, ctx.names, i)));
  return {
    id: 'nodes.install',
    title: 'Installing Proxmox VE on the nodes',
    async check(ctx): Promise<StepStatus> {
      const ssh = sshOf(ctx);
      const all = await Promise.all(ctx.names.nodes.map(async (n) => ({ n, s: await nodeStatus(ctx, n, ssh) })));
      const drift = all.find((x) => 'drift' in x.s);
      if (drift && 'drift' in drift.s) return { kind: 'drift', detail: drift.s.drift, hint: drift.s.hint };
      const todo = all.flatMap(({ n, s }) => ('ready' in s && !s.ready ? [`${n.name}: ${s.why}`] : []));
      if (todo.length) return { kind: 'todo', reason: todo.join('; ') };
      return { kind: 'done', detail: `${ctx.names.nodes.map((n) => n.name).join(', ')} run from disk; SSH with the lab key, host keys pinned` };
    },
    async apply(ctx) {
      const board = new ProgressBoard(ctx.names.nodes.map((n) => n.name), (l) => ctx.progress(l), { tickMs: opts.tickMs });
      const deps: NodeDeps = { ssh: sshOf(ctx), board, diskWritten, view: opts.view, sshPollMs: opts.sshPollMs ?? 2000 };
      let results: PromiseSettledResult<void>[];
      try {
        results = await Promise.allSettled(ctx.names.nodes.map((_n, i) => convergeNode(ctx, i, deps)));
      } finally {
        board.close();
      }
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ node: ctx.names.nodes[i]!.name, err: r.reason as unknown }] : []));
      if (failed.length === 0) return;
      const stop = failed.find((f) => f.err instanceof InterruptedError);
      if (stop) throw stop.err;
      if (failed.length === 1) throw failed[0]!.err;
      const timeouts = failed.map((f) => f.err).filter((e): e is NodeInstallTimeout => e instanceof NodeInstallTimeout);
      if (timeouts.length === failed.length) throw combinedInstallTimeout(timeouts);
      throw combinedFailure(failed);
    },
    describe(ctx) {
      const t = ctx.lab.timeouts;
      const uri = ctx.lab.libvirt.uri;
      return [
        `# all ${ctx.names.nodes.length} nodes in parallel; a node already running from its disk and answering SSH is skipped`,
        ...ctx.names.nodes.flatMap((n) => [
          `virsh -c ${uri} start ${n.domain}   # installer CD + ${n.answerIso}; serial log ${n.serialLog}`,
          `wait until ${n.domain} is shut off (the installer powers off; at most ${t.installS} s, then it is left paused)`,
          `virsh -c ${uri} define <${n.domain} for the run phase: disk first, CD-ROMs ejected>; virsh start ${n.domain}`,
          `ssh -i ${ctx.state.sshKeyPath} root@${n.ip} true   # at most ${t.sshS} s; pin its host key in ${ctx.state.knownHostsPath}`,
        ]),
      ];
    },
  };
}
