// Daemon side of a node's agent channel (protocol in overlay/usr/lib/standin/control/agent): runs
// shell scripts on the node (RUN -> DONE) and learns when the node has booted (HELLO at agent start,
// PONG to our PINGs, each with the kernel boot_id). Scripts sent while the channel is down wait
// until it is back (a node that was reset comes back with a new boot id).
import { LineChannel, b64, unb64 } from './lines.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class AgentClient {
  readonly ch: LineChannel;
  private seq = 0;
  private waiting = new Map<string, (r: RunResult) => void>();
  private ping?: NodeJS.Timeout;
  bootId = '';
  hostname = '';
  private staleBoot = '';

  constructor(socket: string, private readonly onBoot: (bootId: string, hostname: string) => void) {
    this.ch = new LineChannel(socket, (l) => this.onLine(l), () => this.startPing());
  }

  private startPing(): void {
    clearInterval(this.ping);
    this.ch.write('PING 0');
    this.ping = setInterval(() => this.ch.write('PING 0'), 2000);
    this.ping.unref();
  }

  private onLine(line: string): void {
    const [kind, id, a, b, c] = line.split(' ');
    if ((kind === 'HELLO' || kind === 'PONG') && b) {
      if (b !== this.bootId && b !== this.staleBoot) {
        this.bootId = b;
        this.hostname = a ?? '';
        this.onBoot(b, this.hostname);
      }
      return;
    }
    if (kind === 'DONE' && id) {
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      w?.({ exitCode: Number(a), stdout: unb64(b), stderr: unb64(c) });
    }
  }

  /** run `script` with sh on the node; rejects after timeoutMs */
  async run(script: string, timeoutMs = 60_000): Promise<RunResult> {
    const id = `${process.pid}.${++this.seq}`;
    const deadline = Date.now() + timeoutMs;
    while (!this.ch.connected || !this.bootId) {
      if (Date.now() > deadline) throw new Error(`agent ${this.ch.path}: not connected`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return new Promise<RunResult>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`agent ${this.ch.path}: script ${id} timed out`));
      }, Math.max(1000, deadline - Date.now()));
      this.waiting.set(id, (r) => {
        clearTimeout(t);
        resolve(r);
      });
      this.ch.write(`RUN ${id} ${b64(script)}`);
    });
  }

  /** the node was reset: forget its boot so scripts wait for the next one */
  forgetBoot(): void {
    this.staleBoot = this.bootId;
    this.bootId = '';
    for (const [, w] of this.waiting) w({ exitCode: 255, stdout: '', stderr: 'node reset\n' });
    this.waiting.clear();
  }

  close(): void {
    clearInterval(this.ping);
    this.ch.close();
  }
}
