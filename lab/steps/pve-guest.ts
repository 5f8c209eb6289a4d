// The Apache guest: template on the first node (online: newest via pveam; offline: the Apache
// template from the host cache, over SFTP), container <vmid> with the lab's static IP and MAC on the
// chosen storage, Apache + an index page naming the guest. The guest may have moved under HA, so
// every step finds it through /cluster/resources instead of assuming the first node.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError, PreflightError } from '../core/errors.js';
import { need, type Step, type StepContext, type StepStatus } from '../core/step.js';
import { waitFor } from '../core/wait.js';
import {
  INDEX_PATH, TEMPLATE_DIR, guestConfigDiff, guestSpec, indexPage, locateGuest, newestApacheTemplate, newestTemplate, parsePveamAvailable, pctCreateArgv, pctExec, templateCacheDir, templateFiles,
} from '../pve/guest.js';
import { APT_UPDATE_STRICT, aptInstall, isInstalled } from '../pve/node.js';
import { firstNode, isOnline, progressOutput, pveshOf, runnerOf } from './pve-common.js';

export const GUEST_KEYS_FILE = '/root/.pvelab/guest-authorized-keys';

async function cachedFiles(ctx: StepContext): Promise<string[]> {
  return readdir(templateCacheDir(ctx.names)).catch(() => []);
}

/** The template the guest is created from: online the newest standard one, offline the cached Apache one. */
async function wantedTemplate(ctx: StepContext): Promise<{ file: string; present: boolean } | undefined> {
  const first = firstNode(ctx).name;
  const onNode = templateFiles(await pveshOf(ctx, first).get(`/nodes/${first}/storage/local/content`, { content: 'vztmpl' }));
  if (isOnline(ctx.lab)) {
    const file = newestTemplate(onNode, ctx.lab.guest.template);
    return file ? { file, present: true } : undefined;
  }
  const file = newestApacheTemplate(await cachedFiles(ctx), ctx.lab.guest.template);
  return file ? { file, present: onNode.includes(file) } : undefined;
}

export const guestTemplateStep: Step = {
  id: 'pve.guest-template',
  title: 'Fetching the container template',
  async check(ctx) {
    const w = await wantedTemplate(ctx);
    if (!w) return { kind: 'todo', reason: isOnline(ctx.lab) ? `no ${ctx.lab.guest.template} template on ${firstNode(ctx).name}` : `no cached Apache template in ${templateCacheDir(ctx.names)}` };
    return w.present ? { kind: 'done', detail: w.file } : { kind: 'todo', reason: `upload ${w.file} from the host cache` };
  },
  async apply(ctx) {
    const first = firstNode(ctx).name;
    const run = runnerOf(ctx, first);
    if (isOnline(ctx.lab)) {
      await run.run(['pveam', 'update'], { timeoutMs: 5 * 60_000, signal: ctx.signal });
      const available = parsePveamAvailable((await run.run(['pveam', 'available', '--section', 'system'])).stdout).map((t) => t.template);
      const file = newestTemplate(available, ctx.lab.guest.template);
      if (!file) throw new LabError(`no template named ${ctx.lab.guest.template}_* is available from Proxmox`, { hint: 'set guest.template to a prefix listed by `pveam available --section system`' });
      await run.run(['pveam', 'download', 'local', file], { timeoutMs: 30 * 60_000, onOutput: progressOutput(ctx, first), signal: ctx.signal });
      return;
    }
    const w = await wantedTemplate(ctx);
    if (!w)
      throw new PreflightError(`the lab is offline and the host has no Apache template in ${templateCacheDir(ctx.names)}`, {
        hint: 'run `pvelab up` once with guest.offline: false (it builds and caches the template), then go offline',
      });
    ctx.progress(`uploading ${w.file} to ${first}`);
    await need(ctx, 'nodes').upload(first, join(templateCacheDir(ctx.names), w.file), `${TEMPLATE_DIR}/${w.file}`);
  },
  async undo() {},
  describe: (ctx) => (isOnline(ctx.lab) ? ['pveam update', `pveam download local <newest ${ctx.lab.guest.template}_*>`] : [`sftp ${templateCacheDir(ctx.names)}/pvelab-apache_* → ${firstNode(ctx).name}:${TEMPLATE_DIR}/`]),
};

/** Where the guest is (undefined when it does not exist). */
export async function findGuest(ctx: StepContext): Promise<ReturnType<typeof locateGuest>> {
  return locateGuest(await pveshOf(ctx, firstNode(ctx).name).get('/cluster/resources', { type: 'vm' }), ctx.names.guest.vmid);
}

async function inspectGuest(ctx: StepContext): Promise<StepStatus> {
  const vmid = ctx.names.guest.vmid;
  const g = await findGuest(ctx);
  if (!g) return { kind: 'todo', reason: `container ${vmid} does not exist` };
  const fix = { hint: `guest.vmid ${vmid} is taken by something else: remove it (\`pct destroy ${vmid}\` on ${g.node}) or choose another guest.vmid` };
  if (g.type !== 'lxc') return { kind: 'drift', detail: `${vmid} on ${g.node} is a ${g.type}, not a container`, ...fix };
  const diffs = guestConfigDiff(await pveshOf(ctx, g.node).get(`/nodes/${g.node}/lxc/${vmid}/config`), guestSpec(ctx.lab, ctx.names));
  if (diffs.length) return { kind: 'drift', detail: `container ${vmid} on ${g.node} differs from the lab: ${diffs.join('; ')}`, ...fix };
  return { kind: 'done', detail: `container ${vmid} (${ctx.names.guest.hostname}) on ${g.node}, ${g.status}` };
}

export const guestCreateStep: Step = {
  id: 'pve.guest-create',
  title: 'Creating the web container',
  check: inspectGuest,
  async apply(ctx) {
    const st = await inspectGuest(ctx);
    if (st.kind === 'drift') throw new LabError(st.detail, { hint: st.hint });
    if (st.kind === 'done') return;
    const first = firstNode(ctx).name;
    const w = await wantedTemplate(ctx);
    if (!w?.present) throw new LabError(`no container template on ${first}`, { hint: 'the template step runs first; run `pvelab up` again' });
    await need(ctx, 'nodes').upload(first, `${ctx.state.sshKeyPath}.pub`, GUEST_KEYS_FILE, 0o600);
    await runnerOf(ctx, first).run(pctCreateArgv(ctx.lab, ctx.names, w.file, GUEST_KEYS_FILE), { timeoutMs: 15 * 60_000, onOutput: progressOutput(ctx, first), signal: ctx.signal });
  },
  async undo() {},
  describe: (ctx) => [pctCreateArgv(ctx.lab, ctx.names, `<${ctx.lab.guest.template} template>`, GUEST_KEYS_FILE).join(' ')],
};

/** Starts the guest if needed (an HA-managed one is started through HA by pct itself) and waits until it answers `pct exec`. */
async function runningGuest(ctx: StepContext): Promise<string> {
  const vmid = ctx.names.guest.vmid;
  const g = await findGuest(ctx);
  if (!g) throw new LabError(`container ${vmid} does not exist`, { hint: 'run `pvelab up` again; the create step comes first' });
  if (g.status !== 'running') await runnerOf(ctx, g.node).run(['pct', 'start', String(vmid)], { timeoutMs: 5 * 60_000 });
  return waitFor(
    async () => {
      const cur = await findGuest(ctx);
      if (!cur || cur.status !== 'running') return { done: false, seen: cur ? `${cur.status} on ${cur.node}` : 'gone' };
      await runnerOf(ctx, cur.node).run(pctExec(vmid, ['true']), { timeoutMs: 30_000 });
      return { done: true, value: cur.node };
    },
    { what: `container ${vmid} to run`, timeoutMs: 180_000, intervalMs: 2000, signal: ctx.signal },
  );
}

async function inspectApache(ctx: StepContext): Promise<StepStatus & { node?: string; apache?: boolean }> {
  const vmid = ctx.names.guest.vmid;
  const g = await findGuest(ctx);
  if (!g) return { kind: 'todo', reason: `container ${vmid} does not exist` };
  if (g.status !== 'running') return { kind: 'todo', reason: `container ${vmid} is ${g.status}` };
  const run = runnerOf(ctx, g.node);
  const apache = isInstalled((await run.run(pctExec(vmid, ['dpkg-query', '-W', '-f=${Status}', 'apache2']), { allowExit: [1] })).stdout);
  if (!apache) return { kind: 'todo', reason: 'Apache is not installed', node: g.node, apache };
  const page = await run.run(pctExec(vmid, ['cat', INDEX_PATH]), { allowExit: [1] });
  if (page.stdout !== indexPage(ctx.names)) return { kind: 'todo', reason: 'the index page does not name the guest', node: g.node, apache };
  return { kind: 'done', detail: `Apache serves the ${ctx.names.guest.hostname} page`, node: g.node, apache };
}

export const guestApacheStep: Step = {
  id: 'pve.guest-apache',
  title: 'Installing Apache in the web container',
  check: inspectApache,
  async apply(ctx) {
    const vmid = ctx.names.guest.vmid;
    const node = await runningGuest(ctx);
    const run = runnerOf(ctx, node);
    const st = await inspectApache(ctx);
    if (!st.apache) {
      if (!isOnline(ctx.lab)) throw new LabError(`Apache is missing in container ${vmid} and the lab is offline`, { hint: `remove the container (\`pct destroy ${vmid}\`) so it is recreated from the cached Apache template` });
      await waitFor(async () => (await run.run(pctExec(vmid, [...APT_UPDATE_STRICT]), { timeoutMs: 5 * 60_000, onOutput: progressOutput(ctx, `ct ${vmid}`) }), { done: true, value: undefined }), {
        what: `apt-get update in container ${vmid}`, timeoutMs: 120_000, intervalMs: 5000, signal: ctx.signal, hint: `the container needs DNS (${ctx.names.network.dns}) and a route to the Debian mirrors`,
      });
      await run.run(pctExec(vmid, aptInstall('apache2')), { timeoutMs: 15 * 60_000, onOutput: progressOutput(ctx, `ct ${vmid}`), signal: ctx.signal });
    }
    await run.run(pctExec(vmid, ['tee', INDEX_PATH]), { input: indexPage(ctx.names) });
  },
  async undo() {},
  describe: (ctx) => [
    ...(isOnline(ctx.lab) ? [`pct exec ${ctx.names.guest.vmid} -- apt-get install -y apache2`] : []),
    `pct exec ${ctx.names.guest.vmid} -- tee ${INDEX_PATH}   # page naming ${ctx.names.guest.hostname}`,
  ],
};
