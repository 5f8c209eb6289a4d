// LibvirtError: a failed libvirt call, as the user sees it. Carries libvirt's error code and error
// domain (virErrorNumber / virErrorDomain), libvirt's own message, and the operation we attempted.
import { LabError, type LabErrorOptions } from '../core/errors.js';
import { ERR, type ErrName, errorCodeName, errorDomainName } from './constants.js';
import type { VirErrorInfo } from './ffi.js';

export class LibvirtError extends LabError {
  /** virErrorNumber, e.g. 42 = VIR_ERR_NO_DOMAIN. */
  readonly code: number;
  /** virErrorDomain: which part of libvirt raised it, e.g. 10 = qemu. */
  readonly domain: number;
  /** libvirt's message, unchanged. */
  readonly libvirtMessage: string;
  /** What we called, e.g. "virDomainCreate(pvelab-lab-pve1)". */
  readonly operation: string;

  constructor(operation: string, err: VirErrorInfo, what?: string, opts: LabErrorOptions = {}) {
    super(`${what ?? `libvirt call ${operation} failed`}: ${err.message}`, { hint: opts.hint ?? hintFor(err), cause: opts.cause });
    this.code = err.code;
    this.domain = err.domain;
    this.libvirtMessage = err.message;
    this.operation = operation;
  }

  get codeName(): string {
    return errorCodeName(this.code);
  }

  get domainName(): string {
    return errorDomainName(this.domain);
  }

  /** True when libvirt reported this error number, e.g. err.is('NO_DOMAIN'). */
  is(name: ErrName): boolean {
    return this.code === ERR[name];
  }
}

export function isLibvirtError(err: unknown, name?: ErrName): err is LibvirtError {
  return err instanceof LibvirtError && (name === undefined || err.is(name));
}

function hintFor(e: VirErrorInfo): string | undefined {
  if (e.code === ERR.SYSTEM_ERROR && /libvirt-sock|Failed to connect socket/.test(e.message))
    return 'is libvirtd running? start it (systemctl start libvirtd) or check libvirt.uri in the lab file';
  if (e.code === ERR.AUTH_FAILED || e.code === ERR.ACCESS_DENIED || e.code === ERR.OPERATION_DENIED)
    return 'run pvelab as root (sudo ./pvelab …) or use a libvirt.uri you may manage';
  if (e.code === ERR.NO_CONNECT) return 'check libvirt.uri in the lab file (for example qemu:///system)';
  if (e.code === ERR.XML_INVALID_SCHEMA || e.code === ERR.XML_ERROR || e.code === ERR.CONFIG_UNSUPPORTED)
    return 'the generated XML was refused; if the lab file sets libvirt.extraDeviceXml, check it first';
  return undefined;
}
