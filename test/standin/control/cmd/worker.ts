// Synchronous CLI worker (pve-common RESTEnvironment fork_worker with type 'cli'): the worker's
// stdout AND stderr go to the command's stdout; a failing worker prints its error (newlines folded
// to spaces) to stderr — and the command still exits 0 unless its CLI wrapper checks the task
// status ($upid_exit in pct; pvecm/pvesh do not). Returns the UPID and whether the task failed.
import { createHash } from 'node:crypto';
import { PveError } from '../model/perl.js';
import type { Ctx } from './io.js';

export interface WorkerIo {
  print(s: string): void;
  warn(s: string): void;
}

export function upid(ctx: Ctx, type: string, id: string): string {
  const now = Math.floor(ctx.m.clock.now());
  const pid = createHash('md5').update(`${ctx.node}|${type}|${id}|${ctx.m.clock.now()}`).digest().readUInt16BE(0) + 10000;
  const h = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `UPID:${ctx.node}:${h(pid)}:${h(pid * 37)}:${h(now)}:${type}:${id}:root@pam:`;
}

export async function syncWorker(ctx: Ctx, type: string, id: string, fn: (w: WorkerIo) => Promise<void>): Promise<{ upid: string; failed: boolean }> {
  const u = upid(ctx, type, id);
  const w: WorkerIo = { print: (s) => ctx.out(s), warn: (s) => ctx.out(s.endsWith('\n') ? s : `${s}\n`) };
  try {
    await fn(w);
    return { upid: u, failed: false };
  } catch (e) {
    let msg = e instanceof PveError ? e.stringify() : `${String((e as Error)?.message ?? e)}`;
    msg = msg.replace(/\n+$/, '').replace(/\n/g, ' ');
    ctx.err(`${msg}\n`);
    return { upid: u, failed: true };
  }
}
