// Shared by the storage steps: the lab's host-storage spec, the CHAP secret, and the preflight rules
// (backing directory, free space, portal address; the LUN-vs-root-LVs size is a lab-file rule). Preflight problems are collected and
// thrown as one PreflightError before anything is created.
import { randomBytes } from 'node:crypto';
import { CommandError, PreflightError } from '../core/errors.js';
import type { StepContext } from '../core/step.js';
import { need } from '../core/step.js';
import { GiB, chapUserOf, hostStorage, type HostStorage, type ImageSpec } from '../storage/spec.js';
import '../storage/services.js';

export const specOf = (ctx: StepContext): HostStorage => hostStorage(ctx.lab, ctx.names);

/** Human size: whole or one-decimal GiB, MiB below 1 GiB. */
export const gib = (bytes: number): string =>
  bytes < GiB && bytes > 0 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${(bytes / GiB).toFixed(bytes % GiB === 0 ? 0 : 1)} GiB`;

/**
 * The lab's CHAP credentials, or undefined when storage.chap is off. `create` generates the secret once
 * (kept 0600 in the lab's secrets file and registered for masking); without it a missing secret
 * returns undefined so check() stays read-only.
 */
export async function chapOf(ctx: StepContext, create: boolean): Promise<{ user: string; password: string } | undefined> {
  if (!ctx.lab.storage.chap) return undefined;
  const user = chapUserOf(ctx.names);
  let s = await ctx.state.secrets();
  if (!s.chapPassword) {
    if (!create) return undefined;
    // 16 characters: the length every common initiator accepts (some insist on 12-16). Only the secret is
    // stored: the user name is derived, and everything in the secrets file is masked in output.
    s = await ctx.state.updateSecrets({ chapPassword: randomBytes(12).toString('base64url') });
  }
  return { user, password: s.chapPassword! };
}

/** IPv4 addresses on host interfaces (`ip -j -4 addr show`). */
export async function hostAddresses(ctx: StepContext): Promise<string[]> {
  const r = await ctx.host.run(['ip', '-j', '-4', 'addr', 'show']);
  const rows = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string }[] }[];
  return rows.flatMap((x) => (x.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : [])));
}

/** The portal must be a host address, or the lab bridge's address (present once the network step ran). */
export async function portalProblem(ctx: StepContext): Promise<string | undefined> {
  const portal = ctx.names.iscsi.portal;
  if (portal === ctx.names.network.gateway) return undefined;
  if ((await hostAddresses(ctx)).includes(portal)) return undefined;
  return `the iSCSI portal ${portal} is not an address of this host nor the lab bridge address ${ctx.names.network.gateway}`;
}

/**
 * Problems with the directory the images go to: missing (only the default one is created for you),
 * not a directory, read-only, or too small for any single image still to be made.
 */
export async function imagesDirProblems(ctx: StepContext, images: readonly ImageSpec[]): Promise<string[]> {
  const img = need(ctx, 'images');
  const base = ctx.lab.storage.dir;
  let dir = ctx.names.imagesDir;
  let p = await img.probeDir(dir);
  if (!p.exists) {
    if (base === undefined) return []; // the default directory under the lab's state dir: created by apply
    // the lab's own directory inside storage.dir is created by apply; storage.dir itself must exist
    dir = base;
    p = await img.probeDir(dir);
    if (!p.exists) return [`storage.dir ${dir} does not exist`];
  }
  if (!p.isDir) return [`storage.dir ${dir} is not a directory`];
  if (!p.writable) return [`the image directory ${dir} is read-only`];
  const out: string[] = [];
  for (const i of images) {
    if ((await img.stat(i.path)).exists) continue;
    if (p.availBytes !== undefined && i.sizeBytes > p.availBytes)
      out.push(`${i.path} would be ${gib(i.sizeBytes)} but only ${gib(p.availBytes)} is free in ${dir}`);
  }
  return out;
}


export async function storageProblems(ctx: StepContext): Promise<string[]> {
  const spec = specOf(ctx);
  const out = await imagesDirProblems(ctx, spec.images);
  const portal = await portalProblem(ctx);
  if (portal) out.push(portal);
  return out;
}

export function preflightError(problems: readonly string[]): PreflightError {
  return new PreflightError(
    problems.length === 1 ? `host storage: ${problems[0]}` : `host storage has ${problems.length} problems:\n${problems.map((p) => `  ✗ ${p}`).join('\n')}`,
    { hint: 'fix storage.dir / storage.lunGiB / nodeDefaults.rootGiB in the lab file (or free space), then run `pvelab up` again; nothing was created' },
  );
}

/** Throws the PreflightError for `problems`, if any. */
export function assertNoProblems(problems: readonly string[]): void {
  if (problems.length > 0) throw preflightError(problems);
}

/**
 * Runs an undo body unless the tool it needs is not installed: then nothing of ours can exist through
 * it (`down` after an `up` that stopped before the packages were there).
 */
export async function unlessMissingTool(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof CommandError && /is not installed/.test(err.message)) return;
    throw err;
  }
}
