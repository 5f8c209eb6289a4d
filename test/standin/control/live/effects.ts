// Real effects of the model in the live stand-in. A container is a network namespace "ct<vmid>" in
// the owning node VM: veth "vct<vmid>" on vmbr0, eth0 inside with the CT's hwaddr and IP (net0), a
// default route via gw. Its web server exists only while the CT's rootfs has apache2 installed
// (model/rootfs.ts Serve): busybox httpd on :80 in the namespace serving a copy of the DocumentRoot
// (/var/www/html) under /run/standin/ct/<vmid>/www, byte for byte; no Apache headers (Server: etc.).
// Stop = kill its processes and delete the namespace. Node files (template cache, dump dirs) are
// read and written on the node's disk through the agent. Watchdog reset = `virsh reset` of the
// node's domain (hard reset, like the softdog).
import type { GuestConf } from '../model/cfs.js';
import type { Effects, FileInfo } from '../model/guests.js';
import { parseNet } from '../model/ct-create.js';
import type { Serve } from '../model/rootfs.js';
import type { AgentClient } from './agent.js';
import { virsh } from './virsh.js';

export const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const www = (vmid: number) => `/run/standin/ct/${vmid}/www`;

/** shell script that (re)creates the container's namespace and network */
export function netScript(g: GuestConf): string {
  const ns = `ct${g.vmid}`;
  const veth = `vct${g.vmid}`;
  const net = g.conf.net0 ? parseNet(g.conf.net0) : undefined;
  const lines = [
    'set -e',
    `if ip netns list | grep -qw ${ns}; then for p in $(ip netns pids ${ns}); do kill -9 $p; done; ip netns del ${ns}; fi`,
    `ip link del ${veth} 2>/dev/null || true`,
    `ip netns add ${ns}`,
    `ip -n ${ns} link set lo up`,
  ];
  if (net) {
    lines.push(`ip link add ${veth} type veth peer name eth0 netns ${ns}`);
    if (net.hwaddr) lines.push(`ip -n ${ns} link set eth0 address ${net.hwaddr}`);
    lines.push(`ip link set ${veth} master ${net.bridge ?? 'vmbr0'}`, `ip link set ${veth} up`, `ip -n ${ns} link set eth0 up`);
    if (net.ip && net.ip !== 'dhcp' && net.ip !== 'manual') lines.push(`ip -n ${ns} addr add ${net.ip} dev eth0`);
    if (net.gw) lines.push(`ip -n ${ns} route add default via ${net.gw}`);
  }
  return `${lines.join('\n')}\n`;
}

/** shell script that makes the namespace serve exactly `serve` (files replaced atomically, stale
 *  ones removed, httpd started once) or nothing at all (its processes killed: connection refused) */
export function serveScript(vmid: number, serve: Serve | undefined): string {
  const ns = `ct${vmid}`;
  const dir = www(vmid);
  if (!serve) return `rm -rf ${dir}\nfor p in $(ip netns pids ${ns} 2>/dev/null); do kill -9 $p; done\nexit 0\n`;
  const lines = ['set -e', `mkdir -p ${dir}`];
  const keep: string[] = [];
  for (const [rel, text] of [...serve.docroot].sort()) {
    const f = `${dir}/${rel}`;
    keep.push(`./${rel}`);
    lines.push(`mkdir -p ${q(f.slice(0, f.lastIndexOf('/')))}`, `printf '%s' ${Buffer.from(text, 'utf8').toString('base64')} | base64 -d > ${q(`${f}.standin-new`)}`, `mv ${q(`${f}.standin-new`)} ${q(f)}`);
  }
  lines.push(`printf '%s\\n' ${keep.map(q).join(' ') || "''"} > ${dir}.keep`);
  lines.push(`(cd ${dir} && find . -type f | grep -vxF -f ${dir}.keep | while IFS= read -r f; do rm -f "$f"; done) || true`);
  lines.push(`[ -n "$(ip netns pids ${ns})" ] || ip netns exec ${ns} httpd -p 80 -h ${dir}`);
  return `${lines.join('\n')}\n`;
}

export function startScript(g: GuestConf, serve?: Serve): string {
  return netScript(g) + serveScript(g.vmid, serve);
}

export function stopScript(vmid: number): string {
  const ns = `ct${vmid}`;
  return `if ip netns list | grep -qw ${ns}; then for p in $(ip netns pids ${ns}); do kill -9 $p; done; ip netns del ${ns}; fi\nip link del vct${vmid} 2>/dev/null\nrm -rf /run/standin/ct/${vmid}\nexit 0\n`;
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

  async startGuest(node: string, g: GuestConf, serve: Serve | undefined): Promise<void> {
    const r = await this.agent(node).run(startScript(g, serve));
    this.log(`${node}: start CT ${g.vmid} (${serve ? 'Apache serving' : 'no web server'}) -> ${r.exitCode}${r.stderr ? ` ${r.stderr.trim()}` : ''}`);
    if (r.exitCode !== 0) throw new Error(`starting CT ${g.vmid} on ${node} failed: ${r.stderr.trim()}`);
  }

  async stopGuest(node: string, g: GuestConf): Promise<void> {
    const r = await this.agent(node).run(stopScript(g.vmid));
    this.log(`${node}: stop CT ${g.vmid} -> ${r.exitCode}`);
  }

  async serveGuest(node: string, g: GuestConf, serve: Serve | undefined): Promise<void> {
    const r = await this.agent(node).run(serveScript(g.vmid, serve));
    this.log(`${node}: CT ${g.vmid} web state (${serve ? `${serve.docroot.size} file(s)` : 'no web server'}) -> ${r.exitCode}${r.stderr ? ` ${r.stderr.trim()}` : ''}`);
    if (r.exitCode !== 0) throw new Error(`serving CT ${g.vmid} on ${node} failed: ${r.stderr.trim()}`);
  }

  async readNodeFile(node: string, path: string): Promise<Buffer | undefined> {
    const r = await this.agent(node).run(`[ -f ${q(path)} ] || exit 3\nbase64 -w0 < ${q(path)}\n`);
    if (r.exitCode === 3) return undefined;
    if (r.exitCode !== 0) throw new Error(`reading ${path} on ${node} failed: ${r.stderr.trim()}`);
    return Buffer.from(r.stdout.trim(), 'base64');
  }

  async writeNodeFile(node: string, path: string, data: Buffer): Promise<void> {
    const tmp = `${path}.standin-new`;
    const r = await this.agent(node).run(`set -e\nmkdir -p ${q(path.slice(0, path.lastIndexOf('/')) || '/')}\nprintf '%s' ${data.toString('base64')} | base64 -d > ${q(tmp)}\nmv ${q(tmp)} ${q(path)}\n`);
    if (r.exitCode !== 0) throw new Error(`writing ${path} on ${node} failed: ${r.stderr.trim()}`);
  }

  async listNodeDir(node: string, dir: string): Promise<FileInfo[] | undefined> {
    const r = await this.agent(node).run(`[ -d ${q(dir)} ] || exit 3\ncd ${q(dir)}\nfor f in * .[!.]*; do [ -f "$f" ] && printf '%s %s\\n' "$(wc -c < "$f")" "$f"; done\nexit 0\n`);
    if (r.exitCode === 3) return undefined;
    if (r.exitCode !== 0) throw new Error(`listing ${dir} on ${node} failed: ${r.stderr.trim()}`);
    return r.stdout.split('\n').filter(Boolean).map((l) => ({ size: Number(l.slice(0, l.indexOf(' '))), name: l.slice(l.indexOf(' ') + 1) }));
  }

  nodeReinstalled(): void {
    // the node's disk was rewritten for real
  }

  resetNode(node: string): void {
    this.agents.get(node)?.forgetBoot();
    const dom = this.domains.get(node)!;
    this.log(`${node}: watchdog reset -> virsh reset ${dom}`);
    void virsh(this.uri, ['reset', dom]).then((r) => r.code && this.log(`virsh reset ${dom}: ${r.stderr.trim()}`));
  }
}
