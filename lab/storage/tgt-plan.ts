// Pure convergence of tgtd's live state towards the lab's targets: a list of tgtadm requests, or a
// drift that pvelab must not repair by itself. Rules:
//  - a target is ours when its IQN is one of the spec's (spec.ts isOurIqn marks the whole family);
//  - a missing target gets the lowest free tid (the tid is never part of our identity: tgt-admin may
//    number differently after a reboot);
//  - on our target, ACL entries and bound accounts we did not ask for are removed (never "ALL");
//  - a LUN of ours backed by another file, or a LUN we did not configure, is drift (data is at stake);
//  - an offline LUN of ours (storage-loss fault) is brought back online.
import type { TargetSpec } from './spec.js';
import type { TgtCmd } from './tgt.js';
import { lowestFreeTid, type TgtTarget } from './tgt-show.js';

export type TgtStep = TgtCmd | { op: 'add-account'; user: string };

export interface TgtPlan {
  steps: TgtStep[];
  /** Why pvelab refuses to touch the target (one line), if it does. */
  drift?: string;
}

export function planTargets(specs: readonly TargetSpec[], live: readonly TgtTarget[], accounts: readonly string[]): TgtPlan {
  const steps: TgtStep[] = [];
  const taken = [...live];
  const wantedUsers = new Set(specs.flatMap((s) => (s.chapUser ? [s.chapUser] : [])));
  for (const u of wantedUsers) if (!accounts.includes(u)) steps.push({ op: 'add-account', user: u });
  for (const spec of specs) {
    const t = live.find((x) => x.iqn === spec.iqn);
    if (!t) {
      const tid = lowestFreeTid(taken);
      taken.push({ tid, iqn: spec.iqn, driver: 'iscsi', state: 'ready', nexus: [], luns: [], accounts: [], aclAddresses: [], aclNames: [] });
      steps.push({ op: 'new-target', tid, iqn: spec.iqn });
      for (const l of spec.luns) steps.push(...newLun(tid, l));
      for (const a of spec.acl) steps.push({ op: 'bind-address', tid, address: a });
      if (spec.chapUser) steps.push({ op: 'bind-account', tid, user: spec.chapUser });
      continue;
    }
    const drift = lunDrift(spec, t);
    if (drift) return { steps: [], drift };
    const tid = t.tid;
    for (const l of spec.luns) {
      const have = t.luns.find((x) => x.lun === l.lun);
      if (!have) {
        steps.push(...newLun(tid, l));
        continue;
      }
      if (have.scsiId !== l.scsiId || have.scsiSn !== l.scsiSn) steps.push({ op: 'lun-params', tid, lun: l.lun, params: { scsi_id: l.scsiId, scsi_sn: l.scsiSn } });
      if (!have.online) steps.push({ op: 'lun-params', tid, lun: l.lun, params: { online: '1' } });
    }
    for (const a of t.aclAddresses) if (!spec.acl.includes(a)) steps.push({ op: 'unbind-address', tid, address: a });
    for (const n of t.aclNames) steps.push({ op: 'unbind-name', tid, name: n });
    for (const a of spec.acl) if (!t.aclAddresses.includes(a)) steps.push({ op: 'bind-address', tid, address: a });
    for (const acc of t.accounts)
      if (acc.outgoing || acc.user !== spec.chapUser) steps.push({ op: 'unbind-account', tid, user: acc.user, ...(acc.outgoing ? { outgoing: true } : {}) });
    if (spec.chapUser && !t.accounts.some((a) => a.user === spec.chapUser && !a.outgoing)) steps.push({ op: 'bind-account', tid, user: spec.chapUser });
  }
  return { steps };
}

function newLun(tid: number, l: TargetSpec['luns'][number]): TgtStep[] {
  return [
    { op: 'new-lun', tid, lun: l.lun, path: l.path },
    { op: 'lun-params', tid, lun: l.lun, params: { scsi_id: l.scsiId, scsi_sn: l.scsiSn } },
  ];
}

function lunDrift(spec: TargetSpec, t: TgtTarget): string | undefined {
  for (const have of t.luns) {
    if (have.lun === 0) continue; // the controller LUN tgt adds to every target
    const want = spec.luns.find((l) => l.lun === have.lun);
    if (!want) return `target ${t.iqn} (tid ${t.tid}) has LUN ${have.lun} backed by ${have.path ?? 'nothing'}, which pvelab did not configure`;
    if (have.path !== want.path) return `target ${t.iqn} (tid ${t.tid}) LUN ${have.lun} is backed by ${have.path ?? 'nothing'}, not ${want.path}`;
  }
  return undefined;
}

/** Our targets in a live list: the spec's IQNs and any other IQN of the lab's family (stale layouts). */
export function ourTargets(live: readonly TgtTarget[], isOurs: (iqn: string) => boolean): TgtTarget[] {
  return live.filter((t) => isOurs(t.iqn));
}

/** One line per step, for `plan` and progress (no secrets: account creation shows the user only). */
export function describeTgtStep(s: TgtStep, argv: (c: TgtCmd) => string[]): string {
  if (s.op === 'add-account') return `tgtadm --lld iscsi --op new --mode account --user ${s.user} --password ••••••  (sent over tgtd's socket, not argv)`;
  return argv(s).join(' ');
}
