// One progress line for nodes that install in parallel: every change (and a periodic tick while
// something is waiting) re-emits the whole line, so both listr2's single output line and the plain
// log show every node, e.g.
//   pve1: installing 2 min 10 s · pve2: booting from disk 5.0 s · pve3: ready (SSH, host key pinned)
import { formatMs } from '../core/errors.js';

export interface BoardOptions {
  /** Re-emit the line this often while any node is in a timed phase (0: never). Default 60 s. */
  tickMs?: number;
  now?: () => number;
}

interface Row {
  text: string;
  since: number;
  timed: boolean;
}

export class ProgressBoard {
  private readonly rows = new Map<string, Row>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(nodes: readonly string[], private readonly emit: (line: string) => void, opts: BoardOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    for (const n of nodes) this.rows.set(n, { text: 'checking', since: this.now(), timed: false });
    const tick = opts.tickMs ?? 60_000;
    if (tick > 0) {
      this.timer = setInterval(() => {
        if ([...this.rows.values()].some((r) => r.timed)) this.emit(this.line());
      }, tick);
      this.timer.unref();
    }
  }

  /** Sets a node's status; `timed` shows how long it has been in it (waits). */
  set(node: string, text: string, timed = false): void {
    this.rows.set(node, { text, since: this.now(), timed });
    this.emit(this.line());
  }

  line(): string {
    const t = this.now();
    // Elapsed time from 1 s on: a fresh wait reads "installing", not "installing 0 ms".
    const took = (r: Row) => (r.timed && t - r.since >= 1000 ? ` ${formatMs(t - r.since)}` : '');
    return [...this.rows.entries()].map(([n, r]) => `${n}: ${r.text}${took(r)}`).join(' · ');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
