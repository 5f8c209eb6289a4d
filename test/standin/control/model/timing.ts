// The one place where the stand-in's timing constants live. Every duration the model waits is read
// from a Timing object; timing(scale) multiplies each constant by `scale` (1 = real time, 0.1 = ten
// times faster). Sources: shared/docs/proxmox.md F.3 (pve-ha-manager b71218f) unless noted.

export interface Timing {
  scale: number;
  /** CRM master / LRM active loop: `my $max_time = 10` (CRM.pm:363, LRM.pm:469). */
  loop: number;
  /** wait_for_quorum / wait_for_agent_lock / lost_agent_lock poll: `$haenv->sleep(5)`. */
  waitPoll: number;
  /** get_protected_ha_*_lock: retry every 1 s, at most 5 tries / 5 s (CRM.pm, LRM.pm). */
  lockRetry: number;
  lockRetryWindow: number;
  /** NodeStatus.pm:8 `my $fence_delay = 60`. */
  fenceDelay: number;
  /** pmxcfs lock lifetime (memdb.c CFS_LOCK_TIMEOUT, Env/PVE2.pm $retry_timeout). */
  lockLifetime: number;
  /** watchdog-mux CLIENT_WATCHDOG_TIMEOUT (60) and its warning threshold (50). */
  watchdogClient: number;
  watchdogWarning: number;
  /** softdog timeout set by watchdog-mux (`watchdog_timeout = 10`): reset follows the expiry by this. */
  softdog: number;
  /** watchdog-mux checks its clients once per epoll timeout (1000 ms). */
  watchdogTick: number;
  /** corosync membership change (token 3000 ms + consensus; proxmox.md F.4 "~3-6 s"): modelled value. */
  membership: number;
  /** node boot until pve-cluster/HA services run (modelled; the stand-in VM boots in ~10 s TCG). */
  boot: number;
  /** `pct start` / `pct stop` of the stand-in container (modelled). */
  guestStart: number;
  guestStop: number;
  /** lrm/master status shown as dead when older than this (API2/HA/Status.pm:20-31). */
  statusStale: number;
  /** run_workers waits for its workers at most this long per LRM round (LRM.pm `<= 8`). */
  workerWait: number;
  /** pmxcfs cfs_lock acquire timeout (Cluster.pm `$timeout = 10`). */
  cfsLockTimeout: number;
  /** how long `pvecm add` takes before printing the join result (modelled). */
  joinStep: number;
  /** `apt-get update` / `apt-get install apache2` in a container, a failing name lookup (modelled). */
  aptUpdate: number;
  aptInstall: number;
  /** `vzdump` of a small container (rsync passes + archive, modelled). */
  vzdump: number;
}

export const BASE_TIMING: Omit<Timing, 'scale'> = {
  loop: 10,
  waitPoll: 5,
  lockRetry: 1,
  lockRetryWindow: 5,
  fenceDelay: 60,
  lockLifetime: 120,
  watchdogClient: 60,
  watchdogWarning: 50,
  softdog: 10,
  watchdogTick: 1,
  membership: 5,
  boot: 10,
  guestStart: 3,
  guestStop: 1,
  statusStale: 30,
  workerWait: 8,
  cfsLockTimeout: 10,
  joinStep: 1,
  aptUpdate: 4,
  aptInstall: 15,
  vzdump: 8,
};

/** All constants × scale. `overrides` are given in unscaled seconds (they are scaled too). */
export function timing(scale = 1, overrides: Partial<Omit<Timing, 'scale'>> = {}): Timing {
  if (!(scale > 0)) throw new Error(`timing: scale must be > 0, got ${scale}`);
  const merged = { ...BASE_TIMING, ...overrides };
  const out = { scale } as Timing;
  for (const [k, v] of Object.entries(merged)) (out as unknown as Record<string, number>)[k] = v * scale;
  return out;
}
