// Storage-loss fault for failover trials: the shared LUN goes offline on the target (tgt's LU "online"
// flag), so every initiator's I/O fails with NOT READY while sessions stay up — like a SAN losing its
// disk — and comes back with heal(). Both are idempotent; heal() is safe to call in `finally` even when
// inject() never ran. The target is found by IQN (its tid may differ from one tgtd start to the next).
import { LabError } from '../core/errors.js';
import type { Tgt } from './tgt.js';

export interface StorageFault {
  readonly id: string;
  inject(): Promise<void>;
  heal(): Promise<void>;
  /** true when the LUN is online now. */
  online(): Promise<boolean>;
}

export function storageLossFault(tgt: Tgt, iqn: string, lun = 1): StorageFault {
  const find = async () => {
    const t = (await tgt.targets()).find((x) => x.iqn === iqn);
    const l = t?.luns.find((x) => x.lun === lun);
    if (!t || !l) throw new LabError(`the shared LUN ${iqn} LUN ${lun} is not exported by tgtd`, { hint: 'run `pvelab up` first' });
    return { tid: t.tid, online: l.online };
  };
  const set = async (online: boolean) => {
    const { tid, online: now } = await find();
    if (now !== online) await tgt.exec({ op: 'lun-params', tid, lun, params: { online: online ? '1' : '0' } });
  };
  return {
    id: 'storage-loss',
    inject: () => set(false),
    heal: () => set(true),
    online: async () => (await find()).online,
  };
}
