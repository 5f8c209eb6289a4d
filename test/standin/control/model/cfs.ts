// The modelled /etc/pve (pmxcfs): one cluster database shared by the quorate partition, one local
// database per node that is not (yet) in a cluster, and a frozen read-only copy for every cluster
// node that is outside the quorate partition ("pmxcfs read-only without quorum"; a node sees the
// state it last synchronised). Cluster locks (/etc/pve/priv/lock/<name>) live in the cluster
// database: acquiring works only from a writable view; a lock expires `lockLifetime` after its
// holder's last update (pve-cluster memdb.c CFS_LOCK_TIMEOUT; Env/PVE2.pm get_pve_lock).

export interface CorosyncNode {
  name: string;
  nodeid: number;
  votes: number;
  ring0: string;
}

export interface CorosyncConf {
  clusterName: string;
  configVersion: number;
  nodes: CorosyncNode[];
  secauth: boolean;
  linkMode: string;
  tokenCoefficient: number;
}

export type SectionCfg = Map<string, { type: string; opts: Record<string, string> }>;

/**
 * A section's options as the API returns them: PVE::SectionConfig::check_value turns boolean,
 * integer and number options into numbers (`return $value + 0`), so JSON has `"shared":1`, not "1".
 */
export function typedOpts(opts: Record<string, string>, numeric: ReadonlySet<string>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(opts).map(([k, v]) => [k, numeric.has(k) && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v]));
}

export interface GuestConf {
  vmid: number;
  node: string;
  type: 'lxc' | 'qemu'; // qemu only for simulator replays (no qm commands are modelled)
  conf: Record<string, string>; // key -> value as in /etc/pve/nodes/<node>/lxc/<vmid>.conf
}

export interface ReplJob {
  id: string; // "<vmid>-<n>"
  guest: number;
  target: string;
  source: string;
  schedule: string;
  rate?: string;
  comment?: string;
  disable?: boolean;
}

export interface Db {
  corosync?: CorosyncConf;
  storage: SectionCfg;
  haResources: SectionCfg;
  haGroups: SectionCfg;
  haRules: SectionCfg;
  /** PVE 9: groups.cfg was migrated (file removed) — groups API refuses. */
  haGroupsMigrated: boolean;
  managerStatus: Record<string, unknown>;
  lrmStatus: Record<string, Record<string, unknown>>;
  crmCommands: string[];
  guests: Map<number, GuestConf>;
  repl: Map<string, ReplJob>;
  locks: Map<string, { node: string; time: number }>;
}

export function emptyDb(): Db {
  return {
    storage: new Map(),
    haResources: new Map(),
    haGroups: new Map(),
    haRules: new Map(),
    haGroupsMigrated: false,
    managerStatus: {},
    lrmStatus: {},
    crmCommands: [],
    guests: new Map(),
    repl: new Map(),
    locks: new Map(),
  };
}

export function cloneDb(db: Db): Db {
  return structuredClone(db);
}

export interface CfsView {
  db: Db;
  writable: boolean;
  clustered: boolean;
}

export class Pmxcfs {
  cluster?: Db;
  /** nodes that created or joined the cluster (have /etc/corosync/authkey + corosync.conf locally) */
  readonly joined = new Set<string>();
  readonly local = new Map<string, Db>();
  private readonly frozen = new Map<string, Db>();

  constructor(private readonly lockLifetime: number) {}

  isMember(node: string): boolean {
    return this.joined.has(node) && !!this.cluster?.corosync?.nodes.some((n) => n.name === node);
  }

  /** quorate: whether `node` is in the quorate partition (ignored for non-members). */
  view(node: string, quorate: boolean): CfsView {
    if (!this.isMember(node)) {
      let db = this.local.get(node);
      if (!db) this.local.set(node, (db = emptyDb()));
      return { db, writable: true, clustered: false };
    }
    if (quorate) return { db: this.cluster!, writable: true, clustered: true };
    return { db: this.frozen.get(node) ?? this.cluster!, writable: false, clustered: true };
  }

  /** Called on every membership change: freeze the view of members that lost quorum, thaw the rest. */
  syncQuorum(quorate: (node: string) => boolean): void {
    for (const n of this.cluster?.corosync?.nodes ?? []) {
      if (!this.joined.has(n.name)) continue;
      if (quorate(n.name)) this.frozen.delete(n.name);
      else if (!this.frozen.has(n.name)) this.frozen.set(n.name, cloneDb(this.cluster!));
    }
  }

  /** pmxcfs lock: mkdir if free or expired, utime-renew if ours. False from a read-only view. */
  lock(view: CfsView, node: string, name: string, now: number): boolean {
    if (!view.writable) return false;
    const held = view.db.locks.get(name);
    if (held && now - held.time <= this.lockLifetime && held.node !== node) return false;
    view.db.locks.set(name, { node, time: now });
    return true;
  }

  unlock(view: CfsView, node: string, name: string): boolean {
    if (!view.writable) return false;
    const held = view.db.locks.get(name);
    if (!held || held.node !== node) return false;
    view.db.locks.delete(name);
    return true;
  }
}
