// Daemon side of a node's command channel (protocol in overlay/usr/lib/standin/control/pvecall):
// REQ frames become handle(model, node, argv, stdin) calls; stdin lines are requested on demand
// (READ -> LINE/EOF), or all of stdin up to EOF (READALL -> DATA); output goes back as OUT/ERR chunks, then EXIT. Requests are serialised by the
// node-side lock; a new REQ cancels a previous one still waiting (its shim is gone).
import { handle } from '../cmd/handle.js';
import type { Stdin } from '../cmd/io.js';
import type { ClusterModel } from '../model/cluster.js';
import { LineChannel, b64, unb64 } from './lines.js';

const CHUNK = 48 * 1024;

interface Pending {
  id: string;
  lineWaiter?: (l: string | null) => void;
  cancelled: boolean;
}

export class CmdServer {
  readonly ch: LineChannel;
  private cur?: Pending;

  constructor(private readonly m: ClusterModel, private readonly node: string, socket: string, private readonly log: (s: string) => void = () => {}) {
    this.ch = new LineChannel(socket, (l) => this.onLine(l));
  }

  private onLine(line: string): void {
    const [kind, id, ...rest] = line.split(' ');
    if (kind === 'REQ' && id) return void this.request(id, rest.map((a) => unb64(a).slice(1)));
    const p = this.cur;
    if (!p || p.id !== id) return;
    if (kind === 'LINE' || kind === 'DATA') p.lineWaiter?.(unb64(rest[0]));
    else if (kind === 'EOF') p.lineWaiter?.(null);
    p.lineWaiter = undefined;
  }

  private async request(id: string, argv: string[]): Promise<void> {
    if (this.cur) {
      this.cur.cancelled = true;
      this.cur.lineWaiter?.(null);
    }
    const p: Pending = { id, cancelled: false };
    this.cur = p;
    let eof = false;
    const stdin: Stdin = {
      readLine: () => new Promise((resolve) => {
        if (p.cancelled || eof) return resolve(null);
        p.lineWaiter = (l) => resolve(l ?? ((eof = true), null));
        this.ch.write(`READ ${id}`);
      }),
      readAll: () => new Promise((resolve) => {
        if (p.cancelled || eof) return resolve('');
        p.lineWaiter = (l) => ((eof = true), resolve(l ?? ''));
        this.ch.write(`READALL ${id}`);
      }),
    };
    this.log(`${this.node}: ${argv.join(' ')}`);
    // a command from the node proves its OS is up, even if its agent's hello is still on the way
    const st = this.m.node(this.node);
    if (st.powered && !st.up) this.m.bootDone(this.node);
    let r;
    try {
      r = await handle(this.m, this.node, argv, stdin);
    } catch (e) {
      r = { stdout: '', stderr: `stand-in: internal error: ${String((e as Error)?.stack ?? e)}\n`, exitCode: 255 };
    }
    if (p.cancelled) return;
    for (let i = 0; i < r.stdout.length; i += CHUNK) this.ch.write(`OUT ${id} ${b64(r.stdout.slice(i, i + CHUNK))}`);
    for (let i = 0; i < r.stderr.length; i += CHUNK) this.ch.write(`ERR ${id} ${b64(r.stderr.slice(i, i + CHUNK))}`);
    this.ch.write(`EXIT ${id} ${r.exitCode}`);
    if (this.cur === p) this.cur = undefined;
  }

  close(): void {
    this.ch.close();
  }
}
