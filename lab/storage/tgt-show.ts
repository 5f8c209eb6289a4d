// The one parser for `tgtadm --lld iscsi --op show --mode target` (and the small account/conn views).
// Format (tgt 1.0.x, usr/target.c): "Target <tid>: <iqn>" at column 0, sections indented by 4
// ("System information:", "I_T nexus information:", "LUN information:", "Account information:",
// "ACL information:"), their items by 8, item fields by 12 and 16. Unknown lines are ignored so a newer
// tgt that adds fields still parses. Fixtures: test/fixtures/storage/tgtadm-show-*.txt (captured).

export interface TgtLun {
  lun: number;
  type: string;
  scsiId: string;
  scsiSn: string;
  /** As printed ("1074 MB"): tgt rounds to decimal MB, so compare file sizes instead. */
  size: string;
  blockSize: number;
  online: boolean;
  readonly: boolean;
  bsType: string;
  /** Backing store path, or undefined for "None" (LUN 0, the controller). */
  path: string | undefined;
}

export interface TgtNexus {
  nexus: number;
  initiator: string;
  alias?: string;
  connections: { cid: number; ip: string }[];
}

export interface TgtTarget {
  tid: number;
  iqn: string;
  driver: string;
  state: string;
  nexus: TgtNexus[];
  luns: TgtLun[];
  accounts: { user: string; outgoing: boolean }[];
  /** initiator-address entries (addresses, CIDRs or "ALL"). */
  aclAddresses: string[];
  /** initiator-name entries (tgt prints both kinds in one "ACL information" list). */
  aclNames: string[];
}

type Section = 'system' | 'nexus' | 'lun' | 'account' | 'acl' | undefined;

const SECTIONS: Record<string, Section> = {
  'System information:': 'system',
  'I_T nexus information:': 'nexus',
  'LUN information:': 'lun',
  'Account information:': 'account',
  'ACL information:': 'acl',
};

/** An ACL entry is an address when it is ALL, IPv4[/n] or [IPv6][/n]; otherwise an initiator name. */
export function isAddressAcl(entry: string): boolean {
  return entry === 'ALL' || /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(entry) || /^\[[0-9a-fA-F:.]+\](\/\d{1,3})?$/.test(entry);
}

const yes = (v: string) => v.trim().toLowerCase() === 'yes';

export function parseTgtShowTargets(text: string): TgtTarget[] {
  const targets: TgtTarget[] = [];
  let t: TgtTarget | undefined;
  let section: Section;
  let lun: TgtLun | undefined;
  let nexus: TgtNexus | undefined;
  let cid: number | undefined;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const head = /^Target (\d+): (\S+)\s*$/.exec(raw);
    if (head) {
      t = { tid: Number(head[1]), iqn: head[2]!, driver: '', state: '', nexus: [], luns: [], accounts: [], aclAddresses: [], aclNames: [] };
      targets.push(t);
      section = undefined;
      continue;
    }
    if (!t) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 4) {
      section = SECTIONS[line];
      lun = undefined;
      nexus = undefined;
      continue;
    }
    const kv = /^([^:]+):\s?(.*)$/.exec(line);
    switch (section) {
      case 'system':
        if (kv?.[1] === 'Driver') t.driver = kv[2]!.trim();
        if (kv?.[1] === 'State') t.state = kv[2]!.trim();
        break;
      case 'nexus': {
        const nx = /^I_T nexus: (\d+)$/.exec(line);
        if (nx) {
          nexus = { nexus: Number(nx[1]), initiator: '', connections: [] };
          t.nexus.push(nexus);
          break;
        }
        const ini = /^Initiator: (\S+)(?: alias: (.*))?$/.exec(line);
        if (ini && nexus) {
          nexus.initiator = ini[1]!;
          if (ini[2] !== undefined && ini[2] !== 'none') nexus.alias = ini[2];
          break;
        }
        const c = /^Connection: (\d+)$/.exec(line);
        if (c) cid = Number(c[1]);
        const ip = /^IP Address: (\S+)$/.exec(line);
        if (ip && nexus && cid !== undefined) nexus.connections.push({ cid, ip: ip[1]! });
        break;
      }
      case 'lun': {
        const l = /^LUN: (\d+)$/.exec(line);
        if (l) {
          lun = { lun: Number(l[1]), type: '', scsiId: '', scsiSn: '', size: '', blockSize: 0, online: true, readonly: false, bsType: '', path: undefined };
          t.luns.push(lun);
          break;
        }
        if (!lun || !kv) break;
        const [, k, v = ''] = kv;
        if (k === 'Type') lun.type = v.trim();
        else if (k === 'SCSI ID') lun.scsiId = v.trim();
        else if (k === 'SCSI SN') lun.scsiSn = v.trim();
        else if (k === 'Size') {
          const m = /^(.*?), Block size: (\d+)$/.exec(v.trim());
          lun.size = (m?.[1] ?? v).trim();
          lun.blockSize = Number(m?.[2] ?? 0);
        } else if (k === 'Online') lun.online = yes(v);
        else if (k === 'Readonly') lun.readonly = yes(v);
        else if (k === 'Backing store type') lun.bsType = v.trim();
        else if (k === 'Backing store path') lun.path = v.trim() === 'None' ? undefined : v.trim();
        break;
      }
      case 'account': {
        const a = /^(\S+)( \(outgoing\))?$/.exec(line);
        if (a) t.accounts.push({ user: a[1]!, outgoing: a[2] !== undefined });
        break;
      }
      case 'acl':
        (isAddressAcl(line) ? t.aclAddresses : t.aclNames).push(line);
        break;
      default:
        break;
    }
  }
  return targets;
}

/** `tgtadm --lld iscsi --op show --mode account` → user names ("Account list:" then one per line). */
export function parseTgtShowAccounts(text: string): string[] {
  const out: string[] = [];
  let inList = false;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#')) continue;
    if (raw.trim() === 'Account list:') {
      inList = true;
      continue;
    }
    if (inList && /^\s+\S+$/.test(raw)) out.push(raw.trim());
  }
  return out;
}

/** Lowest tid ≥ 1 that no target uses (tgt-admin numbers the same way). */
export function lowestFreeTid(targets: readonly TgtTarget[]): number {
  const used = new Set(targets.map((t) => t.tid));
  let tid = 1;
  while (used.has(tid)) tid++;
  return tid;
}
