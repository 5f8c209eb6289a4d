// libvirt as an independent observer of the stand-in nodes: one `virsh` run per poll answers the
// domain state and the NIC link state of every node (batched commands separated by echo markers);
// changes are handed to the model (power, link, pause). Also the hard reset used by the watchdog.
import { execFile } from 'node:child_process';

export interface DomainRef {
  node: string;
  domain: string;
  mac: string;
}

export interface HwState {
  state: string; // virsh domstate text ('' when the domain is unknown)
  link: 'up' | 'down' | '';
}

export function virsh(uri: string, args: string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile('virsh', ['-q', '-c', uri, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? Number((err as { code?: unknown }).code) : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}

/** one batched virsh call: state + link of every domain */
export async function readHardware(uri: string, doms: DomainRef[]): Promise<Map<string, HwState>> {
  const cmd = doms.map((d, i) => `echo @@S${i}@@; domstate ${d.domain}; echo @@L${i}@@; domif-getlink ${d.domain} ${d.mac}`).join('; ');
  const r = await virsh(uri, [`${cmd}; echo @@END@@`]);
  const out = new Map<string, HwState>();
  const parts = r.stdout.split(/@@([SL]\d+|END)@@/);
  const val = new Map<string, string>();
  for (let i = 1; i < parts.length - 1; i += 2) val.set(parts[i]!, (parts[i + 1] ?? '').trim());
  doms.forEach((d, i) => {
    const link = /\b(up|down)\s*$/.exec(val.get(`L${i}`) ?? '')?.[1] as 'up' | 'down' | undefined;
    out.set(d.node, { state: val.get(`S${i}`) ?? '', link: link ?? '' });
  });
  return out;
}

export class Observer {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private last = new Map<string, string>();
  stopped = false;

  constructor(
    private readonly uri: string,
    private readonly doms: DomainRef[],
    private readonly apply: (node: string, hw: HwState) => void,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    const tick = async () => {
      if (this.stopped || this.busy) return;
      this.busy = true;
      try {
        const hw = await readHardware(this.uri, this.doms);
        for (const [node, s] of hw) {
          const key = `${s.state}|${s.link}`;
          if (this.last.get(node) !== key) {
            this.last.set(node, key);
            this.apply(node, s);
          }
        }
      } finally {
        this.busy = false;
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
