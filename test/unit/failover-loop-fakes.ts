// A fake lab for the trial loop's tests: three nodes behind scripted SSH runners answering the Proxmox
// calls the loop makes (cluster status, HA manager status, date, journalctl, pveversion, true), a guest
// page on a loopback HTTP server, and a fault that cuts a node. When the node running the service is
// cut, the page fails and, after `recoverMs`, HA "moves" the service to the next member and the page
// answers again; heal() brings the node back after `healMs`. All on a short real clock.
import { once } from 'node:events';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { labNames, type LabNames } from '../../lab/config/names.js';
import { parseLabObject, resolveLab } from '../../lab/config/load.js';
import { CommandError } from '../../lab/core/errors.js';
import type { CommandResult, RunOptions, Runner } from '../../lab/exec/runner.js';
import type { Fault, FaultTarget } from '../../lab/failover/faults.js';
import type { LoopOptions } from '../../lab/failover/loop.js';

export function testNames(home: string): LabNames {
  return labNames(resolveLab(parseLabObject({ name: 't1', network: { cidr: '10.99.0.0/24' } }), []), home);
}

export class FakeLab {
  readonly nodes = ['pve1', 'pve2', 'pve3'];
  cut = new Set<string>();
  quorate = true;
  service = { node: 'pve1', state: 'started' };
  pageUp = true;
  /** false: the service never moves while its node is cut (it comes back on heal). */
  recovers = true;
  recoverMs = 120;
  healMs = 30;
  readonly calls: string[] = [];
  private server!: http.Server;
  url = '';
  private timers = new Set<NodeJS.Timeout>();

  constructor(readonly names: LabNames) {}

  async start(): Promise<this> {
    this.server = http.createServer((_req, res) => {
      if (this.pageUp) res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from web\n');
      else res.writeHead(503).end('down\n');
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  cutNode(node: string): void {
    this.cut.add(node);
    if (this.service.node !== node) return;
    this.pageUp = false;
    if (!this.recovers) return;
    this.later(this.recoverMs, () => {
      if (!this.cut.has(node)) return;
      this.service = { node: this.nodes.find((n) => !this.cut.has(n))!, state: 'started' };
      this.pageUp = true;
    });
  }

  healNode(node: string): void {
    this.later(this.healMs, () => {
      this.cut.delete(node);
      if (this.service.node === node) this.pageUp = true;
    });
  }

  runner(node: string): Runner {
    return {
      where: node,
      run: async (argv: readonly string[], _o?: RunOptions): Promise<CommandResult> => {
        await new Promise((r) => setTimeout(r, 1));
        if (this.cut.has(node)) throw new CommandError(`ssh: ${node} unreachable`, { where: node, command: argv.join(' ') });
        const ok = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });
        const cmd = argv.join(' ');
        if (cmd.startsWith('pvesh get /cluster/status')) {
          const members = this.nodes.filter((n) => !this.cut.has(n));
          return ok(JSON.stringify([
            { type: 'cluster', name: this.names.pve.clusterName, quorate: this.quorate ? 1 : 0, nodes: 3, version: 3 },
            ...this.nodes.map((n, i) => ({ type: 'node', name: n, nodeid: i + 1, online: members.includes(n) ? 1 : 0, local: n === node ? 1 : 0 })),
          ]));
        }
        if (cmd.startsWith('pvesh get /cluster/ha/status/manager_status')) {
          return ok(JSON.stringify({
            manager_status: {
              master_node: 'pve3',
              node_status: Object.fromEntries(this.nodes.map((n) => [n, this.cut.has(n) ? 'unknown' : 'online'])),
              service_status: { [this.names.guest.haSid]: { node: this.service.node, state: this.service.state } },
            },
            quorum: { node, quorate: this.quorate ? 1 : 0 },
          }));
        }
        if (argv[0] === 'date') return ok(`${BigInt(Date.now()) * 1_000_000n}\n`);
        if (argv[0] === 'journalctl') return ok('');
        if (argv[0] === 'pveversion') return ok('pve-manager/9.0.3/abc (running kernel: 6.14.8-2-pve)\n');
        if (argv[0] === 'true') return ok('');
        throw new CommandError(`unexpected command ${cmd}`, { where: node, command: cmd, exitCode: 127 });
      },
    };
  }
}

/** A link-down stand-in over the fake lab; logs every call, can fail on purpose, and can check the
 *  pending record at the moment of injection. */
export class FakeFault implements Fault {
  readonly id = 'link-down' as const;
  readonly recoversWhileActive = true;
  readonly calls: string[] = [];
  failInject = false;
  failHeal = false;
  onInject?: (t: FaultTarget) => Promise<void> | void;
  constructor(private readonly lab: FakeLab, private readonly marker?: string) {}
  describe(t: FaultTarget): string {
    return `link of ${t.mac} on ${t.domain} down`;
  }
  async inject(t: FaultTarget): Promise<void> {
    this.calls.push(`inject ${t.node}`);
    await this.onInject?.(t);
    this.lab.cutNode(t.node);
    if (this.marker) writeFileSync(join(this.marker, `fault-${t.node}`), 'cut\n');
    if (this.failInject) throw new Error('libvirt: connection lost while injecting');
  }
  async heal(t: FaultTarget): Promise<void> {
    this.calls.push(`heal ${t.node}`);
    if (this.failHeal) throw new Error('libvirt: cannot set link state');
    if (this.lab.cut.has(t.node)) this.lab.healNode(t.node);
    if (this.marker) rmSync(join(this.marker, `fault-${t.node}`), { force: true });
  }
  async isActive(t: FaultTarget): Promise<boolean> {
    return this.lab.cut.has(t.node) || (this.marker !== undefined && existsSync(join(this.marker, `fault-${t.node}`)));
  }
}

/** Loop options on the fake lab's time scale (milliseconds). */
export function fastOptions(over: Partial<LoopOptions> = {}): LoopOptions {
  return {
    fault: 'link-down',
    trials: 1,
    node: 'owner',
    intervalMs: 10,
    probeTimeoutMs: 50,
    trialTimeoutMs: 3000,
    stableMs: 60,
    baselineMs: 30,
    settleMs: 20,
    holdMs: 50,
    haIntervalMs: 20,
    healthTimeoutMs: 3000,
    nodeTimeoutMs: 3000,
    waitIntervalMs: 10,
    ...over,
  };
}
