// Live Proxmox stand-in control plane for tests: the cluster model on the real clock (constants ×
// scale), fed by libvirt (power, link, pause of the node domains, polled with virsh), answering the
// node-side shims over each domain's virtio-serial command channel and acting on the nodes through
// their agent channel (containers as network namespaces, watchdog resets). Usage:
//   1. build the node image with  build.sh <release> <out> --overlay STANDIN_OVERLAY
//   2. give every node domain  standinChannelXml(dir, node)  in its <devices> (lab extraDeviceXml)
//   3. const sc = await startStandinCluster({ ns, release, scale, nodes })   (ns = {uri, dir})
//   4. drive the nodes over SSH as pvelab does; sc.stop() at the end.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RealClock } from '../model/clock.js';
import { ClusterModel } from '../model/cluster.js';
import type { IscsiTarget } from '../model/local.js';
import { timing } from '../model/timing.js';
import { AgentClient } from './agent.js';
import { CmdServer } from './cmd-server.js';
import { LiveEffects } from './effects.js';
import { type HwState, Observer } from './virsh.js';

/** directory tree to pass to build.sh --overlay (shims, agent, rc.d hook) */
export const STANDIN_OVERLAY = fileURLToPath(new URL('../overlay/', import.meta.url));

export interface StandinNodeSpec {
  name: string; // hostname of the installed node
  domain: string; // libvirt domain name
  ip: string;
  prefix?: number;
  gateway?: string;
  mac: string; // the NIC whose link is the node's cluster link
  password: string; // root password (cluster join)
  disks?: Record<string, number>; // extra disks by guest name, e.g. { vdb: 16 GiB }
  rootfs?: 'ext4' | 'zfs';
}

export interface StandinOpts {
  ns: { uri: string; dir: string };
  release: string;
  scale?: number;
  nodes: StandinNodeSpec[];
  san?: IscsiTarget[];
  pollMs?: number;
  log?: (line: string) => void;
}

export function standinSockets(dir: string, node: string): { cmd: string; agent: string } {
  const d = join(dir, 'standin-control');
  return { cmd: join(d, `${node}.cmd.sock`), agent: join(d, `${node}.agent.sock`) };
}

/** <channel> devices for a node domain (QEMU listens, the daemon connects) */
export function standinChannelXml(dir: string, node: string): string {
  mkdirSync(join(dir, 'standin-control'), { recursive: true });
  const s = standinSockets(dir, node);
  return `<channel type='unix'><source mode='bind' path='${s.cmd}'/><target type='virtio' name='org.pvelab.standin.cmd'/></channel>\n` +
    `<channel type='unix'><source mode='bind' path='${s.agent}'/><target type='virtio' name='org.pvelab.standin.agent'/></channel>\n`;
}

export interface StandinCluster {
  model: ClusterModel;
  /** resolves when every node's agent reported a boot (nodes up in the model) */
  waitNodesUp(timeoutMs: number): Promise<void>;
  log: string[];
  /** run a shell script on a node through its agent channel (works with the node's link cut) */
  runOnNode(node: string, script: string, timeoutMs?: number): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  /** kernel boot id the node's agent last reported ('' while it is (re)booting) */
  bootId(node: string): string;
  stop(): Promise<void>;
}

export async function startStandinCluster(o: StandinOpts): Promise<StandinCluster> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(`${new Date().toISOString()} ${s}`);
    o.log?.(s);
  };
  const agents = new Map<string, AgentClient>();
  const domains = new Map(o.nodes.map((n) => [n.name, n.domain]));
  const model = new ClusterModel({
    clock: new RealClock(), release: o.release, timing: timing(o.scale ?? 1), autoBoot: false, san: o.san,
    nodes: o.nodes.map((n) => ({ name: n.name, ip: n.ip, prefix: n.prefix, gateway: n.gateway, password: n.password, disks: n.disks, rootfs: n.rootfs })),
  });
  model.effects = new LiveEffects(agents, o.ns.uri, domains, log);
  const servers: CmdServer[] = [];
  /** kernel boot id the model's current boot of each node belongs to ('' = not known yet) */
  const liveBoot = new Map<string, string>();
  const modelBoot = new Map<string, string>();
  for (const n of o.nodes) {
    const s = standinSockets(o.ns.dir, n.name);
    agents.set(n.name, new AgentClient(s.agent, (boot, host) => {
      log(`${n.name}: agent up (host ${host}, boot ${boot})`);
      const st = model.node(n.name);
      const same = modelBoot.get(n.name) === st.bootId; // the model has not rebooted it since
      if (st.up && same && liveBoot.get(n.name) && liveBoot.get(n.name) !== boot) {
        // rebooted behind the model's back (guest reboot): a reset as far as the cluster knows
        model.powerOff(n.name);
        model.powerOn(n.name);
      } else if (!st.powered) model.powerOn(n.name);
      model.bootDone(n.name);
      liveBoot.set(n.name, boot);
      modelBoot.set(n.name, model.node(n.name).bootId);
    }));
    servers.push(new CmdServer(model, n.name, s.cmd, log));
  }
  const apply = (node: string, hw: HwState) => {
    log(`${node}: libvirt state '${hw.state}' link '${hw.link}'`);
    const powered = ['running', 'paused', 'in shutdown', 'blocked'].includes(hw.state);
    if (!powered) {
      model.powerOff(node);
      agents.get(node)!.forgetBoot();
    } else if (!model.node(node).powered) {
      model.powerOn(node); // boot completes when its agent says hello
    }
    model.setFrozen(node, hw.state === 'paused');
    if (hw.link) model.setLink(node, hw.link === 'up');
  };
  const observer = new Observer(o.ns.uri, o.nodes.map((n) => ({ node: n.name, domain: n.domain, mac: n.mac })), apply, o.pollMs ?? 500);
  observer.start();
  return {
    model,
    log: lines,
    runOnNode: (node, script, timeoutMs) => {
      const a = agents.get(node);
      if (!a) throw new Error(`stand-in: unknown node '${node}'`);
      return a.run(script, timeoutMs);
    },
    bootId: (node) => agents.get(node)?.bootId ?? '',
    async waitNodesUp(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!o.nodes.every((n) => model.node(n.name).up)) {
        if (Date.now() > deadline) throw new Error(`stand-in: nodes not up within ${timeoutMs} ms: ${o.nodes.filter((n) => !model.node(n.name).up).map((n) => n.name).join(', ')}\n${lines.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      observer.stop();
      model.shutdown();
      for (const s of servers) s.close();
      for (const a of agents.values()) a.close();
    },
  };
}
