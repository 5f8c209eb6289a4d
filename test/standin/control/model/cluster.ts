// The stand-in cluster model: nodes and their hardware state, corosync membership, pmxcfs, the HA
// daemons of every running node, guests, journals. Hardware changes come from outside (libvirt
// observer or tests): powerOn/powerOff/setLink/bootDone. Commands reach it through cmd/handle.ts.
// Ordering contract: a node boots (powerOn -> `boot` later, or bootDone() from the live agent),
// then its services start (watchdog-mux, pve-ha-lrm, pve-ha-crm); power off and watchdog reset kill
// them at once, the other nodes notice through corosync `membership` later.
import type { Clock } from './clock.js';
import { Pmxcfs, type CfsView, emptyDb } from './cfs.js';
import { type Effects, Guests } from './guests.js';
import { MemoryEffects } from './pure-effects.js';
import { ctRootfs, serveOf } from './rootfs.js';
import type { HaContext } from './ha/context.js';
import type { WatchdogMux } from './ha/watchdog.js';
import { NodeServices } from './services.js';
import { Journal } from './journal.js';
import { type IscsiTarget, LocalState } from './local.js';
import { type Release, release } from './release.js';
import { type Timing, timing } from './timing.js';
import { type Member, type NodeState, World } from './world.js';
import { logMembership } from './membership-log.js';
import { defaultStorage } from './storage.js';
import { volumeProblem } from './ct-create.js';

export interface ModelNode {
  name: string;
  ip: string;
  prefix?: number;
  gateway?: string;
  password: string;
  release?: string;
  rootfs?: 'ext4' | 'zfs';
  /** extra block devices of the node (name -> bytes), e.g. { vdb: 16 GiB } for a ZFS pool */
  disks?: Record<string, number>;
}

export interface ModelOptions {
  clock: Clock;
  release: string;
  nodes: ModelNode[];
  scale?: number;
  timing?: Timing;
  effects?: Effects;
  /** finish booting `boot` after power on (default true); the live stand-in calls bootDone() itself */
  autoBoot?: boolean;
  san?: IscsiTarget[];
  /** the lab reaches the internet (Debian mirrors, download.proxmox.com); default true */
  internet?: boolean;
  /** replay of the HA simulator only: its round length (see HaContext.simRound); also makes a
   *  watchdog expiry power the node off, as the simulator does, instead of resetting it */
  simRound?: number;
}

export class ClusterModel implements HaContext {
  readonly clock: Clock;
  readonly t: Timing;
  readonly world: World;
  readonly cfs: Pmxcfs;
  readonly journal = new Journal();
  readonly guests: Guests;
  readonly local: LocalState;
  readonly notifications: Array<{ t: number; node: string; msg: string }> = [];
  effects: Effects;
  /** the lab reaches the internet: apt in containers, pveam update/download (switch off for offline labs) */
  internet: boolean;
  readonly clusterRelease: Release;
  readonly simRound?: number;
  private readonly rt = new Map<string, NodeServices>();
  private readonly diskMap = new Map<string, Record<string, number>>();
  private readonly autoBoot: boolean;

  constructor(o: ModelOptions) {
    this.clock = o.clock;
    this.t = o.timing ?? timing(o.scale ?? 1);
    this.effects = o.effects ?? new MemoryEffects();
    this.internet = o.internet ?? true;
    this.autoBoot = o.autoBoot ?? true;
    if (o.simRound) this.simRound = o.simRound;
    this.clusterRelease = release(o.release);
    this.cfs = new Pmxcfs(this.t.lockLifetime);
    this.world = new World(this.clock, this.t, () => this.members(), (n) => this.cfs.joined.has(n));
    this.local = new LocalState(o.san ?? []);
    for (const n of o.nodes) {
      const st = this.world.addNode({ name: n.name, ip: n.ip, prefix: n.prefix ?? 24, gateway: n.gateway, password: n.password, release: release(n.release ?? o.release) });
      const db = emptyDb();
      db.storage = defaultStorage(n.rootfs ?? 'ext4');
      this.cfs.local.set(n.name, db);
      if (n.rootfs === 'zfs') this.local.pools(n.name).set('rpool', { name: 'rpool', devices: ['vda3'], size: 32 * 2 ** 30, raid: '', created: this.clock.now() });
      this.diskMap.set(st.name, { ...(n.disks ?? {}) });
    }
    this.guests = new Guests(this.clock, this.t, () => this.effects, (n) => this.view(n), () => this.world.nodes.keys(),
      (n) => (this.world.nodes.get(n)?.up ? this.world.get(n).bootId : ''), (n, g) => volumeProblem(this, n, g.conf.rootfs),
      (n, g) => serveOf(ctRootfs(this, n, g)));
    this.world.onMembership((changed) => {
      this.cfs.syncQuorum((n) => this.world.quorate(n));
      logMembership(this, changed);
    });
  }

  // --- HaContext ---
  get agent() {
    return this.guests.agent;
  }

  members(): Map<string, Member> {
    return new Map((this.cfs.cluster?.corosync?.nodes ?? []).map((n) => [n.name, { nodeid: n.nodeid, votes: n.votes }]));
  }

  release(node: string): Release {
    return this.world.get(node).release;
  }

  disks(node: string): Record<string, number> {
    return this.diskMap.get(node) ?? {};
  }

  node(name: string): NodeState {
    return this.world.get(name);
  }

  view(node: string): CfsView {
    return this.cfs.view(node, this.world.quorate(node));
  }

  log(node: string, unit: string, prio: number, msg: string, ident = unit): void {
    const n = this.world.get(node);
    this.journal.add({ t: this.clock.now(), node, unit, ident, pid: ident === 'systemd' ? 1 : this.pid(node, unit), prio, msg, boot: n.bootId });
  }

  pid(node: string, unit: string): number {
    return this.runtime(node).pid(unit);
  }

  /** restart of a service gives it a new pid (pve-cluster after a join, ...) */
  newPid(node: string, unit: string): void {
    this.runtime(node).restarted(unit);
  }

  notify(node: string, msg: string): void {
    this.notifications.push({ t: this.clock.now(), node, msg });
  }

  watchdog(node: string): WatchdogMux {
    return this.runtime(node).wd;
  }

  private runtime(node: string): NodeServices {
    let rt = this.rt.get(node);
    if (!rt) this.rt.set(node, (rt = new NodeServices(this, node, () => this.watchdogReset(node))));
    return rt;
  }

  // --- hardware (observer side) ---
  powerOn(name: string): void {
    const n = this.world.get(name);
    if (n.powered) return;
    n.powered = true;
    this.startBoot(n);
  }

  private startBoot(n: NodeState): void {
    this.world.newBootId(n);
    this.runtime(n.name).newBoot();
    const boot = n.bootId;
    if (this.autoBoot) this.clock.setTimer(this.t.boot, () => n.bootId === boot && n.powered && this.bootDone(n.name));
  }

  /** OS is up: pve services start (after every other event of this instant, so nodes powered on
   *  together see each other in their first round). */
  bootDone(name: string): void {
    const n = this.world.get(name);
    if (!n.powered || n.up) return;
    n.up = true;
    this.world.changed();
    const boot = n.bootId;
    this.clock.setTimer(0, () => n.up && n.bootId === boot && this.runtime(name).start());
  }

  private stopNode(name: string): void {
    const n = this.world.get(name);
    n.up = false;
    this.runtime(name).kill();
    this.guests.nodeDown(name);
    this.world.changed();
  }

  powerOff(name: string): void {
    const n = this.world.get(name);
    if (!n.powered) return;
    n.powered = false;
    n.frozen = false;
    this.stopNode(name);
  }

  /** softdog fired: hard reset (the machine reboots; the live stand-in resets the VM for real) */
  private watchdogReset(name: string): void {
    const n = this.world.get(name);
    if (!n.powered) return;
    this.notify(name, `watchdog: node '${name}' reset`);
    // the simulator's watchdog powers the node off until a "power on" command (Sim/Hardware.pm)
    if (this.simRound) return this.powerOff(name);
    this.stopNode(name);
    this.effects.resetNode(name);
    this.startBoot(n);
  }

  /** VM paused/resumed (virsh suspend/resume) */
  setFrozen(name: string, frozen: boolean): void {
    const n = this.world.get(name);
    if (n.frozen === frozen) return;
    n.frozen = frozen;
    this.world.changed();
  }

  setLink(name: string, up: boolean): void {
    const n = this.world.get(name);
    if (n.linked === up) return;
    n.linked = up;
    this.world.changed();
  }

  /** the machine was reinstalled: standalone again (fresh local /etc/pve), same name and address */
  reinstall(name: string, rootfs: 'ext4' | 'zfs' = 'ext4'): void {
    this.cfs.joined.delete(name);
    const db = emptyDb();
    db.storage = defaultStorage(rootfs);
    this.cfs.local.set(name, db);
    this.local.cache(name).clear();
    this.effects.nodeReinstalled(name);
    this.world.recompute();
  }

  /** re-read the node's `local` template directory (files may have been put there over SFTP) */
  async refreshTemplates(node: string): Promise<Map<string, number>> {
    const dir = `${this.view(node).db.storage.get('local')?.opts.path ?? '/var/lib/vz'}/template/cache`;
    const files = (await this.effects.listNodeDir(node, dir)) ?? [];
    const cache = this.local.cache(node);
    cache.clear();
    for (const f of files) if (/\.tar\.(gz|xz|zst|bz2)$/.test(f.name)) cache.set(f.name, f.size);
    return cache;
  }

  crmState(node: string): string | undefined {
    return this.rt.get(node)?.crm?.state;
  }

  lrmState(node: string): string | undefined {
    return this.rt.get(node)?.lrm?.state;
  }

  /** stop every daemon (end of test / daemon shutdown) */
  shutdown(): void {
    for (const rt of this.rt.values()) rt.kill();
  }

}
