// The storage drivers steps receive through ctx.services (declaration merging into core/step.ts).
// The lead builds them once per run with storageServices(ctx.host); tests build them on a fake runner
// or a namespace runner (prefix-runner.ts) with test directories.
import type { Runner } from '../exec/runner.js';
import { Images } from './images.js';
import { IscsiAdm, type IscsiAdmOptions } from './iscsiadm.js';
import { Lvm } from './lvm.js';
import { Tgt, type TgtOptions } from './tgt.js';

declare module '../core/step.js' {
  interface Services {
    tgt: Tgt;
    iscsiadm: IscsiAdm;
    lvm: Lvm;
    images: Images;
  }
}

export interface StorageServiceOptions extends TgtOptions, IscsiAdmOptions {}

export function storageServices(host: Runner, opts: StorageServiceOptions = {}): { tgt: Tgt; iscsiadm: IscsiAdm; lvm: Lvm; images: Images } {
  return {
    tgt: new Tgt(host, opts),
    iscsiadm: new IscsiAdm(host, opts),
    lvm: new Lvm(host),
    images: new Images(host),
  };
}
