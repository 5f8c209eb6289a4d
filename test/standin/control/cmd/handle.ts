// Entry point of the command layer: handle(model, node, argv, stdin) -> {stdout, stderr, exitCode}.
// argv[0] is the program (basename taken). An uncaught Perl `die` prints its text to stderr and
// exits 255 (exit(-1)), as PVE's CLIs do; a CLI abort prints "ERROR: ..." + USAGE and exits 255.
import type { ClusterModel } from '../model/cluster.js';
import { errorText } from './args.js';
import { type Ctx, type Stdin, stringStdin } from './io.js';
import { haManager } from './ha-manager.js';
import { journalctl, pveversion, systemctl } from './misc.js';
import { pct } from './pct.js';
import { pveam } from './pveam.js';
import { pvecm } from './pvecm.js';
import { pvesh } from './pvesh.js';
import { pvesm } from './pvesm.js';
import { pvesr } from './pvesr.js';
import { vzdump } from './vzdump.js';
import { zpool } from './zpool.js';

export interface CmdResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

type Program = (ctx: Ctx, args: string[]) => Promise<number>;

export const PROGRAMS: Record<string, Program> = {
  pvesh, pvecm, pvesm, 'ha-manager': haManager, pct, pveam, pvesr, vzdump, zpool, pveversion, journalctl, systemctl,
};

export async function handle(m: ClusterModel, node: string, argv: string[], stdin: string | Stdin = ''): Promise<CmdResult> {
  let stdout = '';
  let stderr = '';
  const prog = (argv[0] ?? '').replace(/^.*\//, '');
  const ctx: Ctx = {
    m, node,
    stdin: typeof stdin === 'string' ? stringStdin(stdin) : stdin,
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
  };
  const fn = PROGRAMS[prog];
  if (!fn) return { stdout, stderr: `${prog}: command not found\n`, exitCode: 127 };
  const n = m.world.nodes.get(node);
  if (!n?.up) return { stdout, stderr: `stand-in: node '${node}' is not running\n`, exitCode: 255 };
  let exitCode: number;
  try {
    exitCode = await fn(ctx, argv.slice(1));
  } catch (e) {
    ctx.err(errorText(e));
    exitCode = 255;
  }
  return { stdout, stderr, exitCode };
}

/** CLIHandler $abort: "ERROR: <msg>" + "USAGE: <prog> <COMMAND> [ARGS] [OPTIONS]" + command list. */
export function abort(ctx: Ctx, prog: string, msg: string, commands: string[]): number {
  let s = `ERROR: ${msg}\nUSAGE: ${prog} <COMMAND> [ARGS] [OPTIONS]\n`;
  for (const c of commands) s += `       ${prog} ${c}\n`;
  ctx.err(s);
  return 255;
}
