// What the HA daemons of the model need from the cluster model (kept as an interface so the HA code
// does not depend on the command layer or on the live effects).
import type { Clock } from '../clock.js';
import type { Pmxcfs } from '../cfs.js';
import type { Release } from '../release.js';
import type { Timing } from '../timing.js';
import type { Member, World } from '../world.js';
import type { WatchdogMux } from './watchdog.js';

/** The resource side of the LRM (PVE::HA::Resources::PVECT/PVEVM): runs on the owning node. */
export interface ResourceAgent {
  exists(sid: string): boolean;
  checkRunning(node: string, sid: string): boolean;
  /** runs the start task; resolves with the task's error text, if it failed (check checkRunning) */
  start(node: string, sid: string): Promise<string | undefined>;
  shutdown(node: string, sid: string, timeout?: number): Promise<void>;
  /** relocate (ct, offline) / migrate (vm, online): move the guest config and its runtime to target */
  migrate(node: string, sid: string, target: string, online: boolean): Promise<boolean>;
}

export interface HaContext {
  clock: Clock;
  t: Timing;
  world: World;
  cfs: Pmxcfs;
  members(): Map<string, Member>;
  release(node: string): Release;
  log(node: string, unit: string, prio: number, msg: string, ident?: string): void;
  pid(node: string, unit: string): number;
  notify(node: string, msg: string): void;
  watchdog(node: string): WatchdogMux;
  agent: ResourceAgent;
  /**
   * Replay of pve-ha-manager's simulator only: its round length (20 s). When set, every CRM/LRM
   * iteration starts at a round boundary, at the daemon's slot in node order (crm1, lrm1, crm2, …
   * one second apart), as Sim/TestHardware.pm runs them; unset (the real daemons' own loop timing)
   * everywhere else.
   */
  simRound?: number;
}
