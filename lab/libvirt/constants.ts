// libvirt's numeric constants (from libvirt-domain.h, libvirt-network.h, virterror.h of libvirt ≥ 9.0)
// and their readable names. Pure data; shared by the worker side (ops.ts) and the main side.

export const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export type DomainState = (typeof DOMAIN_STATES)[number];

/** virDomainEventType, in enum order. */
export const LIFECYCLE_EVENTS = ['defined', 'undefined', 'started', 'suspended', 'resumed', 'stopped', 'shutdown', 'pmsuspended', 'crashed'] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[number];

/** Detail names per event type (virDomainEvent*DetailType), in enum order. */
const EVENT_DETAILS: Record<LifecycleEventType, readonly string[]> = {
  defined: ['added', 'updated', 'renamed', 'from-snapshot'],
  undefined: ['removed', 'renamed'],
  started: ['booted', 'migrated', 'restored', 'from-snapshot', 'wakeup'],
  suspended: ['paused', 'migrated', 'ioerror', 'watchdog', 'restored', 'from-snapshot', 'api-error', 'postcopy', 'postcopy-failed'],
  resumed: ['unpaused', 'migrated', 'from-snapshot', 'postcopy', 'postcopy-failed'],
  stopped: ['shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from-snapshot'],
  shutdown: ['finished', 'guest', 'host'],
  pmsuspended: ['memory', 'disk'],
  crashed: ['panicked', 'crashloaded'],
};

export function eventName(event: number): LifecycleEventType | `event-${number}` {
  return LIFECYCLE_EVENTS[event] ?? `event-${event}`;
}

export function eventDetailName(event: number, detail: number): string {
  const t = LIFECYCLE_EVENTS[event];
  return (t && EVENT_DETAILS[t][detail]) ?? `detail-${detail}`;
}

export function stateName(state: number): DomainState {
  return DOMAIN_STATES[state] ?? 'nostate';
}

export const VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;
export const VIR_DOMAIN_METADATA_ELEMENT = 2;
export const VIR_DOMAIN_XML_INACTIVE = 2;
export const VIR_DOMAIN_DEFINE_VALIDATE = 1;
export const VIR_NETWORK_XML_INACTIVE = 1;
/** virDomainModificationImpact, shared by attach/detach/update device. */
export const AFFECT = { current: 0, live: 1, config: 2 } as const;
export const VIR_DOMAIN_DEVICE_MODIFY_FORCE = 4;
export const VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN = 1;
/** virDomainUndefineFlagsValues. */
export const UNDEFINE = { managedSave: 1, snapshotsMetadata: 2, nvram: 4, keepNvram: 8, checkpointsMetadata: 16 } as const;

/** virErrorNumber values pvelab reacts to. */
export const ERR = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  AUTH_FAILED: 45,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  NO_DOMAIN_METADATA: 80,
  OPERATION_UNSUPPORTED: 84,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  XML_INVALID_SCHEMA: 92,
  DEVICE_MISSING: 99,
} as const;
export type ErrName = keyof typeof ERR;

const ERR_NAMES = new Map<number, string>(Object.entries(ERR).map(([k, v]) => [v, k]));
export function errorCodeName(code: number): string {
  return ERR_NAMES.get(code) ?? `error ${code}`;
}

/** virErrorDomain values, for messages ("from qemu"). */
const ERROR_DOMAINS: Record<number, string> = {
  0: 'none', 5: 'xml', 6: 'dom', 7: 'rpc', 9: 'conf', 10: 'qemu', 11: 'net', 12: 'test', 13: 'remote',
  18: 'storage', 19: 'network', 20: 'domain', 24: 'security', 31: 'cpu', 45: 'uri', 46: 'auth', 49: 'device',
  50: 'ssh', 55: 'access', 59: 'firewall', 60: 'polkit',
};
export function errorDomainName(domain: number): string {
  return ERROR_DOMAINS[domain] ?? `domain ${domain}`;
}
