// vitest globalSetup (runs in the main vitest process, before and after all projects).
// Contract: removes lab namespaces (processes, veths, scratch dirs) whose holder process is dead —
// left by a crashed or SIGKILLed run — and, at teardown, waits up to 15 s for this run's workers
// to exit before sweeping what they left. Never touches namespaces of other live test processes.
import { parentPid, readRecords, sweepStale } from './nsreg.js';

function descendsFromMe(pid: number): boolean {
  for (let p: number | null = pid, hops = 0; p && p > 1 && hops < 64; p = parentPid(p), hops++) {
    if (p === process.pid) return true;
  }
  return false;
}

export function setup(): void {
  const cleaned = sweepStale();
  if (cleaned.length) console.warn(`[labns] removed ${cleaned.length} stale namespace(s): ${cleaned.map((r) => r.dir).join(' ')}`);
}

export async function teardown(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (readRecords().some((r) => descendsFromMe(r.holderPid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const cleaned = sweepStale();
  if (cleaned.length) console.warn(`[labns] removed ${cleaned.length} namespace(s) left by this run: ${cleaned.map((r) => r.dir).join(' ')}`);
}
