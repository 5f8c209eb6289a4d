// Online labs only: once the guest serves its page, dump it (vzdump, suspend mode: it keeps running)
// and keep the archive on the host as "pvelab-apache_<standard template>.tar.zst". Offline classes
// create their guest from that file (`pct create` takes a template or a backup archive), Apache inside.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { LabError } from '../core/errors.js';
import { need, type Step, type StepContext, type StepStatus } from '../core/step.js';
import { apacheTemplateName, newestTemplate, templateCacheDir, templateFiles, vzdumpArchive } from '../pve/guest.js';
import { firstNode, isOnline, progressOutput, pveshOf, runnerOf } from './pve-common.js';
import { findGuest } from './pve-guest.js';

export const DUMP_DIR = '/var/tmp/pvelab-vzdump';

async function cacheTarget(ctx: StepContext): Promise<string | undefined> {
  const first = firstNode(ctx).name;
  const std = newestTemplate(templateFiles(await pveshOf(ctx, first).get(`/nodes/${first}/storage/local/content`, { content: 'vztmpl' })), ctx.lab.guest.template);
  return std && join(templateCacheDir(ctx.names), apacheTemplateName(std));
}

export const vzdumpArgv = (vmid: number) => ['vzdump', String(vmid), '--mode', 'suspend', '--compress', 'zstd', '--dumpdir', DUMP_DIR];

export const guestCacheStep: Step = {
  id: 'pve.guest-cache',
  title: 'Caching the Apache container as a template for offline classes',
  async check(ctx): Promise<StepStatus> {
    if (!isOnline(ctx.lab)) return { kind: 'done', detail: 'offline lab: uses the cache' };
    const target = await cacheTarget(ctx);
    if (!target) return { kind: 'todo', reason: 'no standard template on the first node yet' };
    return (await stat(target).then(() => true, () => false)) ? { kind: 'done', detail: target } : { kind: 'todo', reason: `no ${target}` };
  },
  async apply(ctx) {
    const target = await cacheTarget(ctx);
    if (!target) throw new LabError('cannot name the cached template: no standard template on the first node');
    const g = await findGuest(ctx);
    if (!g) throw new LabError(`container ${ctx.names.guest.vmid} does not exist`);
    const run = runnerOf(ctx, g.node);
    await run.run(['rm', '-rf', DUMP_DIR]);
    await run.run(['mkdir', '-p', DUMP_DIR]); // vzdump refuses a missing --dumpdir
    await run.run(vzdumpArgv(ctx.names.guest.vmid), { timeoutMs: 30 * 60_000, onOutput: progressOutput(ctx, g.node), signal: ctx.signal });
    const archive = vzdumpArchive((await run.run(['ls', '-1', DUMP_DIR])).stdout, ctx.names.guest.vmid);
    await mkdir(templateCacheDir(ctx.names), { recursive: true, mode: 0o755 });
    ctx.progress(`copying ${archive} to ${target}`);
    await need(ctx, 'nodes').download(g.node, `${DUMP_DIR}/${archive}`, target);
    await run.run(['rm', '-rf', DUMP_DIR]);
  },
  // The cache outlives the lab on purpose (it is what offline classes use); `down` keeps it.
  async undo() {},
  describe: (ctx) => (isOnline(ctx.lab) ? [`${vzdumpArgv(ctx.names.guest.vmid).join(' ')}; sftp → ${templateCacheDir(ctx.names)}/`] : []),
};
