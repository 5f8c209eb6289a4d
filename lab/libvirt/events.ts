// Main-thread side of the process's single libvirt event loop (the 'events' worker). libvirt's default
// event loop is process-wide, so exactly one thread may run it: every driver shares this host, which
// is reference-counted and stops when the last driver releases it.
// Contracts:
//  - Events reach listeners through worker messages: Node's event loop is never blocked.
//  - The worker is unref'd; a pending watch/unwatch keeps the process alive until it is answered.
//  - Exit safety: a thread parked in virEventRunDefaultImpl cannot be joined, which would hang process
//    exit; an 'exit' hook wakes the loop so the thread can end even if a driver was never closed.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { LabError } from '../core/errors.js';
import { toLibvirtError } from './calls.js';
import { libvirt } from './ffi.js';
import type { EventControl, EventNotice, WorkerStart } from './protocol.js';
import { spawnLibvirtWorker } from './spawn.js';

export type RawEvent = Extract<EventNotice, { type: 'event' }>;

interface WatchEntry {
  onEvent(e: RawEvent): void;
  onClosed(reason: number): void;
}

let current: Promise<EventHost> | undefined;
/** The previous host's thread, while it winds down: a new loop starts only after it has ended. */
let stopping: Promise<void> | undefined;

export class EventHost {
  private refs = 0;
  private stopped = false;
  private nextKey = 1;
  private inflight = 0;
  private readonly watches = new Map<number, WatchEntry>();
  private readonly replies = new Map<number, { resolve(): void; reject(e: unknown): void }>();
  private readonly exited: Promise<void>;
  private readonly exitHook = () => this.wake({ op: 'exit' });

  private constructor(private readonly worker: Worker, private readonly port: MessagePort, private readonly timer: number) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.once('exit', () => {
      // Normal after release(); otherwise the thread died: its watches are gone, the next acquire starts anew.
      this.stopped = true;
      process.off('exit', this.exitHook);
      this.failAll(new LabError('libvirt event thread exited'));
    });
    worker.on('message', (m: EventNotice) => this.onNotice(m));
    worker.on('error', (err) => this.failAll(new LabError(`libvirt event thread crashed: ${err.message}`, { cause: err })));
    process.on('exit', this.exitHook);
  }

  /** The shared host (started on first use). Pair every acquire() with one release(). */
  static async acquire(): Promise<EventHost> {
    for (;;) {
      if (stopping) await stopping;
      const p = (current ??= EventHost.start().catch((err: unknown) => {
        current = undefined;
        throw err;
      }));
      const host = await p;
      if (host.stopped) {
        if (current === p) current = undefined; // released or died while we waited: start a fresh one
        continue;
      }
      host.refs++;
      return host;
    }
  }

  private static async start(): Promise<EventHost> {
    const { port1, port2 } = new MessageChannel();
    const worker = spawnLibvirtWorker({ role: 'events', port: port2 }, [port2]);
    const timer = await new Promise<number>((resolve, reject) => {
      worker.once('error', (err) => reject(new LabError(`cannot start the libvirt event thread: ${err.message}`, { cause: err })));
      worker.once('message', (m: WorkerStart) =>
        m.type === 'ready' && m.timer !== undefined
          ? resolve(m.timer)
          : reject(toLibvirtError(m.type === 'fatal' ? m.error : undefined, 'cannot start the libvirt event loop')),
      );
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    const host = new EventHost(worker, port1, timer);
    worker.unref(); // after the listeners: adding a 'message' listener re-refs the worker's port
    return host;
  }

  /** Opens an event connection to `uri`; lifecycle events of every domain there go to onEvent. */
  async watch(uri: string, onEvent: (e: RawEvent) => void, onClosed: (reason: number) => void = () => {}): Promise<number> {
    const key = this.nextKey++;
    this.watches.set(key, { onEvent, onClosed });
    try {
      await this.request(key, { op: 'watch', key, uri });
    } catch (err) {
      this.watches.delete(key);
      throw err;
    }
    return key;
  }

  async unwatch(key: number): Promise<void> {
    if (!this.watches.delete(key)) return;
    await this.request(key, { op: 'unwatch', key });
  }

  /** Drops one reference; the last one stops the event thread and waits for it to end. */
  async release(): Promise<void> {
    if (this.stopped || --this.refs > 0) return;
    this.stopped = true;
    current = undefined;
    stopping = this.exited.then(() => {
      stopping = undefined;
    });
    this.worker.ref();
    this.wake({ op: 'exit' });
    const t = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(t);
    this.port.close();
  }

  private request(key: number, msg: EventControl): Promise<void> {
    if (this.stopped) return Promise.reject(new LabError('the libvirt event thread is not running'));
    return new Promise((resolve, reject) => {
      if (this.inflight++ === 0) this.worker.ref();
      const done = () => {
        if (--this.inflight === 0) this.worker.unref();
      };
      this.replies.set(key, {
        resolve: () => (done(), resolve()),
        reject: (e) => (done(), reject(e)),
      });
      this.wake(msg);
    });
  }

  /** Posts a control message, then interrupts virEventRunDefaultImpl so the worker drains it. */
  private wake(msg: EventControl): void {
    this.port.postMessage(msg);
    libvirt().virEventUpdateTimeout(this.timer, 0);
  }

  private onNotice(m: EventNotice): void {
    if (m.type === 'event') this.watches.get(m.key)?.onEvent(m);
    else if (m.type === 'closed') this.watches.get(m.key)?.onClosed(m.reason);
    else {
      const r = this.replies.get(m.key);
      this.replies.delete(m.key);
      if (m.type === 'watch-failed') r?.reject(toLibvirtError(m.error, 'cannot watch libvirt events'));
      else r?.resolve();
    }
  }

  private failAll(err: Error): void {
    for (const r of this.replies.values()) r.reject(err);
    this.replies.clear();
    for (const w of this.watches.values()) w.onClosed(-1);
  }
}
