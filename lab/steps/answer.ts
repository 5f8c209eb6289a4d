// Steps: the root password's SHA-512 crypt hash (openssl passwd -6, password on stdin, kept in the
// 0600 secrets file), then one PROXMOX-AIS answer ISO per node (names.nodes[i].answerIso, 0600, in the
// lab's state dir). Every answer file is checked against the release's rules before it is written.
// nodeAnswers() / planAnswerArtefacts() are what the install step and `pvelab plan --out` use.
import { readFile, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LabError } from '../core/errors.js';
import type { Step, StepContext, StepStatus } from '../core/step.js';
import type { Runner } from '../exec/runner.js';
import { nodeAnswerInput, renderAnswer } from '../iso/answer.js';
import { buildAnswerIso, readAnswerIso, ANSWER_VOLID } from '../iso/media.js';
import { modeFileText } from '../iso/prepare.js';
import { installerProfile, release } from '../iso/release.js';
import { isoSource } from '../iso/source.js';

/** SHA-512 crypt of `password` (random salt, or the given one to verify a stored hash). */
export async function hashPassword(host: Runner, password: string, salt?: string): Promise<string> {
  const argv = ['openssl', 'passwd', '-6', ...(salt ? ['-salt', salt] : []), '-stdin'];
  const hash = (await host.run(argv, { input: `${password}\n` })).stdout.trim();
  if (!/^\$6\$[^$]+\$[./0-9A-Za-z]{86}$/.test(hash)) throw new LabError('openssl passwd -6 did not print a SHA-512 crypt hash');
  return hash;
}

async function storedHashIsValid(ctx: StepContext): Promise<boolean> {
  const s = await ctx.state.peekSecrets();
  if (!s) return false;
  const salt = /^\$6\$([^$]+)\$/.exec(s.rootPasswordHash ?? '')?.[1];
  return salt !== undefined && (await hashPassword(ctx.host, s.rootPassword, salt)) === s.rootPasswordHash;
}

export const passwordHashStep: Step = {
  id: 'answer.password',
  title: 'Hashing the root password',
  async check(ctx) {
    return (await storedHashIsValid(ctx)) ? { kind: 'done', detail: 'SHA-512 crypt hash stored' } : { kind: 'todo', reason: 'no valid hash of the root password yet' };
  },
  async apply(ctx) {
    const s = await ctx.state.secrets();
    await ctx.state.updateSecrets({ rootPasswordHash: await hashPassword(ctx.host, s.rootPassword) });
  },
  describe: (ctx) => [`openssl passwd -6 -stdin <<< (root password)  → ${ctx.state.secretsPath}`],
};

async function sshPublicKey(ctx: StepContext): Promise<string> {
  const path = `${ctx.state.sshKeyPath}.pub`;
  return readFile(path, 'utf8').catch(() => {
    throw new LabError(`the lab SSH public key ${path} is missing`, { hint: 'run `pvelab up`; the lab.keys step creates it' });
  });
}

export interface NodeAnswer {
  node: string;
  iso: string;
  text: string;
}

/** Every node's answer.toml for the lab's ISO release (checked), with its answer ISO path. */
export async function nodeAnswers(ctx: StepContext): Promise<NodeAnswer[]> {
  const src = await isoSource(ctx);
  const secrets = await ctx.state.secrets();
  if (installerProfile(src.release).hashedPassword && !secrets.rootPasswordHash)
    throw new LabError('the root password has not been hashed yet', { hint: 'run `pvelab up`; the answer.password step does it' });
  const key = await sshPublicKey(ctx);
  return ctx.names.nodes.map((n) => ({
    node: n.name,
    iso: n.answerIso,
    text: renderAnswer(nodeAnswerInput(ctx.lab, ctx.names, n, src.release, secrets, key)),
  }));
}

export const answerMediaStep: Step = {
  id: 'answer.media',
  title: "Writing each node's answer medium",
  async check(ctx) {
    const stale: string[] = [];
    for (const a of await nodeAnswers(ctx)) {
      const m = await readAnswerIso(ctx.host, a.iso);
      if (!m || m.volid !== ANSWER_VOLID || m.answer !== a.text) stale.push(a.node);
    }
    return stale.length === 0
      ? { kind: 'done', detail: `${ctx.names.nodes.length} answer ISOs` }
      : ({ kind: 'todo', reason: `answer media to write: ${stale.join(', ')}` } satisfies StepStatus);
  },
  async apply(ctx) {
    for (const a of await nodeAnswers(ctx)) {
      const m = await readAnswerIso(ctx.host, a.iso);
      if (m?.volid === ANSWER_VOLID && m.answer === a.text) continue;
      ctx.progress(`answer medium for ${a.node}`);
      await buildAnswerIso(ctx.host, a.text, a.iso);
    }
  },
  async undo(ctx) {
    for (const n of ctx.names.nodes) await rm(n.answerIso, { force: true });
    const dir = ctx.names.nodes[0] ? dirname(ctx.names.nodes[0].answerIso) : undefined;
    if (dir) await rmdir(dir).catch(() => {}); // only when empty
  },
  describe: (ctx) =>
    ctx.names.nodes.map((n) => `xorriso -outdev ${n.answerIso} -volid ${ANSWER_VOLID} -joliet on -map <${n.name} answer.toml> /answer.toml`),
};

export interface PlanArtefact {
  /** Relative path inside the plan directory. */
  path: string;
  content: string;
}

/**
 * The answer files for review (`pvelab plan --out DIR`): one per node plus the prepared ISO's mode
 * file. Reads nothing it would have to create: secrets appear as "<…>" placeholders, the SSH key is
 * the real public key when it exists. Checked against the rules with placeholders allowed.
 */
export async function planAnswerArtefacts(ctx: StepContext): Promise<PlanArtefact[]> {
  let note = '';
  const rel = await isoSource(ctx).then(
    (s) => s.release,
    (err: unknown) => {
      // Offline plan for latest-N: the key style only depends on ≥ 8.4, which every latest-N is.
      const major = /^latest-(\d+)$/.exec(ctx.lab.pve.release)?.[1];
      const assumed = major === '8' ? '8.4-1' : major === '9' ? '9.0-1' : undefined;
      if (!assumed) throw err;
      note = `# release assumed ${assumed} (${err instanceof Error ? err.message : String(err)})\n`;
      return release(assumed);
    },
  );
  const pub = await readFile(`${ctx.state.sshKeyPath}.pub`, 'utf8').catch(() => '<the lab SSH public key, made by pvelab up>');
  const secrets = { rootPassword: '<the lab root password, generated by pvelab up>', rootPasswordHash: '<SHA-512 crypt hash of the lab root password>' };
  const out: PlanArtefact[] = ctx.names.nodes.map((n) => ({
    path: `answer/${n.name}-answer.toml`,
    content: note + renderAnswer(nodeAnswerInput(ctx.lab, ctx.names, n, rel, secrets, pub), { placeholders: true }),
  }));
  out.push({ path: 'answer/auto-installer-mode.toml', content: modeFileText(rel) });
  return out;
}
