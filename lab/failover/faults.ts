// The faults a failover trial injects, behind one interface. Contracts, for every fault:
// - inject(t) breaks node `t` (or, for storage-loss, the shared LUN the guest on `t` lives on);
// - heal(t) undoes it and is idempotent: safe in `finally`, safe when inject() never ran or failed
//   half-way, safe twice, and safe after the node reset itself (self-fence) meanwhile;
// - isActive(t) says whether the fault is in effect now (for `pvelab heal` and tests).
// The target is plain data (node name, libvirt domain, NIC MAC) so a pending-fault record written by
// an earlier process (pending.ts) can be healed without the lab file.
import type { LabNames, NodeNames } from '../config/names.js';
import { UsageError } from '../core/errors.js';
import type { LibvirtDriver } from '../libvirt/driver.js';
import { storageLossFault } from '../storage/faults.js';
import type { Tgt } from '../storage/tgt.js';

export const FAULT_KINDS = ['link-down', 'power-off', 'freeze', 'storage-loss'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultTarget {
  /** Proxmox node name. */
  node: string;
  /** libvirt domain of the node VM. */
  domain: string;
  /** MAC of the node's lab NIC (its cluster link). */
  mac: string;
}

export interface Fault {
  readonly id: FaultKind;
  /**
   * true: HA moves the service away while the fault lasts (the trial records until the guest answers
   * again, then heals). false: nothing recovers until the fault is healed (storage-loss: the LUN is
   * shared by every node), so the trial heals after a hold time and then records the recovery.
   */
  readonly recoversWhileActive: boolean;
  /** One line for the run record ("NIC 52:54:00:… of pvelab-lab-pve1 link down"). */
  describe(t: FaultTarget): string;
  inject(t: FaultTarget): Promise<void>;
  heal(t: FaultTarget): Promise<void>;
  isActive(t: FaultTarget): Promise<boolean>;
}

export function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

export function faultTarget(n: Pick<NodeNames, 'name' | 'domain' | 'mac'>): FaultTarget {
  return { node: n.name, domain: n.domain, mac: n.mac };
}

/** The node's lab NIC loses its link (cable pulled): corosync, SSH and the guest's network go. */
export function linkDownFault(lv: LibvirtDriver): Fault {
  return {
    id: 'link-down',
    recoversWhileActive: true,
    describe: (t) => `link of NIC ${t.mac} on ${t.domain} down`,
    inject: (t) => lv.setLinkState(t.domain, t.mac, 'down'),
    async heal(t) {
      // A domain that is not running has no live link to restore (it starts with its defined link, up).
      const s = (await lv.getDomain(t.domain))?.state;
      if (s !== 'running' && s !== 'paused' && s !== 'blocked') return;
      if ((await lv.linkState(t.domain, t.mac)) === 'down') await lv.setLinkState(t.domain, t.mac, 'up');
    },
    isActive: async (t) => {
      const s = (await lv.getDomain(t.domain))?.state;
      return (s === 'running' || s === 'paused' || s === 'blocked') && (await lv.linkState(t.domain, t.mac)) === 'down';
    },
  };
}

/** Power cord pulled (libvirt destroy); healed by starting the domain again. */
export function powerOffFault(lv: LibvirtDriver): Fault {
  return {
    id: 'power-off',
    recoversWhileActive: true,
    describe: (t) => `${t.domain} powered off (destroy)`,
    inject: (t) => lv.destroy(t.domain),
    async heal(t) {
      const d = await lv.getDomain(t.domain);
      if (d && (d.state === 'shutoff' || d.state === 'crashed')) await lv.start(t.domain);
    },
    isActive: async (t) => {
      const s = (await lv.getDomain(t.domain))?.state;
      return s === 'shutoff' || s === 'crashed';
    },
  };
}

/** The node's vCPUs are paused (a hung host); healed by resuming. */
export function freezeFault(lv: LibvirtDriver): Fault {
  return {
    id: 'freeze',
    recoversWhileActive: true,
    describe: (t) => `${t.domain} paused (vCPUs frozen)`,
    inject: (t) => lv.suspend(t.domain),
    async heal(t) {
      if ((await lv.getDomain(t.domain))?.state === 'paused') await lv.resume(t.domain);
    },
    isActive: async (t) => (await lv.getDomain(t.domain))?.state === 'paused',
  };
}

/** The shared LUN goes offline on the host's target; the node `t` only names whose guest suffers. */
export function storageFault(tgt: Tgt, iqn: string): Fault {
  const f = storageLossFault(tgt, iqn);
  return {
    id: 'storage-loss',
    recoversWhileActive: false,
    describe: () => `shared LUN 1 of ${iqn} offline`,
    inject: () => f.inject(),
    heal: () => f.heal(),
    isActive: async () => !(await f.online()),
  };
}

export interface FaultDrivers {
  libvirt?: LibvirtDriver | undefined;
  tgt?: Tgt | undefined;
}

/** The fault of that kind for this lab. */
export function makeFault(kind: string, names: Pick<LabNames, 'iscsi'>, d: FaultDrivers): Fault {
  if (!isFaultKind(kind)) throw new UsageError(`unknown fault "${kind}"`, { hint: `one of ${FAULT_KINDS.join(', ')}` });
  if (kind === 'storage-loss') {
    if (!d.tgt) throw new Error('storage-loss needs the tgt driver');
    return storageFault(d.tgt, names.iscsi.iqn);
  }
  if (!d.libvirt) throw new Error(`${kind} needs the libvirt driver`);
  if (kind === 'link-down') return linkDownFault(d.libvirt);
  if (kind === 'power-off') return powerOffFault(d.libvirt);
  return freezeFault(d.libvirt);
}
