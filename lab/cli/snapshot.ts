// pvelab snapshot save [NAME] | list | rm NAME, and pvelab reset [NAME]: the golden snapshot of a
// built lab and the class reset back to it (quorate and serving again, checked and said).
import type { Command } from 'commander';
import type { AppContext, LoadedLab } from './app.js';
import { LabError } from '../core/errors.js';
import type { Services, Step, StepContext } from '../core/step.js';
import { ownedDomains } from '../libvirt/owned.js';
import { labDisks } from '../snapshot/lab-disks.js';
import { releaseSharedStorage, stopNodes } from '../snapshot/lifecycle.js';
import { listSnapshots, readManifest, removeSnapshot, restoreSnapshot, saveSnapshot } from '../snapshot/store.js';
import { labHash } from '../steps/identity.js';
import { labSteps } from '../steps/index.js';
import { collectStatus } from '../status/collect.js';
import { openServices } from './services.js';
import { runPipeline } from './run-steps.js';

const bytes = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;

/** Runs `fn` holding the lab's lock with open services and a StepContext outside the pipeline. */
async function withLab<T>(app: AppContext, command: string, fn: (l: LoadedLab, ctx: StepContext, services: Partial<Services>) => Promise<T>): Promise<T> {
  const loaded = await app.loadLab();
  const release = await loaded.state.lock(command);
  const services = await openServices(app, loaded);
  try {
    const step: Step = { id: command, title: command, check: async () => ({ kind: 'done' }), apply: async () => {} };
    const ctx = app.stepContext(loaded, services.value)(step, (t) => app.log.info(`  ${t}`));
    const j = await loaded.state.readJournal();
    if (!j?.configHash || (await ownedDomains(ctx.services.libvirt!, loaded.lab.name)).length === 0)
      throw new LabError(`lab "${loaded.lab.name}" is not built`, { hint: 'build it first with `pvelab up`' });
    return await fn(loaded, ctx, services.value);
  } finally {
    await services.close();
    await release();
  }
}

/** After a reset: the lab must be quorate and the guest serving; says so, or fails saying what is not. */
async function confirmHealthy(app: AppContext, l: LoadedLab, services: Partial<Services>): Promise<string> {
  const s = await collectStatus(l.lab, l.names, services, { deadlineMs: 3000 });
  const problems: string[] = [];
  if (!s.cluster.ok || !s.cluster.value.quorate) problems.push(`cluster: ${s.cluster.ok ? 'not quorate' : s.cluster.reason}`);
  if (!s.guest.ok || s.guest.value.status !== 200) problems.push(`guest: ${s.guest.ok ? `HTTP ${s.guest.value.status}` : s.guest.reason}`);
  if (problems.length) throw new LabError(`the lab came back but is not healthy: ${problems.join('; ')}`, { hint: 'see `pvelab status`; `pvelab up` converges it again' });
  return `cluster ${s.cluster.ok ? s.cluster.value.name : ''} quorate, ${l.names.guest.haSid} ${s.ha.ok && s.ha.value ? `${s.ha.value.state} on ${s.ha.value.node}` : ''}, ${l.names.guest.ip} answers HTTP 200`;
}

export function register(program: Command, app: AppContext): void {
  const snap = program.command('snapshot').description('golden snapshots of the built lab (for fast class resets)');

  snap
    .command('save [name]')
    .description('stop the nodes cleanly, keep a point-in-time copy of every lab disk (reflinks where possible), start the lab again')
    .action(async (name = 'golden') => {
      await withLab(app, 'pvelab snapshot save', async (l, ctx, services) => {
        const t0 = performance.now();
        await stopNodes(ctx, 'clean');
        await ctx.host.run(['sync']);
        const m = await saveSnapshot({ host: ctx.host, imagesDir: l.names.imagesDir, lab: l.lab.name, labHash: labHash(l.lab), name, disks: labDisks(l.lab, l.names), onProgress: ctx.progress });
        const took = (performance.now() - t0) / 1000;
        app.log.info(`✓ snapshot "${name}" saved in ${took.toFixed(1)} s (${m.mode}, ${m.files.length} disks, ${bytes(m.files.reduce((s, f) => s + f.allocatedBytes, 0))} allocated); starting the lab again`);
        await runPipeline(app, l, labSteps(l.lab, l.names), 'up', 'pvelab snapshot save', { services });
        if (app.options().json) app.print(JSON.stringify({ ...m, seconds: took }, null, 2));
      });
    });

  snap
    .command('list')
    .description('list the snapshots of the lab')
    .action(async () => {
      const l = await app.loadLab();
      const all = await listSnapshots(l.names.imagesDir);
      if (app.options().json) return app.print(JSON.stringify(all, null, 2));
      app.print(all.length ? all.map((m) => `${m.name.padEnd(16)} ${m.createdAt}  ${m.mode}  ${m.files.length} disks`).join('\n') : 'no snapshots (take one with `pvelab snapshot save`)');
    });

  snap
    .command('rm <name>')
    .description('delete a snapshot')
    .action(async (name: string) => {
      const l = await app.loadLab();
      if (!(await readManifest(l.names.imagesDir, name))) throw new LabError(`no snapshot "${name}"`, { hint: 'see `pvelab snapshot list`' });
      await removeSnapshot(l.names.imagesDir, name);
    });

  program
    .command('reset [name]')
    .description('bring the lab back to a snapshot (default "golden") and start it: quorate and serving, checked')
    .action(async (name = 'golden') => {
      await withLab(app, 'pvelab reset', async (l, ctx, services) => {
        if (!(await readManifest(l.names.imagesDir, name))) throw new LabError(`no snapshot "${name}"`, { hint: 'take one with `pvelab snapshot save` after `pvelab up`' });
        const t0 = performance.now();
        await stopNodes(ctx, 'now');
        await releaseSharedStorage(ctx);
        await restoreSnapshot({ host: ctx.host, imagesDir: l.names.imagesDir, name, labHash: labHash(l.lab), onProgress: ctx.progress });
        const disks = (performance.now() - t0) / 1000;
        await runPipeline(app, l, labSteps(l.lab, l.names), 'up', 'pvelab reset', { services });
        const health = await confirmHealthy(app, l, services);
        const total = (performance.now() - t0) / 1000;
        app.log.info(`✓ lab reset to "${name}" in ${total.toFixed(1)} s (disks ${disks.toFixed(1)} s): ${health}`);
        if (app.options().json) app.print(JSON.stringify({ snapshot: name, seconds: total, diskSeconds: disks, health }, null, 2));
      });
    });
}
