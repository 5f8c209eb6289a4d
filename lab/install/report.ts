// What the install step tells a teacher when a node does not come up: which node, for how long, and
// where to look (serial log, VNC/SPICE display, `virsh console`), and what pvelab left behind.
// Policy (documented in the hints): an installer that does not power off within timeouts.installS is
// left PAUSED — frozen, using no CPU, its screen still readable over VNC/SPICE — and the next `pvelab up`
// destroys it and installs that node again from scratch; `pvelab down` removes it.
import type { NodeNames } from '../config/names.js';
import { LabError, TimeoutError } from '../core/errors.js';
import { type ConsoleInfo, describeGraphics } from './phase.js';

export interface WhereToLook {
  node: NodeNames;
  uri: string;
  console: ConsoleInfo;
  /** lab.libvirt.graphics: 'none' means there is no display at all. */
  graphics: 'vnc' | 'spice' | 'none';
}

/** "serial log X; VNC 127.0.0.1:5900 (display :0); `virsh -c URI console DOMAIN`". */
export function whereToLook(w: WhereToLook): string {
  const display = w.console.graphics
    ? describeGraphics(w.console.graphics)
    : w.graphics === 'none'
      ? 'no graphical console (libvirt.graphics: none)'
      : `${w.graphics.toUpperCase()} display: \`virsh -c ${w.uri} domdisplay ${w.node.domain}\``;
  return `serial log ${w.node.serialLog}; ${display}; \`virsh -c ${w.uri} console ${w.node.domain}\``;
}

/** One node's installer did not power off in time. */
export class NodeInstallTimeout extends TimeoutError {
  constructor(readonly where: WhereToLook, waitedMs: number, lastSeen: string | undefined, readonly left: string, readonly installS: number) {
    super(`${where.node.name} to finish installing (VM ${where.node.domain} to power off)`, waitedMs, lastSeen, {
      hint: installHint([where], [left], installS),
    });
  }
}

/** `left`: what happened to each installer VM, e.g. "paused". */
function installHint(nodes: readonly WhereToLook[], left: readonly string[], installS: number): string {
  const one = nodes.length === 1;
  const look = one
    ? `look at the installer's screen: ${whereToLook(nodes[0]!)}.`
    : `look at the installers' screens:\n${nodes.map((w) => `    ${w.node.name}: ${whereToLook(w)}`).join('\n')}\n   `;
  const states = [...new Set(left)];
  const kept =
    states.length === 1 && states[0] === 'paused'
      ? `The installer VM${one ? ' is' : 's are'} left paused (frozen, using no CPU, the screen stays readable).`
      : `The installer VM${one ? ' is' : 's are'} left ${states.join(' / ')}.`;
  return (
    `${look} ${kept} The next \`pvelab up\` installs ${one ? 'the node' : 'them'} again from scratch; \`pvelab down\` removes the lab. ` +
    `If the installer is only slow, raise timeouts.installS (now ${installS} s) in the lab file.`
  );
}

/** Several nodes timed out: one TimeoutError naming them all, with every node's consoles in the hint. */
export function combinedInstallTimeout(errs: readonly NodeInstallTimeout[]): TimeoutError {
  if (errs.length === 1) return errs[0]!;
  const names = errs.map((e) => e.where.node.name).join(', ');
  const waited = Math.max(...errs.map((e) => e.waitedMs));
  const seen = [...new Set(errs.map((e) => e.lastObserved).filter((s): s is string => !!s))].join(', ');
  return new TimeoutError(`${names} to finish installing (their VMs to power off)`, waited, seen || undefined, {
    hint: installHint(errs.map((e) => e.where), errs.map((e) => e.left), errs[0]!.installS),
  });
}

/** Several nodes failed for different reasons: one error listing each with its hint. */
export function combinedFailure(failed: readonly { node: string; err: unknown }[]): LabError {
  const lines = failed.map(({ node, err }) => {
    const msg = err instanceof Error ? err.message : String(err);
    const hint = err instanceof LabError && err.hint ? `\n      hint: ${err.hint}` : '';
    return `  - ${node}: ${msg}${hint}`;
  });
  return new LabError(`${failed.length} nodes did not come up:\n${lines.join('\n')}`, {
    hint: 'fix the causes above and run `pvelab up` again; nodes that are already installed are not installed again',
  });
}

