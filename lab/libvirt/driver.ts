// The typed libvirt driver every other module uses (steps, faults, status). All calls are async and run
// in worker threads (calls.ts / events.ts): Node's event loop never waits on libvirt.
// Registered in the step context as services.libvirt (see the declaration merge at the bottom).
import type { DomainState, LifecycleEventType } from './constants.js';
import type { OwnerMark } from './marks.js';

export type { DomainState, LifecycleEventType } from './constants.js';
export type { OwnerMark } from './marks.js';

export interface LibvirtVersion {
  /** "9.0.0" */
  libvirt: string;
  /** Hypervisor version, e.g. QEMU "7.2.0"; "" when the driver has none. */
  hypervisor: string;
  /** Driver name: "QEMU", "TEST", … */
  type: string;
  /** The URI the connection resolved to. */
  uri: string;
}

export interface DomainInfo {
  name: string;
  uuid: string;
  state: DomainState;
  persistent: boolean;
  /** Our ownership mark, when the domain has one. */
  mark?: OwnerMark | undefined;
}

export interface NetworkInfo {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  bridge?: string | undefined;
  mark?: OwnerMark | undefined;
}

export interface LifecycleEvent {
  domain: string;
  uuid: string;
  type: LifecycleEventType | `event-${number}`;
  /** Detail in libvirt's words: "booted", "destroyed", "shutdown", "finished", … */
  detail: string;
  /** Wall-clock ms when the event thread received it from libvirt. */
  at: number;
  /** Wall-clock ms when it reached the main thread. */
  receivedAt: number;
}

export interface WaitOpts {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Poll interval for state waits (events wake them earlier); default 500 ms. */
  intervalMs?: number | undefined;
}

/** Which copy of a domain a device change affects; default: live when running, and config. */
export interface AffectOpts {
  live?: boolean | undefined;
  config?: boolean | undefined;
}

export interface LibvirtDriver {
  /** The URI this driver is connected to. */
  readonly uri: string;
  version(): Promise<LibvirtVersion>;

  // ── networks ──
  /** Defines (or redefines) a persistent network from XML. */
  defineNetwork(xml: string): Promise<NetworkInfo>;
  getNetwork(name: string): Promise<NetworkInfo | undefined>;
  listNetworks(): Promise<NetworkInfo[]>;
  networkXml(name: string, opts?: { inactive?: boolean }): Promise<string>;
  startNetwork(name: string): Promise<void>;
  /** Stops a network (libvirt's "destroy"); its definition stays. */
  stopNetwork(name: string): Promise<void>;
  undefineNetwork(name: string): Promise<void>;
  setNetworkAutostart(name: string, on: boolean): Promise<void>;

  // ── domains ──
  /** Defines (or redefines) a persistent domain; validate = check against libvirt's schema too. */
  defineDomain(xml: string, opts?: { validate?: boolean }): Promise<DomainInfo>;
  getDomain(name: string): Promise<DomainInfo | undefined>;
  listDomains(): Promise<DomainInfo[]>;
  domainXml(name: string, opts?: { inactive?: boolean }): Promise<string>;
  domainState(name: string): Promise<DomainState>;
  start(name: string): Promise<void>;
  /**
   * ACPI power-button shutdown, then waits until the domain is shut off. At the deadline it throws
   * TimeoutError, or with force: destroys the domain and resolves 'forced'.
   */
  shutdown(name: string, opts: WaitOpts & { force?: boolean }): Promise<'shutoff' | 'forced'>;
  /** Hard power off (also the "power off" fault). */
  destroy(name: string): Promise<void>;
  /** Hard reset, like the reset button. */
  reset(name: string): Promise<void>;
  /** Pauses the vCPUs (the "freeze" fault). */
  suspend(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** Removes the definition, with managed save, snapshot metadata and (unless keepNvram) UEFI NVRAM. */
  undefine(name: string, opts?: { keepNvram?: boolean }): Promise<void>;

  // ── devices and faults ──
  /** Link state of the NIC with that MAC in the live domain; undefined when there is no such NIC. */
  linkState(name: string, mac: string): Promise<'up' | 'down' | undefined>;
  /** Sets the link of the NIC with that MAC on the running domain (the "isolate" fault); persist also
   *  writes it into the definition. */
  setLinkState(name: string, mac: string, state: 'up' | 'down', opts?: { persist?: boolean }): Promise<void>;
  /** The file in CD-ROM drive `target` (null when empty; undefined when no such drive). */
  cdromMedia(name: string, target: string, opts?: { inactive?: boolean }): Promise<string | null | undefined>;
  /** Inserts `file` into CD-ROM drive `target`, or ejects it (null, forced: the guest may lock the tray). */
  setCdrom(name: string, target: string, file: string | null, opts?: AffectOpts): Promise<void>;
  attachDevice(name: string, xml: string, opts?: AffectOpts): Promise<void>;
  detachDevice(name: string, xml: string, opts?: AffectOpts): Promise<void>;

  // ── events ──
  /** Lifecycle events of every domain on this connection; returns the unsubscribe function. */
  onLifecycle(listener: (e: LifecycleEvent) => void): () => void;
  /** Resolves with the first event matching `match` from now on (subscribe before you act). */
  waitForEvent(match: (e: LifecycleEvent) => boolean, opts: WaitOpts & { what?: string }): Promise<LifecycleEvent>;
  /** Resolves when the domain is in one of `states` (polls; lifecycle events wake it early). */
  waitForState(name: string, states: readonly DomainState[], opts: WaitOpts): Promise<DomainState>;
  /** False after the event connection dropped (daemon restart, ssh gone); waits then rely on polling. */
  readonly eventsAlive: boolean;

  /** Closes the connections and stops the worker threads; the process can exit afterwards. Idempotent. */
  close(): Promise<void>;
}

declare module '../core/step.js' {
  interface Services {
    libvirt: LibvirtDriver;
  }
}
