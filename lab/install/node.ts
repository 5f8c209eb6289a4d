// One node, from "VM defined for installation" to "runs from its disk and answers SSH with the lab key,
// host key pinned". Safe to run again at any point (resume):
//   install phase (installer medium in the drive — the only phase in which the VM may boot the installer):
//     running/blocked/shutdown → an installer started earlier: wait for it, do not restart it;
//     paused/crashed/…         → an installation pvelab gave up on: destroy it, install again;
//     shut off, disk blank     → start the installer;
//     shut off, disk written   → the installer ran to the end while pvelab was not watching: keep it.
//   The installer ends by powering off (reboot-mode power-off, ≥ 8.4) or rebooting, which the install
//   definition's <on_reboot>destroy</on_reboot> turns into a power-off (8.2/8.3). The VM never boots the
//   installer CD again on its own, so the reinstall loop of proxmox.md A.5 cannot happen.
//   After it: forget the node's old host key, redefine the VM for the run phase (disk first, CDs ejected).
//   run phase: start (or resume) the VM, wait for SSH with the lab key; a node without a pin is one
//   pvelab just installed, so its first key is pinned; a pinned node must offer the same key.
// Timeout policy: see report.ts (installer left paused). Ctrl-C during the installer wait leaves the
// installer running: it powers off on its own and the next `up` continues without reinstalling.
import type { NodeNames } from '../config/names.js';
import { InterruptedError, LabError, TimeoutError } from '../core/errors.js';
import type { StepContext } from '../core/step.js';
import { need } from '../core/step.js';
import { waitFor } from '../core/wait.js';
import type { DomainState } from '../libvirt/driver.js';
import type { NodeDomainOptions } from '../libvirt/lab-views.js';
import { nodeDomainXml } from '../steps/domains.js';
import type { ProgressBoard } from './board.js';
import { consoleOf, phaseFacts } from './phase.js';
import { NodeInstallTimeout, type WhereToLook, whereToLook } from './report.js';
import type { NodeSsh } from './ssh-probe.js';

export interface NodeDeps {
  ssh: NodeSsh;
  board: ProgressBoard;
  /** Has the installer written the node's root disk? (disk.ts; injectable for unit tests) */
  diskWritten(ctx: StepContext, index: number): Promise<boolean>;
  /** Extra domain view options for the run-phase definition (the same the domains step used). */
  view?: ((ctx: StepContext, index: number) => Partial<NodeDomainOptions>) | undefined;
  sshPollMs: number;
}

const INSTALLER_BUSY: readonly DomainState[] = ['running', 'blocked', 'shutdown'];

async function whereOf(ctx: StepContext, node: NodeNames): Promise<WhereToLook> {
  const lv = need(ctx, 'libvirt');
  const live = await lv.domainXml(node.domain).catch(() => undefined);
  return { node, uri: ctx.lab.libvirt.uri, console: live ? consoleOf(live) : {}, graphics: ctx.lab.libvirt.graphics };
}

/** Ends with the VM shut off and its disk written by an installer. */
async function runInstaller(ctx: StepContext, i: number, state: DomainState, deps: NodeDeps): Promise<void> {
  const lv = need(ctx, 'libvirt');
  const node = ctx.names.nodes[i]!;
  const say = (t: string, timed = false) => deps.board.set(node.name, t, timed);
  if (INSTALLER_BUSY.includes(state)) {
    say('installer already running (started earlier), waiting for it', true);
  } else {
    if (state !== 'shutoff') {
      say(`restarting an installation left ${state}`);
      await lv.destroy(node.domain).catch(() => undefined); // already off is fine
    } else if (await deps.diskWritten(ctx, i)) {
      say('installed earlier (root disk written); not installing again');
      return;
    }
    say('starting the installer');
    await lv.start(node.domain);
    say('installing', true);
  }
  const t0 = performance.now();
  try {
    await lv.waitForState(node.domain, ['shutoff'], { timeoutMs: ctx.lab.timeouts.installS * 1000, signal: ctx.signal, intervalMs: 1000 });
  } catch (err) {
    if (err instanceof InterruptedError) {
      say('interrupted; the installer keeps running and powers off when done');
      throw err;
    }
    if (!(err instanceof TimeoutError)) throw err;
    // The deadline passed: freeze the installer (no CPU, screen kept) unless it just finished.
    const seen = await lv.domainState(node.domain);
    if (seen !== 'shutoff') {
      await lv.suspend(node.domain).catch(() => undefined);
      const left = (await lv.domainState(node.domain)) === 'paused' ? 'paused' : seen;
      const where = await whereOf(ctx, node);
      say(`installer did not finish; left ${left}`);
      throw new NodeInstallTimeout(where, performance.now() - t0, seen, left, ctx.lab.timeouts.installS);
    }
  }
  if (!(await deps.diskWritten(ctx, i)))
    throw new LabError(`${node.name}: the installer powered off without writing the root disk`, {
      hint: `the installer stopped early (an answer-file error with reboot-on-error?): ${whereToLook(await whereOf(ctx, node))}; the next \`pvelab up\` starts it again`,
    });
}

async function bootFromDisk(ctx: StepContext, node: NodeNames, deps: NodeDeps): Promise<void> {
  const lv = need(ctx, 'libvirt');
  const state = await lv.domainState(node.domain);
  if (state === 'running' || state === 'blocked') return;
  deps.board.set(node.name, 'booting from disk', true);
  if (state === 'paused') return lv.resume(node.domain);
  if (state === 'shutdown') await lv.waitForState(node.domain, ['shutoff'], { timeoutMs: 120_000, signal: ctx.signal });
  else if (state !== 'shutoff') await lv.destroy(node.domain).catch(() => undefined);
  await lv.start(node.domain);
}

async function waitForSsh(ctx: StepContext, node: NodeNames, deps: NodeDeps): Promise<void> {
  const lv = need(ctx, 'libvirt');
  const pinned = await deps.ssh.pinned(node);
  const mode = pinned ? 'verify' : 'first-contact';
  deps.board.set(node.name, pinned ? 'waiting for SSH' : 'waiting for SSH (first contact pins its host key)', true);
  type Outcome = { stopped: DomainState } | Awaited<ReturnType<NodeSsh['probe']>>;
  let out: Outcome;
  try {
    out = await waitFor<Outcome>(
      async () => {
        const st = await lv.domainState(node.domain);
        if (st !== 'running' && st !== 'blocked') return { done: true, value: { stopped: st } };
        const r = await deps.ssh.probe(node, mode);
        return r.ok || 'mismatch' in r ? { done: true, value: r } : { done: false, seen: r.seen };
      },
      { what: `SSH on ${node.name} (${node.ip}:22) with the lab key`, timeoutMs: ctx.lab.timeouts.sshS * 1000, intervalMs: deps.sshPollMs, signal: ctx.signal },
    );
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    throw new TimeoutError(err.what, err.waitedMs, err.lastObserved, {
      hint: `${node.name} booted from its disk but does not answer SSH with the lab key: ${whereToLook(await whereOf(ctx, node))}; ` +
        `this host must reach ${node.ip} on the lab network ${ctx.names.network.name}. A slow node: raise timeouts.sshS (now ${ctx.lab.timeouts.sshS} s)`,
    });
  }
  if ('stopped' in out)
    throw new LabError(`${node.name} stopped (${out.stopped}) while booting from its disk`, {
      hint: `${whereToLook(await whereOf(ctx, node))}; if its installation was cut short, \`pvelab down\` and \`pvelab up\` install it again`,
    });
  if ('mismatch' in out) throw out.mismatch;
  if (!out.ok) throw new LabError(`internal: SSH probe of ${node.name} ended without a result`);
  if (mode === 'first-contact' && out.hostKey) await deps.ssh.pin(node, out.hostKey);
}

/** The rendered definition carries no <uuid>; redefining an existing domain needs its own. */
export function withUuid(xml: string, uuid: string): string {
  if (/<uuid>/.test(xml)) return xml;
  return xml.replace(/(<name>[^<]*<\/name>)/, `$1\n  <uuid>${uuid}</uuid>`);
}

/** Converges node `i` (see the header). Progress goes to deps.board. */
export async function convergeNode(ctx: StepContext, i: number, deps: NodeDeps): Promise<void> {
  const lv = need(ctx, 'libvirt');
  const node = ctx.names.nodes[i]!;
  const dom = await lv.getDomain(node.domain);
  if (!dom) throw new LabError(`the VM ${node.domain} is not defined`, { hint: 'the libvirt.domains step defines it; run `pvelab up` again' });
  if (phaseFacts(await lv.domainXml(node.domain, { inactive: true })).phase === 'install') {
    await runInstaller(ctx, i, dom.state, deps);
    await deps.ssh.forget(node); // a fresh system, a fresh host key: the old pin (if any) is void
    deps.board.set(node.name, 'installed; switching the VM to boot from its disk');
    await lv.defineDomain(withUuid(nodeDomainXml(ctx, i, { phase: 'run', ...deps.view?.(ctx, i) }), dom.uuid), { validate: true });
  }
  await bootFromDisk(ctx, node, deps);
  await waitForSsh(ctx, node, deps);
  deps.board.set(node.name, 'ready (SSH with the lab key, host key pinned)');
}
