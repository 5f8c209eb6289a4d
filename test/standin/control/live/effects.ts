// Real effects of the model in the live stand-in. A container is a network namespace "ct<vmid>" in
// the owning node VM: veth "vct<vmid>" on vmbr0, eth0 inside with the CT's hwaddr and IP (net0), a
// default route via gw, and busybox httpd on :80 serving "hello from <hostname> (CT <vmid>)".
// Stop = kill its processes and delete the namespace. `pct exec` runs argv inside the namespace.
// Watchdog reset = `virsh reset` of the node's domain (hard reset, like the softdog).
import type { GuestConf } from '../model/cfs.js';
import type { Effects, ExecResult } from '../model/guests.js';
import { parseNet } from '../model/ct-create.js';
import type { AgentClient } from './agent.js';
import { virsh } from './virsh.js';

export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function ctPage(g: GuestConf): string {
  return `hello from ${g.conf.hostname ?? `CT${g.vmid}`} (CT ${g.vmid})\n`;
}

/** shell script that (re)creates the container's namespace, network and HTTP server */
export function startScript(g: GuestConf): string {
  const ns = `ct${g.vmid}`;
  const veth = `vct${g.vmid}`;
  const net = g.conf.net0 ? parseNet(g.conf.net0) : undefined;
  const www = `/run/standin/ct/${g.vmid}/www`;
  const lines = [
    'set -e',
    `if ip netns list | grep -qw ${ns}; then for p in $(ip netns pids ${ns}); do kill -9 $p; done; ip netns del ${ns}; fi`,
    `ip link del ${veth} 2>/dev/null || true`,
    `ip netns add ${ns}`,
    `ip -n ${ns} link set lo up`,
    `mkdir -p ${www}`,
    `printf '%s' ${q(ctPage(g))} > ${www}/index.html`,
  ];
  if (net) {
    lines.push(`ip link add ${veth} type veth peer name eth0 netns ${ns}`);
    if (net.hwaddr) lines.push(`ip -n ${ns} link set eth0 address ${net.hwaddr}`);
    lines.push(`ip link set ${veth} master ${net.bridge ?? 'vmbr0'}`, `ip link set ${veth} up`, `ip -n ${ns} link set eth0 up`);
    if (net.ip && net.ip !== 'dhcp' && net.ip !== 'manual') lines.push(`ip -n ${ns} addr add ${net.ip} dev eth0`);
    if (net.gw) lines.push(`ip -n ${ns} route add default via ${net.gw}`);
  }
  lines.push(`ip netns exec ${ns} httpd -p 80 -h ${www}`);
  return `${lines.join('\n')}\n`;
}

export function stopScript(vmid: number): string {
  const ns = `ct${vmid}`;
  return `if ip netns list | grep -qw ${ns}; then for p in $(ip netns pids ${ns}); do kill -9 $p; done; ip netns del ${ns}; fi\nip link del vct${vmid} 2>/dev/null\nexit 0\n`;
}

export class LiveEffects implements Effects {
  constructor(
    private readonly agents: Map<string, AgentClient>,
    private readonly uri: string,
    private readonly domains: Map<string, string>,
    private readonly log: (s: string) => void = () => {},
  ) {}

  private agent(node: string): AgentClient {
    const a = this.agents.get(node);
    if (!a) throw new Error(`stand-in: no agent for node '${node}'`);
    return a;
  }

  async startGuest(node: string, g: GuestConf): Promise<void> {
    const r = await this.agent(node).run(startScript(g));
    this.log(`${node}: start CT ${g.vmid} -> ${r.exitCode}${r.stderr ? ` ${r.stderr.trim()}` : ''}`);
    if (r.exitCode !== 0) throw new Error(`starting CT ${g.vmid} on ${node} failed: ${r.stderr.trim()}`);
  }

  async stopGuest(node: string, g: GuestConf): Promise<void> {
    const r = await this.agent(node).run(stopScript(g.vmid));
    this.log(`${node}: stop CT ${g.vmid} -> ${r.exitCode}`);
  }

  async execGuest(node: string, g: GuestConf, argv: string[]): Promise<ExecResult> {
    return this.agent(node).run(`exec ip netns exec ct${g.vmid} ${argv.map(q).join(' ')}\n`, 10 * 60_000);
  }

  resetNode(node: string): void {
    this.agents.get(node)?.forgetBoot();
    const dom = this.domains.get(node)!;
    this.log(`${node}: watchdog reset -> virsh reset ${dom}`);
    void virsh(this.uri, ['reset', dom]).then((r) => r.code && this.log(`virsh reset ${dom}: ${r.stderr.trim()}`));
  }
}
