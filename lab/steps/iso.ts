// Steps: the stock Proxmox VE ISO in the cache (downloaded and verified, or the pinned --iso file),
// then its prepared partition-mode copy. Both live in the shared cache (<repo>/iso/), not in the lab,
// so undo leaves them for the next lab (delete iso/ by hand to reclaim the space).
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import { downloadVerified, formatProgress, hashFile, readSidecar, writeSidecar } from '../iso/download.js';
import { assertAutoInstallCapable } from '../iso/inspect.js';
import { checkPrepared, modeFileText, MODE_FILE_PATH, prepareIso } from '../iso/prepare.js';
import { isoSource } from '../iso/source.js';

const exists = (p: string) => stat(p).then(() => true, () => false);

export const isoFetchStep: Step = {
  id: 'iso.fetch',
  title: 'Fetching the Proxmox VE ISO',
  async check(ctx: StepContext): Promise<StepStatus> {
    const src = await isoSource(ctx);
    if (src.pinned) {
      await assertAutoInstallCapable(ctx.host, src.path);
      return { kind: 'done', detail: `pinned ${src.path} (Proxmox VE ${src.release.id})` };
    }
    const recorded = await readSidecar(src.path);
    if (!(await exists(src.path))) return { kind: 'todo', reason: `Proxmox VE ${src.release.id} is not in the cache yet` };
    if (!recorded) return { kind: 'todo', reason: `${basename(src.path)} has not been verified` };
    if (src.download && recorded !== src.download.sha256)
      return { kind: 'todo', reason: `${basename(src.path)} differs from the mirror's SHA256SUMS` };
    return { kind: 'done', detail: `${src.path} (Proxmox VE ${src.release.id}, verified)` };
  },
  async apply(ctx) {
    const src = await isoSource(ctx);
    const d = src.download;
    if (!d) throw new LabError(`no download source for Proxmox VE ${src.release.id}`, { hint: 'check pve.isoMirror and the network' });
    if (await exists(src.path)) {
      // A file without (or with a stale) sidecar: keep it if it is the right one, else fetch it again.
      ctx.progress(`verifying the cached ${basename(src.path)}`);
      if ((await hashFile(src.path, undefined, ctx.signal)).digest('hex') === d.sha256) return writeSidecar(src.path, d.sha256);
      await rm(src.path, { force: true });
      await rm(`${src.path}.sha256`, { force: true });
    }
    ctx.progress(`downloading ${d.url}`);
    const r = await downloadVerified({
      url: d.url,
      dest: src.path,
      sha256: d.sha256,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(`${basename(src.path)} ${formatProgress(p)}`),
      onRetry: (reason, attempt, delay) => ctx.log.warn(`download interrupted (${reason}); retry ${attempt} in ${Math.round(delay / 1000)} s, resuming`),
    });
    ctx.log.v(1, `downloaded ${r.bytes} bytes in ${r.attempts} attempt(s), ${r.resumes} resumed`);
  },
  async describe(ctx) {
    const src = await isoSource(ctx);
    const d = src.download;
    return d ? [`download ${d.url} → ${src.path} (resume: ${src.path}.part; expect sha256 ${d.sha256})`] : [];
  },
};

export const isoPrepareStep: Step = {
  id: 'iso.prepare',
  title: 'Preparing the ISO for automated installation',
  async check(ctx) {
    const src = await isoSource(ctx);
    if (!(await exists(src.path))) return { kind: 'todo', reason: `the stock ISO ${src.path} is not there yet` };
    const st = await checkPrepared(ctx.host, src.path, src.prepared, src.release);
    return st.ok ? { kind: 'done', detail: src.prepared } : { kind: 'todo', reason: st.reason };
  },
  async apply(ctx) {
    const src = await isoSource(ctx);
    ctx.progress(`copying ${basename(src.path)} and adding ${MODE_FILE_PATH}`);
    await prepareIso(ctx.host, src.path, src.prepared, src.release);
  },
  async describe(ctx) {
    const src = await isoSource(ctx);
    const mode = modeFileText(src.release).replace(/\n/g, '\\n');
    return [
      `xorriso -indev ${src.path} -find /auto-installer-capable`,
      `UUID=$(xorriso -indev ${src.path} -report_system_area cmd | awk '/^-volume_date uuid/{print $3}')`,
      `cp ${src.path} ${src.prepared}.tmp   # auto-installer-mode.toml = "${mode}"`,
      `xorriso -boot_image any keep -volume_date uuid "$UUID" -dev ${src.prepared}.tmp -map auto-installer-mode.toml ${MODE_FILE_PATH}`,
      `mv ${src.prepared}.tmp ${src.prepared}`,
    ];
  },
};
