// The lab's own SSH keypair (ed25519, 0600, in the state directory): installed into every node by the
// answer file, used for every SSH connection afterwards. Generated once; never leaves the host.
import { chmod, rm, stat } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Step, StepContext, StepStatus } from '../core/step.js';

async function mode(path: string): Promise<number | null> {
  return stat(path).then((s) => s.mode & 0o777, () => null);
}

export const keysStep: Step = {
  id: 'lab.keys',
  title: 'Creating the lab SSH key and secrets',
  async check(ctx: StepContext): Promise<StepStatus> {
    const key = ctx.state.sshKeyPath;
    const [priv, pub] = await Promise.all([mode(key), mode(`${key}.pub`)]);
    if (priv === null || pub === null) return { kind: 'todo', reason: `no key at ${key}` };
    if (priv !== 0o600) return { kind: 'todo', reason: `${key} has mode ${priv.toString(8)}, want 600` };
    if (!(await ctx.state.peekSecrets())) return { kind: 'todo', reason: `no secrets in ${ctx.state.secretsPath}` };
    return { kind: 'done', detail: key };
  },
  async apply(ctx) {
    const key = ctx.state.sshKeyPath;
    await mkdir(dirname(key), { recursive: true, mode: 0o700 });
    if ((await mode(key)) === null || (await mode(`${key}.pub`)) === null) {
      await rm(key, { force: true });
      await rm(`${key}.pub`, { force: true });
      await ctx.host.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `pvelab-${ctx.lab.name}`, '-f', key]);
    }
    await chmod(key, 0o600);
    await ctx.state.secrets();
  },
  async undo(ctx) {
    await rm(dirname(ctx.state.sshKeyPath), { recursive: true, force: true });
  },
  describe: (ctx) => [`ssh-keygen -q -t ed25519 -N '' -C pvelab-${ctx.lab.name} -f ${ctx.state.sshKeyPath}`],
};
