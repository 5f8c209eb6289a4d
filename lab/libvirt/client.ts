// openLibvirt(): the LibvirtDriver implementation. Calls go to a CallPool (worker threads with their own
// connections); lifecycle events come from the shared EventHost. Object-level logic (marks, device
// edits, fallbacks for drivers without some flags) lives here, on the main thread, as pure code.
import { METADATA_NS } from '../config/names.js';
import { LabError, TimeoutError } from '../core/errors.js';
import { AFFECT, UNDEFINE, VIR_DOMAIN_DEVICE_MODIFY_FORCE, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, eventDetailName, eventName } from './constants.js';
import { CallPool } from './calls.js';
import { cdromMedia, cdromWithMedia, interfaceWithLink, linkState } from './devices.js';
import type { AffectOpts, DomainInfo, LibvirtDriver, LibvirtVersion, LifecycleEvent, NetworkInfo, WaitOpts } from './driver.js';
import { isLibvirtError } from './errors.js';
import { EventHost, type RawEvent } from './events.js';
import { markFromMetadata, markFromXml } from './marks.js';
import type { DomainRow, NetworkRow } from './ops.js';
import { child, parseXml } from './xml.js';
import { waitForEvent, waitForState } from './waits.js';

export interface OpenOptions {
  /** Call threads (each with its own connection); default 2, so a slow destroy does not queue the rest. */
  threads?: number;
  /** Subscribe to lifecycle events (one extra connection); default true. */
  events?: boolean;
}

/** Connects to libvirt at `uri` (default qemu:///system). Close the driver when done. */
export async function openLibvirt(uri = 'qemu:///system', opts: OpenOptions = {}): Promise<LibvirtDriver> {
  const listeners = new Set<(e: LifecycleEvent) => void>();
  let host: EventHost | undefined;
  let watchKey: number | undefined;
  const state = { eventsAlive: false };
  try {
    if (opts.events !== false) {
      // The event loop must be registered before any connection is opened (keepalive, remote events).
      host = await EventHost.acquire();
      watchKey = await host.watch(
        uri,
        (raw) => dispatch(listeners, raw),
        () => (state.eventsAlive = false),
      );
      state.eventsAlive = true;
    }
    const pool = await CallPool.open(uri, opts.threads ?? 2);
    return new Driver(uri, pool, listeners, state, async () => {
      if (host && watchKey !== undefined) await host.unwatch(watchKey).catch(() => undefined);
      await host?.release();
    });
  } catch (err) {
    if (host && watchKey !== undefined) await host.unwatch(watchKey).catch(() => undefined);
    await host?.release();
    throw err;
  }
}

function dispatch(listeners: Set<(e: LifecycleEvent) => void>, raw: RawEvent): void {
  const e: LifecycleEvent = {
    domain: raw.domain,
    uuid: raw.uuid,
    type: eventName(raw.event),
    detail: eventDetailName(raw.event, raw.detail),
    at: raw.at,
    receivedAt: performance.timeOrigin + performance.now(),
  };
  for (const l of [...listeners]) l(e);
}

const version = (n: number) => (n ? `${Math.floor(n / 1e6)}.${Math.floor(n / 1e3) % 1000}.${n % 1000}` : '');

function toDomain(r: DomainRow): DomainInfo {
  return { name: r.name, uuid: r.uuid, state: r.state, persistent: r.persistent, mark: markFromMetadata(r.metadata) };
}

function toNetwork(r: NetworkRow): NetworkInfo {
  let bridge: string | undefined;
  try {
    bridge = child(parseXml(r.xml), 'bridge')?.attrs['name'];
  } catch {
    bridge = undefined;
  }
  return { name: r.name, uuid: r.uuid, active: r.active, persistent: r.persistent, autostart: r.autostart, bridge, mark: markFromXml(r.xml) };
}

/** Flags a driver may not know (the test driver, older daemons) are dropped one step at a time. */
const unsupportedFlags = (err: unknown) => isLibvirtError(err, 'INVALID_ARG') || isLibvirtError(err, 'ARGUMENT_UNSUPPORTED');

class Driver implements LibvirtDriver {
  private closed?: Promise<void>;

  constructor(
    readonly uri: string,
    private readonly pool: CallPool,
    private readonly listeners: Set<(e: LifecycleEvent) => void>,
    private readonly state: { eventsAlive: boolean },
    private readonly stopEvents: () => Promise<void>,
  ) {}

  get eventsAlive(): boolean {
    return this.state.eventsAlive;
  }

  async version(): Promise<LibvirtVersion> {
    const v = await this.pool.call('version', [], 'cannot read the libvirt version');
    return { libvirt: version(v.libvirt), hypervisor: version(v.hypervisor), type: v.type, uri: v.uri };
  }

  // ── networks ──
  async defineNetwork(xml: string): Promise<NetworkInfo> {
    const { name } = await this.pool.call('network.define', [xml], 'cannot define the libvirt network');
    const info = await this.getNetwork(name);
    if (!info) throw new LabError(`network ${name} vanished right after it was defined`);
    return info;
  }
  async getNetwork(name: string): Promise<NetworkInfo | undefined> {
    const r = await this.pool.call('network.get', [name], `cannot look up network ${name}`);
    return r ? toNetwork(r) : undefined;
  }
  async listNetworks(): Promise<NetworkInfo[]> {
    return (await this.pool.call('network.list', [], 'cannot list libvirt networks')).map(toNetwork);
  }
  networkXml(name: string, opts: { inactive?: boolean } = {}): Promise<string> {
    const what = `cannot read the XML of network ${name}`;
    return this.pool.call('network.xml', [name, opts.inactive ?? false], what).catch((err: unknown) => {
      if (!opts.inactive || !unsupportedFlags(err)) throw err;
      return this.pool.call('network.xml', [name, false], what); // drivers without a separate inactive config
    });
  }
  startNetwork(name: string): Promise<void> {
    return this.pool.call('network.start', [name], `cannot start network ${name}`);
  }
  stopNetwork(name: string): Promise<void> {
    return this.pool.call('network.destroy', [name], `cannot stop network ${name}`);
  }
  undefineNetwork(name: string): Promise<void> {
    return this.pool.call('network.undefine', [name], `cannot undefine network ${name}`);
  }
  setNetworkAutostart(name: string, on: boolean): Promise<void> {
    return this.pool.call('network.autostart', [name, on], `cannot set autostart of network ${name}`);
  }

  // ── domains ──
  async defineDomain(xml: string, opts: { validate?: boolean } = {}): Promise<DomainInfo> {
    const { name } = await this.pool.call('domain.define', [xml, opts.validate ?? false], 'cannot define the libvirt domain');
    const info = await this.getDomain(name);
    if (!info) throw new LabError(`domain ${name} vanished right after it was defined`);
    return info;
  }
  async getDomain(name: string): Promise<DomainInfo | undefined> {
    const r = await this.pool.call('domain.get', [name, METADATA_NS], `cannot look up domain ${name}`);
    return r ? toDomain(r) : undefined;
  }
  async listDomains(): Promise<DomainInfo[]> {
    return (await this.pool.call('domain.list', [METADATA_NS], 'cannot list libvirt domains')).map(toDomain);
  }
  domainXml(name: string, opts: { inactive?: boolean } = {}): Promise<string> {
    return this.pool.call('domain.xml', [name, opts.inactive ?? false], `cannot read the XML of domain ${name}`);
  }
  async domainState(name: string): Promise<DomainInfo['state']> {
    const d = await this.getDomain(name);
    if (!d) throw new LabError(`domain ${name} does not exist`);
    return d.state;
  }
  start(name: string): Promise<void> {
    return this.pool.call('domain.start', [name], `cannot start domain ${name}`);
  }
  async shutdown(name: string, opts: WaitOpts & { force?: boolean }): Promise<'shutoff' | 'forced'> {
    if ((await this.domainState(name)) === 'shutoff') return 'shutoff';
    const what = `cannot shut down domain ${name}`;
    await this.pool.call('domain.shutdown', [name, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN], what).catch((err: unknown) => {
      if (!unsupportedFlags(err)) throw err;
      return this.pool.call('domain.shutdown', [name, 0], what);
    });
    try {
      await this.waitForState(name, ['shutoff'], opts);
      return 'shutoff';
    } catch (err) {
      if (!opts.force || opts.signal?.aborted || !(err instanceof TimeoutError)) throw err;
      await this.destroy(name);
      return 'forced';
    }
  }
  destroy(name: string): Promise<void> {
    return this.pool.call('domain.destroy', [name], `cannot power off domain ${name}`);
  }
  reset(name: string): Promise<void> {
    return this.pool.call('domain.reset', [name], `cannot reset domain ${name}`);
  }
  suspend(name: string): Promise<void> {
    return this.pool.call('domain.suspend', [name], `cannot suspend domain ${name}`);
  }
  resume(name: string): Promise<void> {
    return this.pool.call('domain.resume', [name], `cannot resume domain ${name}`);
  }
  async undefine(name: string, opts: { keepNvram?: boolean } = {}): Promise<void> {
    const full = UNDEFINE.managedSave | UNDEFINE.snapshotsMetadata | UNDEFINE.checkpointsMetadata | (opts.keepNvram ? UNDEFINE.keepNvram : UNDEFINE.nvram);
    const what = `cannot undefine domain ${name}`;
    for (const flags of [full, UNDEFINE.managedSave | UNDEFINE.snapshotsMetadata, 0]) {
      try {
        return await this.pool.call('domain.undefine', [name, flags], what);
      } catch (err) {
        if (flags === 0 || !unsupportedFlags(err)) throw err;
      }
    }
  }

  // ── devices and faults ──
  async linkState(name: string, mac: string): Promise<'up' | 'down' | undefined> {
    return linkState(await this.domainXml(name), mac);
  }
  async setLinkState(name: string, mac: string, state: 'up' | 'down', opts: { persist?: boolean } = {}): Promise<void> {
    const dev = interfaceWithLink(await this.domainXml(name), mac, state, `domain ${name}`);
    const flags = AFFECT.live | (opts.persist ? AFFECT.config : 0);
    await this.pool.call('domain.updateDevice', [name, dev, flags], `cannot set the link of ${mac} on domain ${name} ${state}`);
  }
  async cdromMedia(name: string, target: string, opts: { inactive?: boolean } = {}): Promise<string | null | undefined> {
    return cdromMedia(await this.domainXml(name, opts), target);
  }
  async setCdrom(name: string, target: string, file: string | null, opts: AffectOpts = {}): Promise<void> {
    const flags = await this.affect(name, opts);
    const xml = await this.domainXml(name, { inactive: (flags & AFFECT.live) === 0 });
    const dev = cdromWithMedia(xml, target, file, `domain ${name}`);
    const force = file === null && flags & AFFECT.live ? VIR_DOMAIN_DEVICE_MODIFY_FORCE : 0;
    const what = file === null ? `cannot eject ${target} of domain ${name}` : `cannot insert ${file} into ${target} of domain ${name}`;
    await this.pool.call('domain.updateDevice', [name, dev, flags | force], what);
  }
  async attachDevice(name: string, xml: string, opts: AffectOpts = {}): Promise<void> {
    await this.pool.call('domain.attachDevice', [name, xml, await this.affect(name, opts)], `cannot attach a device to domain ${name}`);
  }
  async detachDevice(name: string, xml: string, opts: AffectOpts = {}): Promise<void> {
    await this.pool.call('domain.detachDevice', [name, xml, await this.affect(name, opts)], `cannot detach a device from domain ${name}`);
  }

  /** Default impact: the running domain (if it runs) and the persistent definition (if it has one). */
  private async affect(name: string, opts: AffectOpts): Promise<number> {
    if (opts.live !== undefined || opts.config !== undefined) return (opts.live ? AFFECT.live : 0) | (opts.config ? AFFECT.config : 0);
    const d = await this.getDomain(name);
    if (!d) throw new LabError(`domain ${name} does not exist`);
    const running = d.state !== 'shutoff' && d.state !== 'crashed' && d.state !== 'nostate';
    return (running ? AFFECT.live : 0) | (d.persistent ? AFFECT.config : 0);
  }

  // ── events ──
  onLifecycle(listener: (e: LifecycleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  waitForEvent(match: (e: LifecycleEvent) => boolean, opts: WaitOpts & { what?: string }): Promise<LifecycleEvent> {
    return waitForEvent(this, match, opts);
  }
  waitForState(name: string, states: readonly DomainInfo['state'][], opts: WaitOpts): Promise<DomainInfo['state']> {
    return waitForState(this, name, states, opts);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.listeners.clear();
      await Promise.allSettled([this.pool.close(), this.stopEvents()]);
    })();
    return this.closed;
  }
}
