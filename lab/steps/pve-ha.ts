// HA for the guest, by release: PVE 8 → group "<haGroup>" with node priorities + resource in the group;
// PVE 9 → resource + node-affinity rule "<haRule>" (groups are migrated to rules there). Replication
// jobs to every other node when the guest lives on ZFS. Last, wait until HA reports the service
// started and its page answers over HTTP from the host.
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { waitFor } from '../core/wait.js';
import { type HttpAnswer, httpGet, pageNamesGuest } from '../pve/guest.js';
import {
  HA_STATUS_ARGV, canonicalNodes, findHaGroup, findHaResource, findHaRule, haAddArgv, haGroupAddArgv, haGroupSetArgv, haRuleAddArgv, haRuleSetArgv, haSetArgv, missingReplicationTargets,
  nextJobNumber, nodePriorities, parseHaStatusText, replicationCreateArgv, replicationJobs,
} from '../pve/ha.js';
import { andList, clusterRelease, firstNode, pveshOf, runnerOf } from './pve-common.js';
import { findGuest } from './pve-guest.js';

declare module '../core/step.js' {
  interface Services {
    /** GET for the guest's page (default: fetch from the host). Tests may route it elsewhere. */
    guestHttp: (url: string) => Promise<HttpAnswer>;
  }
}

interface HaPlan {
  major: number;
  resource?: { state: string; group?: string };
  /** PVE 8: group nodes; PVE 9: rule. */
  group?: { nodes: string };
  rule?: { type: string; resources: string; nodes: string; disabled: boolean };
}

async function readHa(ctx: StepContext): Promise<HaPlan> {
  const p = pveshOf(ctx, firstNode(ctx).name);
  const { major } = await clusterRelease(ctx);
  const plan: HaPlan = { major };
  const res = findHaResource(await p.get('/cluster/ha/resources'), ctx.names.guest.haSid);
  if (res) plan.resource = res.group ? { state: res.state, group: res.group } : { state: res.state };
  if (major >= 9) {
    const rule = findHaRule(await p.get('/cluster/ha/rules'), ctx.names.pve.haRule);
    if (rule) plan.rule = rule;
  } else {
    const group = findHaGroup(await p.get('/cluster/ha/groups'), ctx.names.pve.haGroup);
    if (group) plan.group = group;
  }
  return plan;
}

function haStatus(ctx: StepContext, h: HaPlan): StepStatus {
  const n = ctx.names;
  const want = canonicalNodes(nodePriorities(n));
  const todo: string[] = [];
  if (!h.resource) todo.push(`${n.guest.haSid} is not an HA resource`);
  else if (h.resource.state !== 'started') todo.push(`${n.guest.haSid} is requested ${h.resource.state}`);
  if (h.major >= 9) {
    if (!h.rule) todo.push(`no node-affinity rule ${n.pve.haRule}`);
    else if (h.rule.type !== 'node-affinity') return { kind: 'drift', detail: `HA rule ${n.pve.haRule} is a ${h.rule.type} rule`, hint: `remove it (\`ha-manager rules remove ${n.pve.haRule}\`) and run again` };
    else if (h.rule.nodes !== want || h.rule.resources !== n.guest.haSid || h.rule.disabled) todo.push(`rule ${n.pve.haRule} is "${h.rule.resources}" on "${h.rule.nodes}"${h.rule.disabled ? ' (disabled)' : ''}, want ${n.guest.haSid} on ${want}`);
  } else {
    if (!h.group) todo.push(`no HA group ${n.pve.haGroup}`);
    else if (h.group.nodes !== want) todo.push(`group ${n.pve.haGroup} has nodes ${h.group.nodes}, want ${want}`);
    if (h.resource && h.resource.group !== n.pve.haGroup) todo.push(`${n.guest.haSid} is in group ${h.resource.group ?? 'none'}`);
  }
  return todo.length ? { kind: 'todo', reason: todo.join('; ') } : { kind: 'done', detail: `${n.guest.haSid} started under HA (${h.major >= 9 ? `rule ${n.pve.haRule}` : `group ${n.pve.haGroup}`})` };
}

export const haResourceStep: Step = {
  id: 'pve.ha-resource',
  title: 'Putting the web container under HA',
  check: async (ctx) => haStatus(ctx, await readHa(ctx)),
  async apply(ctx) {
    const n = ctx.names;
    const h = await readHa(ctx);
    const st = haStatus(ctx, h);
    if (st.kind === 'drift') throw new LabError(st.detail, { hint: st.hint });
    const run = runnerOf(ctx, firstNode(ctx).name);
    const nodes = nodePriorities(n);
    if (h.major >= 9) {
      if (!h.resource) await run.run(haAddArgv(n.guest.haSid));
      else if (h.resource.state !== 'started') await run.run(haSetArgv(n.guest.haSid));
      if (!h.rule) await run.run(haRuleAddArgv(n.pve.haRule, n.guest.haSid, nodes));
      else if (h.rule.nodes !== canonicalNodes(nodes) || h.rule.resources !== n.guest.haSid || h.rule.disabled) await run.run([...haRuleSetArgv(n.pve.haRule, n.guest.haSid, nodes), '--disable', '0']);
      return;
    }
    if (!h.group) await run.run(haGroupAddArgv(n.pve.haGroup, nodes));
    else if (h.group.nodes !== canonicalNodes(nodes)) await run.run(haGroupSetArgv(n.pve.haGroup, nodes));
    if (!h.resource) await run.run(haAddArgv(n.guest.haSid, n.pve.haGroup));
    else if (h.resource.state !== 'started' || h.resource.group !== n.pve.haGroup) await run.run(haSetArgv(n.guest.haSid, n.pve.haGroup));
  },
  async undo() {},
  async describe(ctx) {
    const n = ctx.names;
    const v = await clusterRelease(ctx).catch(() => undefined);
    const nine = [haAddArgv(n.guest.haSid), haRuleAddArgv(n.pve.haRule, n.guest.haSid, nodePriorities(n))];
    const eight = [haGroupAddArgv(n.pve.haGroup, nodePriorities(n)), haAddArgv(n.guest.haSid, n.pve.haGroup)];
    const show = (a: string[][]) => a.map((x) => x.join(' '));
    if (!v) return [...show(eight).map((s) => `${s}   # PVE 8`), ...show(nine).map((s) => `${s}   # PVE 9`)];
    return show(v.major >= 9 ? nine : eight);
  },
};

async function replicationState(ctx: StepContext): Promise<{ current: string; missing: string[]; next: number }> {
  const g = await findGuest(ctx);
  if (!g) throw new LabError(`container ${ctx.names.guest.vmid} does not exist`);
  const jobs = replicationJobs(await pveshOf(ctx, firstNode(ctx).name).get('/cluster/replication'), ctx.names.guest.vmid);
  return { current: g.node, missing: missingReplicationTargets(jobs, ctx.names.nodes.map((x) => x.name), g.node), next: nextJobNumber(jobs) };
}

/** Only in the pipeline when guest.storage is zfs. */
export const replicationStep: Step = {
  id: 'pve.replication',
  title: 'Replicating the container to the other nodes (ZFS)',
  async check(ctx) {
    const r = await replicationState(ctx);
    return r.missing.length ? { kind: 'todo', reason: `no replication job to ${andList(r.missing)}` } : { kind: 'done', detail: `replicated from ${r.current} to every other node` };
  },
  async apply(ctx) {
    const r = await replicationState(ctx);
    let job = r.next;
    for (const target of r.missing) {
      await runnerOf(ctx, r.current).run(replicationCreateArgv(ctx.names.guest.vmid, job, target));
      job++;
    }
  },
  async undo() {},
  describe: (ctx) => ctx.names.nodes.slice(1).map((t, i) => replicationCreateArgv(ctx.names.guest.vmid, i, t.name).join(' ')),
};

async function probeServing(ctx: StepContext): Promise<{ ok: boolean; seen: string }> {
  const n = ctx.names;
  const st = parseHaStatusText((await runnerOf(ctx, firstNode(ctx).name).run(HA_STATUS_ARGV)).stdout);
  const svc = st.services.find((s) => s.sid === n.guest.haSid);
  if (!svc || svc.state !== 'started') return { ok: false, seen: svc ? `HA: ${svc.sid} ${svc.state} on ${svc.node}` : `HA: ${n.guest.haSid} not listed` };
  const url = `http://${n.guest.ip}/`;
  const get = ctx.services.guestHttp ?? httpGet;
  const page = await get(url).catch((err: unknown) => ({ status: 0, body: String(err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : err) }));
  if (page.status !== 200 || !pageNamesGuest(page.body, n)) return { ok: false, seen: `HA started on ${svc.node}; ${url} → ${page.status || page.body}` };
  return { ok: true, seen: `HA started on ${svc.node}; ${url} serves the ${n.guest.hostname} page` };
}

export const haServingStep: Step = {
  id: 'pve.ha-serving',
  title: 'Waiting for HA to start the container and its page to answer',
  async check(ctx) {
    const p = await probeServing(ctx);
    return p.ok ? { kind: 'done', detail: p.seen } : { kind: 'todo', reason: p.seen };
  },
  async apply(ctx) {
    await waitFor(
      async () => {
        const p = await probeServing(ctx);
        ctx.progress(p.seen);
        return p.ok ? { done: true, value: undefined } : { done: false, seen: p.seen };
      },
      { what: `HA to start ${ctx.names.guest.haSid} and http://${ctx.names.guest.ip}/ to answer`, timeoutMs: ctx.lab.timeouts.haS * 1000, intervalMs: 2000, signal: ctx.signal, hint: '`ha-manager status` on a node shows the HA view; `pct status` where the container is' },
    );
  },
  async undo() {},
  describe: (ctx) => [`ha-manager status   # until service ${ctx.names.guest.haSid} (…, started)`, `GET http://${ctx.names.guest.ip}/   # from the host`],
};
