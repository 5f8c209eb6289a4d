// Shared helpers of the Proxmox steps: node runners, pvesh, the release (read once per node per run),
// streamed command output into the step's progress line.
import type { Lab, NodeNames } from '../config/names.js';
import { LabError } from '../core/errors.js';
import { need, type StepContext } from '../core/step.js';
import type { RunOptions, Runner } from '../exec/runner.js';
import { Pvesh } from '../pve/pvesh.js';
import { type PveVersion, readPveVersion } from '../pve/version.js';
import type { NodeShell } from '../ssh/nodes.js';

export const runnerOf = (ctx: StepContext, node: string): Runner => need(ctx, 'nodes').runner(node);
export const pveshOf = (ctx: StepContext, node: string): Pvesh => new Pvesh(runnerOf(ctx, node));

export function firstNode(ctx: StepContext): NodeNames {
  const n = ctx.names.nodes[0];
  if (!n) throw new LabError('the lab has no nodes');
  return n;
}

/** The lab may reach the internet (package mirrors, template downloads). */
export const isOnline = (lab: Lab): boolean => !lab.guest.offline;

const versions = new WeakMap<NodeShell, Map<string, Promise<PveVersion>>>();

/** `pveversion` of a node, asked once per run (cached on the run's NodeShell). */
export function nodeRelease(ctx: StepContext, node: string): Promise<PveVersion> {
  const shell = need(ctx, 'nodes');
  let m = versions.get(shell);
  if (!m) versions.set(shell, (m = new Map()));
  let p = m.get(node);
  if (!p) {
    p = readPveVersion(shell.runner(node));
    m.set(node, p);
    p.catch(() => m?.delete(node));
  }
  return p;
}

/** The cluster's release = the first node's (node-prep refuses nodes of different majors). */
export const clusterRelease = (ctx: StepContext): Promise<PveVersion> => nodeRelease(ctx, firstNode(ctx).name);

/** onOutput that shows the last non-empty line of a command's output as the step's progress. */
export function progressOutput(ctx: StepContext, prefix: string): RunOptions['onOutput'] {
  return (chunk) => {
    const line = chunk.split('\n').map((l) => l.trim()).filter(Boolean).pop();
    if (line) ctx.progress(`${prefix}: ${line.slice(0, 160)}`);
  };
}

/** "pve1, pve2 and pve3" */
export function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
