// Main-thread side of the call workers: each CallThread owns one worker with its own libvirt connection;
// a CallPool spreads calls over a few of them so one slow call (destroy: up to 2 s) does not queue the
// rest. Contracts: call() never blocks the Node event loop; a failed call rejects with LibvirtError;
// an idle worker does not keep the process alive (unref), a pending call does (ref).
import type { Worker } from 'node:worker_threads';
import { LabError } from '../core/errors.js';
import { LibvirtError } from './errors.js';
import type { OpArgs, OpName, OpResult } from './ops.js';
import type { CallReply, WireError, WorkerStart } from './protocol.js';
import { spawnLibvirtWorker } from './spawn.js';

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  what: string | undefined;
}

export class CallThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: CallReply) => this.onReply(m));
    worker.on('error', (err) => this.failAll(new LabError(`libvirt worker thread crashed: ${err.message}`, { cause: err })));
    worker.once('exit', () => this.failAll(new LabError('libvirt worker thread exited')));
  }

  /** Starts a worker and opens `uri` in it; rejects with LibvirtError when the connection fails. */
  static open(uri: string): Promise<CallThread> {
    const worker = spawnLibvirtWorker({ role: 'calls', uri });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new LabError(`cannot start the libvirt worker thread: ${err.message}`, { cause: err }));
      worker.once('error', onError);
      worker.once('message', (m: WorkerStart) => {
        worker.off('error', onError);
        if (m.type === 'ready') {
          const t = new CallThread(worker);
          worker.unref(); // after the listeners: adding a 'message' listener re-refs the worker's port
          resolve(t);
        } else {
          void worker.terminate();
          reject(toLibvirtError(m.type === 'fatal' ? m.error : undefined, `cannot connect to libvirt at ${uri}`));
        }
      });
    });
  }

  /** Number of calls in flight. */
  get load(): number {
    return this.pending.size;
  }

  call<K extends OpName>(op: K, args: OpArgs<K>, what?: string): Promise<OpResult<K>> {
    return this.send(op, args as unknown[], what) as Promise<OpResult<K>>;
  }

  /** Closes the connection and ends the thread (idempotent). */
  async close(): Promise<void> {
    if (!this.dead) {
      await this.send('close', []).catch(() => undefined);
      this.dead = new LabError('libvirt connection is closed');
    }
    this.worker.ref();
    const t = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(t);
  }

  private send(op: string, args: unknown[], what?: string): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject, what });
      this.worker.postMessage({ id, op, args });
    });
  }

  private onReply(m: CallReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.ok) p.resolve(m.value);
    else p.reject(toLibvirtError(m.error, p.what));
  }

  private failAll(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

export function toLibvirtError(e: WireError | undefined, what?: string): LibvirtError {
  const err = e ?? { operation: 'unknown', code: -1, domain: 0, level: 2, message: 'unknown error' };
  return new LibvirtError(err.operation, err, what);
}

/** A few CallThreads on one URI; each call goes to the least busy one. */
export class CallPool {
  private constructor(private readonly threads: CallThread[]) {}

  static async open(uri: string, size: number): Promise<CallPool> {
    const first = await CallThread.open(uri); // fail fast, with one clear error, when the URI is wrong
    const rest = await Promise.allSettled(Array.from({ length: Math.max(0, size - 1) }, () => CallThread.open(uri)));
    const threads = [first, ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    return new CallPool(threads);
  }

  call<K extends OpName>(op: K, args: OpArgs<K>, what?: string): Promise<OpResult<K>> {
    let best = this.threads[0]!;
    for (const t of this.threads) if (t.load < best.load) best = t;
    return best.call(op, args, what);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
