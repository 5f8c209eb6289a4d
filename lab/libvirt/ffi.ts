// The only module that imports koffi: loads libvirt.so.0 and declares the C prototypes pvelab uses.
// Contracts:
//  - Pointers are BigInt; a NULL result is `null` (koffi 3).
//  - libvirt keeps its last error in thread-local storage: lastError() must run on the thread that made
//    the failing call, right after it (ops.ts does this inside the call worker, see test-harness.md §3).
//  - silenceDefaultErrorPrinter() installs a *native* no-op handler (virResetError(NULL) ignores its
//    argument) so libvirt never prints "libvirt: ... error" to stderr and no error dispatch ever has to
//    cross into a JS thread (a JS handler called from another thread could deadlock a parked worker).
//  - Loading is lazy: importing this module never touches the library.
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { PreflightError } from '../core/errors.js';

export type Ptr = bigint;

/** The fields of libvirt's virError that pvelab reports. */
export interface VirErrorInfo {
  code: number;
  domain: number;
  message: string;
  level: number;
}

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Prototypes, keyed by a short name. Strings are C declarations as libvirt.h has them. */
const PROTOS = {
  // errors
  virGetLastError: 'virError *virGetLastError()',
  virResetLastError: 'void virResetLastError()',
  virSetErrorFunc: 'void virSetErrorFunc(void *userData, void *handler)',
  // connections
  virConnectOpen: 'void *virConnectOpen(const char *name)',
  virConnectClose: 'int virConnectClose(void *conn)',
  virConnectIsAlive: 'int virConnectIsAlive(void *conn)',
  virConnectGetLibVersion: 'int virConnectGetLibVersion(void *conn, _Out_ unsigned long *v)',
  virConnectGetVersion: 'int virConnectGetVersion(void *conn, _Out_ unsigned long *v)',
  virConnectGetType: 'const char *virConnectGetType(void *conn)',
  virConnectGetURI: 'HeapStr virConnectGetURI(void *conn)',
  virConnectGetHostname: 'HeapStr virConnectGetHostname(void *conn)',
  virConnectListAllDomains: 'int virConnectListAllDomains(void *conn, _Out_ void **doms, unsigned int flags)',
  virConnectListAllNetworks: 'int virConnectListAllNetworks(void *conn, _Out_ void **nets, unsigned int flags)',
  // domains
  virDomainDefineXMLFlags: 'void *virDomainDefineXMLFlags(void *conn, const char *xml, unsigned int flags)',
  virDomainLookupByName: 'void *virDomainLookupByName(void *conn, const char *name)',
  virDomainFree: 'int virDomainFree(void *dom)',
  virDomainGetName: 'const char *virDomainGetName(void *dom)',
  virDomainGetUUIDString: 'int virDomainGetUUIDString(void *dom, void *buf)',
  virDomainGetState: 'int virDomainGetState(void *dom, _Out_ int *state, _Out_ int *reason, unsigned int flags)',
  virDomainIsPersistent: 'int virDomainIsPersistent(void *dom)',
  virDomainGetXMLDesc: 'HeapStr virDomainGetXMLDesc(void *dom, unsigned int flags)',
  virDomainGetMetadata: 'HeapStr virDomainGetMetadata(void *dom, int type, const char *uri, unsigned int flags)',
  virDomainCreate: 'int virDomainCreate(void *dom)',
  virDomainShutdownFlags: 'int virDomainShutdownFlags(void *dom, unsigned int flags)',
  virDomainDestroyFlags: 'int virDomainDestroyFlags(void *dom, unsigned int flags)',
  virDomainReset: 'int virDomainReset(void *dom, unsigned int flags)',
  virDomainSuspend: 'int virDomainSuspend(void *dom)',
  virDomainResume: 'int virDomainResume(void *dom)',
  virDomainUndefineFlags: 'int virDomainUndefineFlags(void *dom, unsigned int flags)',
  virDomainUpdateDeviceFlags: 'int virDomainUpdateDeviceFlags(void *dom, const char *xml, unsigned int flags)',
  virDomainAttachDeviceFlags: 'int virDomainAttachDeviceFlags(void *dom, const char *xml, unsigned int flags)',
  virDomainDetachDeviceFlags: 'int virDomainDetachDeviceFlags(void *dom, const char *xml, unsigned int flags)',
  // networks
  virNetworkDefineXML: 'void *virNetworkDefineXML(void *conn, const char *xml)',
  virNetworkLookupByName: 'void *virNetworkLookupByName(void *conn, const char *name)',
  virNetworkFree: 'int virNetworkFree(void *net)',
  virNetworkGetName: 'const char *virNetworkGetName(void *net)',
  virNetworkGetUUIDString: 'int virNetworkGetUUIDString(void *net, void *buf)',
  virNetworkIsActive: 'int virNetworkIsActive(void *net)',
  virNetworkIsPersistent: 'int virNetworkIsPersistent(void *net)',
  virNetworkGetAutostart: 'int virNetworkGetAutostart(void *net, _Out_ int *autostart)',
  virNetworkSetAutostart: 'int virNetworkSetAutostart(void *net, int autostart)',
  virNetworkGetXMLDesc: 'HeapStr virNetworkGetXMLDesc(void *net, unsigned int flags)',
  virNetworkCreate: 'int virNetworkCreate(void *net)',
  virNetworkDestroy: 'int virNetworkDestroy(void *net)',
  virNetworkUndefine: 'int virNetworkUndefine(void *net)',
  // event loop (GLib based in libvirt ≥ 6.2: one process-wide loop, run by one thread)
  virEventRegisterDefaultImpl: 'int virEventRegisterDefaultImpl()',
  virEventRunDefaultImpl: 'int virEventRunDefaultImpl()',
  virEventAddTimeout: 'int virEventAddTimeout(int frequency, TimeoutCb *cb, void *opaque, void *ff)',
  virEventUpdateTimeout: 'void virEventUpdateTimeout(int timer, int frequency)',
  virEventRemoveTimeout: 'int virEventRemoveTimeout(int timer)',
  virConnectDomainEventRegisterAny:
    'int virConnectDomainEventRegisterAny(void *conn, void *dom, int eventID, LifecycleCb *cb, void *opaque, void *freecb)',
  virConnectDomainEventDeregisterAny: 'int virConnectDomainEventDeregisterAny(void *conn, int callbackID)',
  virConnectRegisterCloseCallback: 'int virConnectRegisterCloseCallback(void *conn, CloseCb *cb, void *opaque, void *freecb)',
  virConnectUnregisterCloseCallback: 'int virConnectUnregisterCloseCallback(void *conn, CloseCb *cb)',
} as const;

export type Libvirt = { [K in keyof typeof PROTOS]: Fn } & {
  /** libc free() for memory libvirt hands over (pointer arrays). */
  free: (p: Ptr) => void;
};

let loaded: { v: Libvirt; errType: TypeObject; resetErrorAddr: Ptr } | undefined;

function load() {
  if (loaded) return loaded;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libvirt.so.0');
  } catch (cause) {
    throw new PreflightError('cannot load libvirt.so.0 (the libvirt client library)', {
      cause,
      hint: 'install it: apt-get install -y libvirt0 (Debian/Ubuntu) or dnf install -y libvirt-libs',
    });
  }
  const errType = koffi.struct('virError', {
    code: 'int', domain: 'int', message: 'char *', level: 'int', conn: 'void *', dom: 'void *',
    str1: 'char *', str2: 'char *', str3: 'char *', int1: 'int', int2: 'int', net: 'void *',
  });
  koffi.disposable('HeapStr', 'str'); // char* that libvirt allocates and the caller must free()
  koffi.proto('int LifecycleCb(void *conn, void *dom, int event, int detail, void *opaque)');
  koffi.proto('void TimeoutCb(int timer, void *opaque)');
  koffi.proto('void CloseCb(void *conn, int reason, void *opaque)');
  // Each prototype is declared on first use: the main thread only ever needs virEventUpdateTimeout.
  const v = {} as Record<string, Fn>;
  for (const [k, decl] of Object.entries(PROTOS)) {
    let f: Fn | undefined;
    Object.defineProperty(v, k, { enumerable: true, get: () => (f ??= lib.func(decl)) });
  }
  let free: Fn | undefined;
  Object.defineProperty(v, 'free', { enumerable: true, get: () => (free ??= koffi.load('libc.so.6').func('void free(void *p)')) });
  loaded = { v: v as Libvirt, errType, resetErrorAddr: lib.symbol('virResetError') as Ptr };
  return loaded;
}

/** The bound library (loads it on first use; throws PreflightError when libvirt0 is missing). */
export function libvirt(): Libvirt {
  return load().v;
}

/** This thread's last libvirt error, or null. Call on the thread that made the failing call. */
export function lastError(): VirErrorInfo | null {
  const l = load();
  const p = l.v.virGetLastError() as Ptr | null;
  if (!p) return null;
  const e = koffi.decode(p, l.errType) as { code: number; domain: number; message: string | null; level: number };
  return { code: e.code, domain: e.domain, message: e.message ?? `libvirt error ${e.code}`, level: e.level };
}

/** Installs the process-wide native no-op error handler (see the header). Idempotent. */
export function silenceDefaultErrorPrinter(): void {
  const l = load();
  l.v.virSetErrorFunc(null, l.resetErrorAddr);
}

/** Reads `n` pointers from a libvirt-allocated array (the caller frees the array with free()). */
export function decodePointers(p: Ptr, n: number): Ptr[] {
  return n > 0 ? (koffi.decode(p, koffi.array('void *', n)) as Ptr[]) : [];
}

/** Reads a NUL-terminated UUID string from a 37-byte buffer. */
export function uuidBuffer(): Buffer {
  return Buffer.alloc(37);
}

export type LifecycleFn = (conn: Ptr, dom: Ptr, event: number, detail: number) => number;
export type TimeoutFn = (timer: number) => void;
export type CloseFn = (conn: Ptr, reason: number) => void;

/** Registers a JS function as a long-lived C callback (call unregisterCallback when done). */
export function registerCallback(kind: 'LifecycleCb', fn: LifecycleFn): Ptr;
export function registerCallback(kind: 'TimeoutCb', fn: TimeoutFn): Ptr;
export function registerCallback(kind: 'CloseCb', fn: CloseFn): Ptr;
export function registerCallback(kind: string, fn: Fn): Ptr {
  load();
  return koffi.register(fn, koffi.pointer(kind));
}

export function unregisterCallback(handle: Ptr): void {
  koffi.unregister(handle);
}
