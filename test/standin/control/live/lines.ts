// Line channel over a unix socket (QEMU virtio-serial chardev in bind/server mode): connects,
// reconnects every `retryMs` while the socket is missing or the VM restarts, splits input into lines,
// writes whole lines. Lines written while disconnected are dropped (callers retry at their level).
import { type Socket, createConnection } from 'node:net';

export class LineChannel {
  private sock?: Socket;
  private buf = '';
  private closed = false;
  private timer?: NodeJS.Timeout;
  connected = false;

  constructor(
    readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly onConnect: () => void = () => {},
    private readonly retryMs = 250,
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const s = createConnection(this.path);
    this.sock = s;
    s.setEncoding('utf8');
    s.on('connect', () => {
      this.connected = true;
      this.buf = '';
      this.onConnect();
    });
    s.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).replace(/\r$/, '');
        this.buf = this.buf.slice(nl + 1);
        if (line) this.onLine(line);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      this.connected = false;
      if (this.closed) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.timer.unref();
    });
  }

  write(line: string): boolean {
    if (!this.connected || !this.sock) return false;
    this.sock.write(`${line}\n`);
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.sock?.destroy();
  }
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
