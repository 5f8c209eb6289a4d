// Link cuts with known times, for the probe test and bench:accuracy (a helper, not a test file).
// The cut drops the test host's traffic in its own netfilter (INPUT and OUTPUT on its uplink, one
// atomic iptables-restore transaction), like testhost.setLink, so the root-namespace route stays.
// The real outage is measured on the server side: xtables-monitor runs inside the host's namespace and
// reports each netfilter commit (NEWGEN) as it happens; the time that line reaches this process is the
// cut (or heal) time, and the iptables-restore call bracket is kept as a sanity bound.
import type { ChildProcess } from 'node:child_process';
import type { TestHost } from '../helpers/testhost.js';

export interface CutTimes {
  /** performance.now() when the netfilter commit was reported from inside the namespace. */
  at: number;
  /** The iptables-restore call: started / returned (the commit lies inside). */
  callStart: number;
  callEnd: number;
}

export interface LinkCutter {
  cut(): Promise<CutTimes>;
  heal(): Promise<CutTimes>;
  close(): Promise<void>;
}

const CUT = '*filter\n-I INPUT 1 -i uplink -j DROP\n-I OUTPUT 1 -o uplink -j DROP\nCOMMIT\n';
const HEAL = '*filter\n-D INPUT -i uplink -j DROP\n-D OUTPUT -o uplink -j DROP\nCOMMIT\n';
const PING = '*filter\n:PVELAB-PROBE-READY - [0:0]\n-X PVELAB-PROBE-READY\nCOMMIT\n';

export async function startCutter(host: TestHost): Promise<LinkCutter> {
  const mon: ChildProcess = host.ns.spawn(['stdbuf', '-oL', 'xtables-monitor', '-e'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const commits: number[] = []; // arrival times of NEWGEN lines
  let waiters: Array<() => void> = [];
  let buf = '';
  mon.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const now = performance.now();
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('NEWGEN:')) commits.push(now);
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  });
  const nextCommit = async (after: number, ms: number): Promise<number | undefined> => {
    const deadline = performance.now() + ms;
    for (;;) {
      const c = commits.find((t) => t >= after);
      if (c !== undefined) return c;
      if (performance.now() > deadline) return undefined;
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  const apply = async (rules: string): Promise<CutTimes> => {
    const callStart = performance.now();
    await host.exec(['iptables-restore', '-w', '--noflush'], { input: rules });
    const callEnd = performance.now();
    const at = await nextCommit(callStart, 5000);
    if (at === undefined) throw new Error('xtables-monitor did not report the netfilter commit');
    return { at, callStart, callEnd };
  };
  // The monitor subscribes asynchronously: commit harmless no-ops until it reports one.
  for (let i = 0; ; i++) {
    const t = performance.now();
    await host.exec(['iptables-restore', '-w', '--noflush'], { input: PING });
    if ((await nextCommit(t, 200)) !== undefined) break;
    if (i > 50) throw new Error('xtables-monitor never reported a commit (is iptables nf_tables-based?)');
  }
  return {
    cut: () => apply(CUT),
    heal: () => apply(HEAL),
    async close() {
      mon.kill('SIGKILL');
    },
  };
}
