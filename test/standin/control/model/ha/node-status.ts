// CRM view of node states (pve-ha-manager NodeStatus.pm): online, maintenance, unknown, fence, gone.
// fence delay: a node not online is "offline delayed" once `fenceDelay` passed since this manager
// last saw it online (or since the first check, for a fresh manager). Fencing succeeds when the CRM
// gets the node's agent lock (i.e. the lock expired: the node's LRM can no longer hold it).
import type { HaEnv } from './env.js';

const VALID = new Set(['online', 'maintenance', 'unknown', 'fence', 'gone']);

export class NodeStatus {
  private lastOnline: Record<string, number> = {};

  constructor(
    private readonly env: HaEnv,
    readonly status: Record<string, string>,
    private readonly fenceDelay: number,
    private readonly gonePurge: number,
  ) {}

  get(node: string): string {
    return this.status[node] ?? 'unknown';
  }

  isOnline(node: string): boolean {
    return this.get(node) === 'online';
  }

  isOperational(node: string): boolean {
    return this.isOnline(node) || this.get(node) === 'maintenance';
  }

  /** undef (false) while online; first call for an offline node starts the clock. */
  isOfflineDelayed(node: string, delay = this.fenceDelay): boolean {
    if (this.get(node) === 'online') return false;
    const last = this.lastOnline[node];
    const now = this.env.getTime();
    if (last === undefined) {
      this.lastOnline[node] = now;
      return false;
    }
    return now - last >= delay - 1e-9;
  }

  listNodes(): string[] {
    return Object.keys(this.status).sort();
  }

  listOnline(): string[] {
    return this.listNodes().filter((n) => this.status[n] === 'online');
  }

  private set(node: string, state: string): void {
    if (!VALID.has(state)) throw new Error(`unknown node state '${state}'`);
    const last = this.get(node);
    if (state === last) return;
    this.status[node] = state;
    this.env.log('info', `node '${node}': state changed from '${last}' => '${state}'`);
  }

  update(info: Record<string, { online: boolean }>, lrmModes: Record<string, string>): void {
    for (const node of Object.keys(info).sort()) {
      if (!info[node]!.online) continue;
      this.lastOnline[node] = this.env.getTime();
      const state = this.get(node);
      const mode = lrmModes[node] ?? 'unknown';
      if (state === 'online') {
        if (mode === 'maintenance') this.set(node, 'maintenance');
      } else if (state === 'unknown' || state === 'gone') this.set(node, 'online');
      else if (state === 'maintenance' && mode !== 'maintenance') this.set(node, 'online');
    }
    for (const node of Object.keys(this.status).sort()) {
      const d = info[node];
      if (d?.online) continue;
      const state = this.get(node);
      if (state === 'online') this.set(node, 'unknown');
      else if (state === 'maintenance') {
        if ((lrmModes[node] ?? 'unknown') !== 'maintenance') this.set(node, 'unknown');
      } else if (state === 'unknown') {
        if (!d) this.set(node, 'gone');
      } else if (state === 'gone' && this.isOfflineDelayed(node, this.gonePurge)) {
        delete this.lastOnline[node];
        delete this.status[node];
        this.env.log('notice', `deleting gone node '${node}', not a cluster member anymore.`);
      }
    }
  }

  /** start fencing; true once fencing is acknowledged (agent lock acquired). */
  fenceNode(node: string): boolean {
    if (this.get(node) !== 'fence') {
      this.set(node, 'fence');
      this.env.notify('FENCE', `Try to fence node '${node}'`);
    }
    const ok = this.env.getHaAgentLock(node);
    if (ok) {
      this.env.log('info', `fencing: acknowledged - got agent lock for node '${node}'`);
      this.set(node, 'unknown');
      this.env.notify('SUCCEED', `fencing: acknowledged - got agent lock for node '${node}'`);
    }
    return ok;
  }
}
