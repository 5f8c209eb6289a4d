// Private PID + mount + network namespace with its own libvirtd/virtlogd (and optionally tgtd) for tests
// (test-harness.md §2.3, "Variant for a Node/TS harness"). Usage in vitest:
//   let ns: LabNs; beforeAll(async () => { ns = await startLabNs({ label: 'x' }); }); afterAll(() => ns?.down());
// Lifetime contract: the namespace dies with its holder process in every case —
//   down() (normal), process 'exit' / SIGINT / SIGTERM / SIGHUP handlers, the holder's IPC parent
//   going away ('disconnect', e.g. the vitest runner was SIGKILLed), and SIGKILL of the holder
//   (setpriv --pdeathsig KILL on unshare, unshare --kill-child on the namespace init).
// The scratch dir of a namespace whose holder was SIGKILLed is removed by sweepStale() (vitest globalSetup).
// Holder = the thread that called startLabNs: run it from the main thread (vitest pool 'forks').
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NsRecord, killRecordSync, procStart, removeRecord, writeRecord } from './nsreg.js';
import { type RunOpts, type RunResult, run, sleep } from './run.js';
import { cidrOverlaps, claimUplink30, claimedPrefixes, pickFree24 } from './netalloc.js';

const INIT = process.env.PVELAB_NS_INIT ?? fileURLToPath(new URL('./ns-init.sh', import.meta.url));

export interface LabNsOpts {
  libvirt?: boolean; // default true: virtlogd + libvirtd inside
  tgtd?: boolean; // default false
  label?: string; // appears in the scratch dir name
  readyTimeoutMs?: number; // default 90 s
}

export interface Link {
  hostIf: string; // root-ns end of the veth ("lns<initpid>")
  hostIp: string; // 10.250.X.Y+1
  nsIp: string; // 10.250.X.Y+2 on "uplink" inside the namespace
}

export interface LabNs {
  readonly pid: number; // init PID of the namespace (root pid ns numbering)
  readonly dir: string; // scratch dir, deleted by down(); ns.log holds the init's output
  readonly uri: string; // libvirt URI usable from the root ns
  exec(argv: string[], opts?: RunOpts): Promise<RunResult>;
  spawn(argv: string[], opts?: SpawnOptions): ChildProcess;
  link(): Promise<Link>;
  uplink(cidr: string): Promise<void>;
  allocSubnet(): Promise<{ cidr: string; base: string; gateway: string }>;
  down(): Promise<void>;
}

const live = new Set<Ns>();

class Ns implements LabNs {
  readonly uri: string;
  private readonly children = new Set<ChildProcess>();
  private readonly subnets: string[] = [];
  private linkP?: Promise<Link>;
  private downP?: Promise<void>;

  constructor(
    readonly pid: number,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly rec: NsRecord,
  ) {
    this.uri = `qemu+unix:///system?socket=/proc/${pid}/root/run/libvirt/libvirt-sock`;
  }

  private nsenter(argv: string[], cwd?: string): string[] {
    return ['nsenter', '-t', String(this.pid), '-p', '-m', '-n', `--wd=${cwd ?? process.cwd()}`, '--', ...argv];
  }

  exec(argv: string[], opts: RunOpts = {}): Promise<RunResult> {
    if (this.downP) return Promise.reject(new Error('LabNs.exec after down()'));
    return run(this.nsenter(argv, opts.cwd), { ...opts, cwd: undefined });
  }

  spawn(argv: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.downP) throw new Error('LabNs.spawn after down()');
    const [cmd, ...args] = this.nsenter(argv, opts.cwd?.toString());
    const c = spawn(cmd as string, args, { ...opts, cwd: undefined });
    this.children.add(c);
    c.once('exit', () => this.children.delete(c));
    return c;
  }

  link(): Promise<Link> {
    this.linkP ??= this.makeLink();
    return this.linkP;
  }

  // veth lns<initpid> <-> uplink; a /30 from 10.250.0.0/16 picked lock-free (netalloc.claimUplink30).
  private async makeLink(): Promise<Link> {
    const hostIf = `lns${this.pid}`;
    this.rec.hostIf = hostIf;
    writeRecord(this.rec);
    await run(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', `/proc/${this.pid}/ns/net`]);
    const { hostIp, nsIp } = await claimUplink30(hostIf, this.pid);
    await run(['ip', 'link', 'set', hostIf, 'up']);
    await this.exec(['sh', '-c', `ip addr add ${nsIp}/30 dev uplink && ip link set uplink up && sysctl -qw net.ipv4.ip_forward=1`]);
    return { hostIf, hostIp, nsIp };
  }

  async uplink(cidr: string): Promise<void> {
    const l = await this.link();
    // Never shadow a network the root ns already knows (the machine's LAN, another namespace's guests).
    const clash = (await claimedPrefixes()).find((p) => p.dev !== l.hostIf && cidrOverlaps(p.cidr, cidr));
    if (clash) throw new Error(`LabNs.uplink(${cidr}): overlaps ${clash.cidr} on ${clash.dev ?? '?'} in the root ns; use allocSubnet()`);
    const r = await run(['ip', 'route', 'add', cidr, 'via', l.nsIp, 'dev', l.hostIf], { allowFail: true });
    if (r.exitCode !== 0) {
      throw new Error(`LabNs.uplink(${cidr}): ${r.stderr.trim()} — is ${cidr} routed by another namespace? use allocSubnet()`);
    }
  }

  // A /24 in 10.208.0.0/12 that no root-ns address or route overlaps (claimed for real by uplink()).
  async allocSubnet(): Promise<{ cidr: string; base: string; gateway: string }> {
    const base = await pickFree24(this.pid * 13 + allocCounter++, allocated);
    const cidr = `${base}.0/24`;
    allocated.add(cidr);
    this.subnets.push(cidr);
    return { cidr, base, gateway: `${base}.1` };
  }

  down(): Promise<void> {
    this.downP ??= this.teardown();
    return this.downP;
  }

  // Order: kill our nsenter children, delete the veth (routes go with it), SIGKILL init (the kernel
  // kills and reaps every process of the pid ns before init is gone), wait for unshare to exit,
  // then remove the scratch dir and the registry record.
  private async teardown(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    if (this.rec.hostIf) await run(['ip', 'link', 'del', this.rec.hostIf], { allowFail: true });
    this.child.ref();
    // Kill init only: unshare reaps it and exits. Killing unshare too would orphan init to the host's
    // PID 1, and its zombie would pin the pid namespace until that PID 1 reaps it.
    const kill = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    kill(this.pid);
    const gone = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        void this.exited.then(() => (clearTimeout(t), resolve(true)));
      });
    if (!(await gone(30_000))) {
      kill(this.rec.unsharePid);
      if (!(await gone(30_000))) throw new Error(`LabNs.down: namespace ${this.pid} did not exit`);
    }
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    removeRecord(this.rec.unsharePid);
    for (const s of this.subnets) allocated.delete(s);
    live.delete(this);
  }

  /** Synchronous last-resort kill from exit/signal handlers. */
  killSync(): void {
    for (const c of this.children) c.kill('SIGKILL');
    killRecordSync(this.rec);
    live.delete(this);
  }
}

const allocated = new Set<string>(); // subnets handed out by allocSubnet() in this process
let allocCounter = 0;

let hooked = false;
function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const ns of live) ns.killSync();
  };
  process.on('exit', killAll);
  // A vitest 'forks' worker whose runner was SIGKILLed lives on as an orphan and would keep probing
  // addresses whose routes are gone. When the IPC parent dies: kill the namespaces and exit.
  const ppid = process.ppid;
  if (process.connected) {
    process.once('disconnect', () => {
      if (process.ppid === ppid) return; // deliberate disconnect, parent still alive
      killAll();
      process.exit(1);
    });
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      killAll();
      // If nobody else handles the signal, restore the default action (terminate) and re-raise it.
      if (process.listenerCount(sig) === 1) {
        process.off(sig, handler);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, handler);
  }
}

export async function startLabNs(opts: LabNsOpts = {}): Promise<LabNs> {
  installExitHooks();
  const label = (opts.label ?? 'ns').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  const dir = mkdtempSync(join(tmpdir(), `pvelab-ns-${label}-`));
  const logFd = openSync(join(dir, 'ns.log'), 'a');
  const argv = ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--mount', '--net',
    '--propagation', 'private', '--', 'bash', INIT, dir, opts.libvirt === false ? '0' : '1', opts.tgtd ? '1' : '0'];
  const child = spawn('setpriv', argv, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => child.once('close', () => ((exitedFlag = true), resolve())));
  child.once('error', () => {}); // reported through `exited` + pid check below
  if (!child.pid) {
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw new Error('startLabNs: cannot spawn setpriv/unshare (util-linux missing?)');
  }
  child.unref(); // never keep the holder alive just for the namespace; down()/exit hooks end it
  const rec: NsRecord = {
    label, dir, holderPid: process.pid, holderStart: procStart(process.pid) ?? '',
    unsharePid: child.pid, unshareStart: procStart(child.pid) ?? '',
  };
  writeRecord(rec);
  const fail = (why: string): never => {
    const log = safeRead(join(dir, 'ns.log')); // read before killRecordSync removes dir
    killRecordSync(rec);
    throw new Error(`startLabNs(${label}): ${why}\n--- ns.log ---\n${log}`);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  while (!existsSync(join(dir, 'ready'))) {
    if (exitedFlag) fail('namespace init exited before it was ready');
    if (Date.now() > deadline) fail('namespace not ready in time');
    await sleep(50);
  }
  const children = safeRead(`/proc/${child.pid}/task/${child.pid}/children`).trim().split(/\s+/);
  const initPid = Number(children[0]);
  if (!Number.isInteger(initPid) || initPid <= 0) fail('cannot find the namespace init pid');
  rec.initPid = initPid;
  rec.initStart = procStart(initPid) ?? '';
  writeRecord(rec);
  const ns = new Ns(initPid, dir, child, exited, rec);
  live.add(ns);
  return ns;
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
