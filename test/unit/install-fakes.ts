// Test doubles for the install step's unit tests: an in-memory libvirt (domains with state, inactive
// XML and lifecycle events; a scripted "installer" per node), an SSH prober keyed by the node's boot,
// and a StepContext on a resolved lab. Waits use the product's own waitForState (lab/libvirt/waits.ts).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { labNames, type Lab, type NodeNames } from '../../lab/config/names.js';
import { memoryLogger } from '../../lab/core/log.js';
import { LabState } from '../../lab/core/state.js';
import type { StepContext } from '../../lab/core/step.js';
import { LocalRunner } from '../../lab/exec/local.js';
import type { NodeSsh, SshProbeResult } from '../../lab/install/ssh-probe.js';
import { phaseFacts } from '../../lab/install/phase.js';
import type { DomainState, LibvirtDriver, LifecycleEvent } from '../../lab/libvirt/driver.js';
import { waitForState } from '../../lab/libvirt/waits.js';
import { HostKeyMismatchError, type HostKey } from '../../lab/ssh/known-hosts.js';
import { nodeDomainXml } from '../../lab/steps/domains.js';

export interface FakeDomain {
  name: string;
  uuid: string;
  state: DomainState;
  xml: string;
  /** Port libvirt would give the VNC display while running. */
  vncPort: number;
}

/** What the fake "installer" does when a VM starts in the install phase. */
export type InstallerScript = 'finish' | 'hang' | 'poweroff-blank';

export class FakeLibvirt {
  readonly domains = new Map<string, FakeDomain>();
  readonly calls: string[] = [];
  /** Root disks written, by domain name. */
  readonly written = new Set<string>();
  readonly script = new Map<string, InstallerScript>();
  installMs = 30;
  running = 0;
  maxRunningInstallers = 0;
  private listeners = new Set<(e: LifecycleEvent) => void>();

  add(d: FakeDomain): void {
    this.domains.set(d.name, d);
  }
  private dom(name: string): FakeDomain {
    const d = this.domains.get(name);
    if (!d) throw new Error(`no domain ${name}`);
    return d;
  }
  private set(name: string, state: DomainState): void {
    const d = this.dom(name);
    const wasInstaller = d.state === 'running' && phaseFacts(d.xml).phase === 'install';
    if (wasInstaller && state !== 'running' && state !== 'paused') this.running--;
    d.state = state;
    const now = Date.now();
    for (const l of [...this.listeners]) l({ domain: name, uuid: d.uuid, type: state === 'running' ? 'started' : 'stopped', detail: state, at: now, receivedAt: now });
  }
  /** The fake driver, shaped like LibvirtDriver (only what the install step uses). */
  driver(): LibvirtDriver {
    const self = this;
    const d: Partial<LibvirtDriver> = {
      uri: 'test:///fake',
      async getDomain(name) {
        const x = self.domains.get(name);
        return x && { name, uuid: x.uuid, state: x.state, persistent: true };
      },
      async domainXml(name, opts) {
        const x = self.dom(name);
        const live = !opts?.inactive && x.state !== 'shutoff';
        return live ? x.xml.replace(/<graphics type="vnc"/, `<graphics type="vnc" port="${x.vncPort}"`) : x.xml;
      },
      async domainState(name) {
        return self.dom(name).state;
      },
      async start(name) {
        const x = self.dom(name);
        if (x.state !== 'shutoff') throw new Error(`${name} is already running`);
        self.calls.push(`start ${name} ${phaseFacts(x.xml).phase}`);
        self.set(name, 'running');
        if (phaseFacts(x.xml).phase !== 'install') return;
        self.running++;
        self.maxRunningInstallers = Math.max(self.maxRunningInstallers, self.running);
        const s = self.script.get(name) ?? 'finish';
        if (s === 'hang') return;
        setTimeout(() => {
          if (self.dom(name).state !== 'running') return;
          if (s === 'finish') self.written.add(name);
          self.set(name, 'shutoff');
        }, self.installMs);
      },
      async destroy(name) {
        self.calls.push(`destroy ${name}`);
        if (self.dom(name).state === 'shutoff') throw new Error('domain is not running');
        self.set(name, 'shutoff');
      },
      async suspend(name) {
        self.calls.push(`suspend ${name}`);
        self.set(name, 'paused');
      },
      async resume(name) {
        self.calls.push(`resume ${name}`);
        self.set(name, 'running');
      },
      async defineDomain(xml) {
        const name = /<name>([^<]+)<\/name>/.exec(xml)![1]!;
        const uuid = /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1];
        const x = self.dom(name);
        if (uuid !== x.uuid) throw new Error(`domain '${name}' already exists with uuid ${x.uuid}`);
        self.calls.push(`define ${name} ${phaseFacts(xml).phase}`);
        x.xml = xml;
        return { name, uuid, state: x.state, persistent: true };
      },
      onLifecycle(l) {
        self.listeners.add(l);
        return () => self.listeners.delete(l);
      },
      waitForState(name, states, opts) {
        return waitForState(d as LibvirtDriver, name, states, { ...opts, intervalMs: 5 });
      },
    };
    return d as LibvirtDriver;
  }
}

export const key = (n: string): HostKey => ({ type: 'ssh-ed25519', base64: Buffer.from(`key-of-${n}`).toString('base64') });

/** SSH answers when the node's VM runs from its disk; `offers` is the key it presents. */
export class FakeSsh implements NodeSsh {
  readonly pins = new Map<string, HostKey>();
  readonly offers = new Map<string, HostKey>();
  readonly log: string[] = [];
  constructor(private readonly lv: FakeLibvirt, private readonly domainOf: (n: NodeNames) => string) {}
  async probe(node: NodeNames, mode: 'verify' | 'first-contact'): Promise<SshProbeResult> {
    const d = this.lv.domains.get(this.domainOf(node));
    if (!d || d.state !== 'running' || phaseFacts(d.xml).phase !== 'run') return { ok: false, seen: 'connect ECONNREFUSED' };
    const offered = this.offers.get(node.name) ?? key(node.name);
    if (mode === 'first-contact') return { ok: true, hostKey: offered };
    const pinned = this.pins.get(node.name);
    if (!pinned) return { ok: false, mismatch: new HostKeyMismatchError(node.name, node.ip, '/kh', { type: '(none pinned)', base64: '' }, offered) };
    if (pinned.base64 !== offered.base64) return { ok: false, mismatch: new HostKeyMismatchError(node.name, node.ip, '/kh', pinned, offered) };
    return { ok: true };
  }
  async pinned(node: NodeNames) {
    return this.pins.get(node.name);
  }
  async pin(node: NodeNames, k: HostKey) {
    this.log.push(`pin ${node.name}`);
    this.pins.set(node.name, k);
  }
  async forget(node: NodeNames) {
    this.log.push(`forget ${node.name}`);
    this.pins.delete(node.name);
  }
}

export interface Rig {
  lab: Lab;
  lv: FakeLibvirt;
  ssh: FakeSsh;
  progress: string[];
  ctx(signal?: AbortSignal): StepContext;
  dom(i: number): FakeDomain;
}

/** A 3-node lab (timeouts shortened past the schema's minimum) with every VM defined for installation. */
export function rig(opts: { installS?: number; sshS?: number; graphics?: 'vnc' | 'none' } = {}): Rig {
  const spec = resolveLab(parseLabObject({ name: 't1', network: { cidr: '10.99.0.0/24' }, libvirt: { graphics: opts.graphics ?? 'vnc' } }), []);
  const lab: Lab = { ...spec, timeouts: { ...spec.timeouts, installS: opts.installS ?? 5, sshS: opts.sshS ?? 5 } };
  const home = join(tmpdir(), 'pvelab-install-unit-never-written'); // paths only: nothing is written there
  const names = labNames(lab, home);
  const lv = new FakeLibvirt();
  const ssh = new FakeSsh(lv, (n) => n.domain);
  const progress: string[] = [];
  const state = new LabState(join(home, lab.name), lab.name);
  const make = (signal = new AbortController().signal): StepContext => ({
    lab, names, log: memoryLogger(), host: new LocalRunner(), state, signal, services: { libvirt: lv.driver() }, progress: (t) => progress.push(t), dryRun: false,
  });
  names.nodes.forEach((n, i) => {
    lv.add({ name: n.domain, uuid: `00000000-0000-4000-8000-00000000000${i}`, state: 'shutoff', xml: nodeDomainXml(make(), i, { phase: 'install', installerIso: '/iso/prepared.iso' }), vncPort: 5900 + i });
  });
  return { lab, lv, ssh, progress, ctx: make, dom: (i) => lv.domains.get(names.nodes[i]!.domain)! };
}
