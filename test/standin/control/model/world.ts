// Hardware and corosync membership of the stand-in nodes. The physical state (powered, linked,
// booted) is set by the observer (libvirt in the live stand-in, the test in model tests), never by
// the commands pvelab runs. Corosync sees a change `timing.membership` later: members that are up
// and linked form one partition, every other up member is alone. A partition is quorate when its
// votes are more than half of the configured votes (votequorum); a node outside any cluster is
// always "quorate" (pmxcfs local mode).
import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import type { Release } from './release.js';
import type { Timing } from './timing.js';

export interface NodeSpec {
  name: string;
  ip: string;
  prefix?: number; // default 24
  gateway?: string;
  password: string;
  release: Release;
}

export interface NodeState extends Required<Omit<NodeSpec, 'gateway'>> {
  gateway?: string;
  powered: boolean;
  linked: boolean;
  up: boolean; // booted, pve services running
  frozen: boolean; // VM paused: nothing runs, corosync drops it, its watchdog does not tick
  bootId: string;
  boots: number;
  certGen: number; // bumped when the node certificate is regenerated (cluster join)
  pidBase: number;
}

export interface Member {
  nodeid: number;
  votes: number;
}

export type MembershipListener = (changed: string[]) => void;

export class World {
  readonly nodes = new Map<string, NodeState>();
  /** corosync view: node -> sorted member names of its partition (absent: corosync not running) */
  private partition = new Map<string, string[]>();
  ringSeq = 1;
  private pending = false;
  private listeners: MembershipListener[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly t: Timing,
    /** configured corosync members (empty until a cluster exists) */
    private readonly members: () => Map<string, Member>,
    /** node runs corosync with the cluster's config (created or joined, not reinstalled since) */
    private readonly joined: (name: string) => boolean = () => true,
  ) {}

  addNode(spec: NodeSpec): NodeState {
    const n: NodeState = {
      prefix: 24, ...spec, powered: false, linked: true, up: false, frozen: false, bootId: '', boots: 0, certGen: 0,
      pidBase: 700 + ((this.nodes.size * 37) % 200),
    };
    this.nodes.set(n.name, n);
    return n;
  }

  get(name: string): NodeState {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`stand-in: unknown node '${name}'`);
    return n;
  }

  byIp(ip: string): NodeState | undefined {
    return [...this.nodes.values()].find((n) => n.ip === ip || n.name === ip);
  }

  onMembership(fn: MembershipListener): void {
    this.listeners.push(fn);
  }

  /** SHA-256 fingerprint of the node's pve-ssl.pem (deterministic per name, ip and certificate generation). */
  fingerprint(name: string): string {
    const n = this.get(name);
    const h = createHash('sha256').update(`pve-ssl.pem|${n.name}|${n.ip}|${n.certGen}`).digest('hex').toUpperCase();
    return h.match(/../g)!.join(':');
  }

  newBootId(n: NodeState): void {
    n.boots++;
    n.bootId = createHash('md5').update(`${n.name}|boot|${n.boots}`).digest('hex');
  }

  /** Physical change: corosync notices after the membership delay (0 = at once). */
  changed(): void {
    if (this.t.membership <= 0) return this.recompute();
    if (this.pending) return;
    this.pending = true;
    this.clock.setTimer(this.t.membership, () => {
      this.pending = false;
      this.recompute();
    });
  }

  /** Recompute partitions now (also used right after cluster create/join). */
  recompute(): void {
    const members = this.members();
    const next = new Map<string, string[]>();
    const running = [...this.nodes.values()].filter((n) => n.up && !n.frozen && members.has(n.name) && this.joined(n.name));
    const linked = running.filter((n) => n.linked).map((n) => n.name).sort();
    for (const n of running) next.set(n.name, n.linked ? linked : [n.name]);
    const changed: string[] = [];
    for (const name of new Set([...next.keys(), ...this.partition.keys()])) {
      if ((next.get(name) ?? []).join() !== (this.partition.get(name) ?? []).join()) changed.push(name);
    }
    this.partition = next;
    if (changed.length) {
      this.ringSeq++;
      for (const fn of this.listeners) fn(changed);
    }
  }

  partitionOf(node: string): string[] {
    return this.partition.get(node) ?? [];
  }

  votes(names: string[]): number {
    const m = this.members();
    return names.reduce((s, n) => s + (m.get(n)?.votes ?? 0), 0);
  }

  expectedVotes(): number {
    return [...this.members().values()].reduce((s, m) => s + m.votes, 0);
  }

  /** votequorum: quorum = floor(expected/2)+1. */
  quorumNeeded(): number {
    return Math.floor(this.expectedVotes() / 2) + 1;
  }

  quorate(node: string): boolean {
    const n = this.nodes.get(node);
    if (!n?.up || n.frozen) return false;
    if (!this.members().has(node) || !this.joined(node)) return true;
    const part = this.partition.get(node);
    return !!part && this.votes(part) >= this.quorumNeeded();
  }

  /** Partition-local "online" as corosync reports it to that node. */
  online(observer: string, node: string): boolean {
    return this.partitionOf(observer).includes(node);
  }
}
