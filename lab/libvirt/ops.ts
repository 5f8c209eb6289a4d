// Synchronous libvirt operations, run inside a call worker (worker.ts) on that worker's own connection.
// Contract: every op looks objects up by name, frees every handle in `finally`, and on failure throws an
// OpFailure carrying the error read with virGetLastError on this same thread right after the failing
// call. Results are plain data (structured-clone safe). "get" ops return null when the object is absent.
import {
  ERR, VIR_DOMAIN_DEFINE_VALIDATE, VIR_DOMAIN_METADATA_ELEMENT, VIR_DOMAIN_XML_INACTIVE, VIR_NETWORK_XML_INACTIVE,
  stateName, type DomainState,
} from './constants.js';
import { type Ptr, type VirErrorInfo, decodePointers, lastError, libvirt, uuidBuffer } from './ffi.js';

/** A failed call: the operation and libvirt's error from the calling thread. */
export class OpFailure extends Error {
  constructor(readonly operation: string, readonly error: VirErrorInfo) {
    super(`${operation}: ${error.message}`);
  }
}

export interface DomainRow {
  name: string;
  uuid: string;
  state: DomainState;
  /** virDomain*Reason of the state (e.g. shutoff: 1 = shutdown, 2 = destroyed). */
  reason: number;
  persistent: boolean;
  /** Our <metadata> element (virDomainGetMetadata with our namespace), or null when it has none. */
  metadata: string | null;
}

export interface NetworkRow {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  /** Live XML (networks expose metadata only through their XML in libvirt < 9.7). */
  xml: string;
}

export interface VersionInfo {
  /** libvirt library version of the connection's daemon side, e.g. 9000000 = 9.0.0. */
  libvirt: number;
  /** Hypervisor version (e.g. QEMU 7.2.0 = 7002000); 0 when the driver has none. */
  hypervisor: number;
  /** Driver name, e.g. "QEMU" or "TEST". */
  type: string;
  /** The URI libvirt resolved the connection to. */
  uri: string;
}

function fail(operation: string): never {
  const e = lastError() ?? { code: -1, domain: 0, message: 'unknown libvirt error (no error was recorded)', level: 2 };
  libvirt().virResetLastError();
  throw new OpFailure(operation, e);
}

const check = (rc: number, operation: string): void => {
  if (rc < 0) fail(operation);
};

function lookup(c: Ptr, kind: 'domain' | 'network', name: string, missingOk: boolean): Ptr | null {
  const v = libvirt();
  const p = (kind === 'domain' ? v.virDomainLookupByName(c, name) : v.virNetworkLookupByName(c, name)) as Ptr | null;
  if (p) return p;
  const err = lastError();
  if (missingOk && err && err.code === (kind === 'domain' ? ERR.NO_DOMAIN : ERR.NO_NETWORK)) {
    v.virResetLastError();
    return null;
  }
  return fail(`${kind === 'domain' ? 'virDomainLookupByName' : 'virNetworkLookupByName'}(${name})`);
}

function withDomain<T>(c: Ptr, name: string, fn: (d: Ptr) => T): T {
  const d = lookup(c, 'domain', name, false)!;
  try {
    return fn(d);
  } finally {
    libvirt().virDomainFree(d);
  }
}

function withNetwork<T>(c: Ptr, name: string, fn: (n: Ptr) => T): T {
  const n = lookup(c, 'network', name, false)!;
  try {
    return fn(n);
  } finally {
    libvirt().virNetworkFree(n);
  }
}

function uuidOf(p: Ptr, kind: 'domain' | 'network'): string {
  const buf = uuidBuffer();
  const v = libvirt();
  check(kind === 'domain' ? v.virDomainGetUUIDString(p, buf) : v.virNetworkGetUUIDString(p, buf), 'GetUUIDString');
  return buf.toString('latin1', 0, 36);
}

function domainRow(d: Ptr, ns: string): DomainRow {
  const v = libvirt();
  const name = v.virDomainGetName(d) as string;
  const st = [0];
  const reason = [0];
  check(v.virDomainGetState(d, st, reason, 0), `virDomainGetState(${name})`);
  const persistent = v.virDomainIsPersistent(d) as number;
  if (persistent < 0) fail(`virDomainIsPersistent(${name})`);
  const metadata = v.virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, ns, 0) as string | null;
  if (metadata === null) {
    const e = lastError();
    if (!e || e.code !== ERR.NO_DOMAIN_METADATA) fail(`virDomainGetMetadata(${name})`);
    v.virResetLastError();
  }
  return { name, uuid: uuidOf(d, 'domain'), state: stateName(st[0] ?? 0), reason: reason[0] ?? 0, persistent: persistent === 1, metadata };
}

function networkRow(n: Ptr): NetworkRow {
  const v = libvirt();
  const name = v.virNetworkGetName(n) as string;
  const active = v.virNetworkIsActive(n) as number;
  const persistent = v.virNetworkIsPersistent(n) as number;
  const auto = [0];
  if (active < 0 || persistent < 0) fail(`virNetworkIsActive(${name})`);
  check(v.virNetworkGetAutostart(n, auto), `virNetworkGetAutostart(${name})`);
  const xml = v.virNetworkGetXMLDesc(n, 0) as string | null;
  if (xml === null) fail(`virNetworkGetXMLDesc(${name})`);
  return { name, uuid: uuidOf(n, 'network'), active: active === 1, persistent: persistent === 1, autostart: auto[0] === 1, xml };
}

/** Lists all objects of a kind, mapping each; objects that vanish meanwhile are skipped. */
function listAll<T>(c: Ptr, kind: 'domain' | 'network', row: (p: Ptr) => T): T[] {
  const v = libvirt();
  const out: (Ptr | null)[] = [null];
  const n = (kind === 'domain' ? v.virConnectListAllDomains(c, out, 0) : v.virConnectListAllNetworks(c, out, 0)) as number;
  if (n < 0) fail(kind === 'domain' ? 'virConnectListAllDomains' : 'virConnectListAllNetworks');
  const ptrs = out[0] ? decodePointers(out[0], n) : [];
  const rows: T[] = [];
  try {
    for (const p of ptrs) {
      try {
        rows.push(row(p));
      } catch (err) {
        const gone = err instanceof OpFailure && (err.error.code === ERR.NO_DOMAIN || err.error.code === ERR.NO_NETWORK);
        if (!gone) throw err;
      }
    }
  } finally {
    for (const p of ptrs) (kind === 'domain' ? v.virDomainFree(p) : v.virNetworkFree(p));
    if (out[0]) v.free(out[0]);
  }
  return rows;
}

const domainCall = (fnName: string, call: (d: Ptr) => number) => (c: Ptr, name: string) =>
  withDomain(c, name, (d) => check(call(d), `${fnName}(${name})`));
const networkCall = (fnName: string, call: (n: Ptr) => number) => (c: Ptr, name: string) =>
  withNetwork(c, name, (n) => check(call(n), `${fnName}(${name})`));

/** The operation table. Keys are the message names main sends; the first argument is the connection. */
export const OPS = {
  version(c: Ptr): VersionInfo {
    const v = libvirt();
    const lib = [0];
    const hv = [0];
    check(v.virConnectGetLibVersion(c, lib), 'virConnectGetLibVersion');
    check(v.virConnectGetVersion(c, hv), 'virConnectGetVersion');
    const type = v.virConnectGetType(c) as string | null;
    const uri = v.virConnectGetURI(c) as string | null;
    if (type === null || uri === null) fail('virConnectGetURI');
    return { libvirt: Number(lib[0]), hypervisor: Number(hv[0]), type, uri };
  },

  'domain.define'(c: Ptr, xml: string, validate: boolean): { name: string; uuid: string } {
    const v = libvirt();
    const d = v.virDomainDefineXMLFlags(c, xml, validate ? VIR_DOMAIN_DEFINE_VALIDATE : 0) as Ptr | null;
    if (!d) fail('virDomainDefineXMLFlags');
    try {
      return { name: v.virDomainGetName(d) as string, uuid: uuidOf(d, 'domain') };
    } finally {
      v.virDomainFree(d);
    }
  },
  'domain.get'(c: Ptr, name: string, ns: string): DomainRow | null {
    const d = lookup(c, 'domain', name, true);
    if (!d) return null;
    try {
      return domainRow(d, ns);
    } finally {
      libvirt().virDomainFree(d);
    }
  },
  'domain.list': (c: Ptr, ns: string): DomainRow[] => listAll(c, 'domain', (d) => domainRow(d, ns)),
  'domain.xml': (c: Ptr, name: string, inactive: boolean): string =>
    withDomain(c, name, (d) => {
      const xml = libvirt().virDomainGetXMLDesc(d, inactive ? VIR_DOMAIN_XML_INACTIVE : 0) as string | null;
      return xml ?? fail(`virDomainGetXMLDesc(${name})`);
    }),
  'domain.start': domainCall('virDomainCreate', (d) => libvirt().virDomainCreate(d)),
  'domain.shutdown': (c: Ptr, name: string, flags: number) =>
    withDomain(c, name, (d) => check(libvirt().virDomainShutdownFlags(d, flags), `virDomainShutdownFlags(${name})`)),
  'domain.destroy': domainCall('virDomainDestroyFlags', (d) => libvirt().virDomainDestroyFlags(d, 0)),
  'domain.reset': domainCall('virDomainReset', (d) => libvirt().virDomainReset(d, 0)),
  'domain.suspend': domainCall('virDomainSuspend', (d) => libvirt().virDomainSuspend(d)),
  'domain.resume': domainCall('virDomainResume', (d) => libvirt().virDomainResume(d)),
  'domain.undefine': (c: Ptr, name: string, flags: number) =>
    withDomain(c, name, (d) => check(libvirt().virDomainUndefineFlags(d, flags), `virDomainUndefineFlags(${name})`)),
  'domain.updateDevice': (c: Ptr, name: string, xml: string, flags: number) =>
    withDomain(c, name, (d) => check(libvirt().virDomainUpdateDeviceFlags(d, xml, flags), `virDomainUpdateDeviceFlags(${name})`)),
  'domain.attachDevice': (c: Ptr, name: string, xml: string, flags: number) =>
    withDomain(c, name, (d) => check(libvirt().virDomainAttachDeviceFlags(d, xml, flags), `virDomainAttachDeviceFlags(${name})`)),
  'domain.detachDevice': (c: Ptr, name: string, xml: string, flags: number) =>
    withDomain(c, name, (d) => check(libvirt().virDomainDetachDeviceFlags(d, xml, flags), `virDomainDetachDeviceFlags(${name})`)),

  'network.define'(c: Ptr, xml: string): { name: string; uuid: string } {
    const v = libvirt();
    const n = v.virNetworkDefineXML(c, xml) as Ptr | null;
    if (!n) fail('virNetworkDefineXML');
    try {
      return { name: v.virNetworkGetName(n) as string, uuid: uuidOf(n, 'network') };
    } finally {
      v.virNetworkFree(n);
    }
  },
  'network.get'(c: Ptr, name: string): NetworkRow | null {
    const n = lookup(c, 'network', name, true);
    if (!n) return null;
    try {
      return networkRow(n);
    } finally {
      libvirt().virNetworkFree(n);
    }
  },
  'network.list': (c: Ptr): NetworkRow[] => listAll(c, 'network', networkRow),
  'network.xml': (c: Ptr, name: string, inactive: boolean): string =>
    withNetwork(c, name, (n) => {
      const xml = libvirt().virNetworkGetXMLDesc(n, inactive ? VIR_NETWORK_XML_INACTIVE : 0) as string | null;
      return xml ?? fail(`virNetworkGetXMLDesc(${name})`);
    }),
  'network.start': networkCall('virNetworkCreate', (n) => libvirt().virNetworkCreate(n)),
  'network.destroy': networkCall('virNetworkDestroy', (n) => libvirt().virNetworkDestroy(n)),
  'network.undefine': networkCall('virNetworkUndefine', (n) => libvirt().virNetworkUndefine(n)),
  'network.autostart': (c: Ptr, name: string, on: boolean) =>
    withNetwork(c, name, (n) => check(libvirt().virNetworkSetAutostart(n, on ? 1 : 0), `virNetworkSetAutostart(${name})`)),
};

export type Ops = typeof OPS;
export type OpName = keyof Ops;
type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;
export type OpArgs<K extends OpName> = Tail<Parameters<Ops[K]>>;
export type OpResult<K extends OpName> = ReturnType<Ops[K]>;
