// Worker-thread entry for libvirt (pattern B of test-harness.md §3). Two roles:
//  - 'calls':  opens its own connection and runs OPS synchronously, one message at a time, so every
//              error is read with virGetLastError on the thread that made the call.
//  - 'events': the process's single libvirt event loop. Registers the default event implementation,
//              then loops on virEventRunDefaultImpl (blocking this thread only). It hosts one event
//              connection per watched URI and posts lifecycle events to main. Control messages arrive
//              on a dedicated port; main wakes the loop with virEventUpdateTimeout(mailbox, 0) after
//              posting, and the loop drains the port between iterations (never inside a callback).
//              {op:'exit'} ends the loop, closes everything and lets the thread finish.
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { VIR_DOMAIN_EVENT_ID_LIFECYCLE } from './constants.js';
import { type Ptr, lastError, libvirt, registerCallback, silenceDefaultErrorPrinter, unregisterCallback, uuidBuffer } from './ffi.js';
import { OPS, OpFailure } from './ops.js';
import type { CallReply, CallRequest, EventControl, EventNotice, WireError, WorkerData, WorkerStart } from './protocol.js';

const port = parentPort!;
const post = (m: CallReply | WorkerStart | EventNotice) => port.postMessage(m);

function wireError(operation: string, err: unknown): WireError {
  if (err instanceof OpFailure) return { operation: err.operation, ...err.error };
  return { operation, code: -1, domain: 0, level: 2, message: err instanceof Error ? err.message : String(err) };
}

function open(uri: string): Ptr {
  const conn = libvirt().virConnectOpen(uri) as Ptr | null;
  if (conn) return conn;
  const e = lastError() ?? { code: -1, domain: 0, level: 2, message: 'connection failed' };
  throw new OpFailure(`virConnectOpen(${uri})`, e);
}

function runCalls(uri: string): void {
  let conn: Ptr;
  try {
    silenceDefaultErrorPrinter();
    conn = open(uri);
  } catch (err) {
    post({ type: 'fatal', error: wireError(`virConnectOpen(${uri})`, err) });
    return;
  }
  post({ type: 'ready' });
  port.on('message', (m: CallRequest) => {
    if (m.op === 'close') {
      libvirt().virConnectClose(conn);
      post({ type: 'reply', id: m.id, ok: true, value: undefined });
      port.close();
      return;
    }
    try {
      const fn = OPS[m.op] as (c: Ptr, ...a: unknown[]) => unknown;
      post({ type: 'reply', id: m.id, ok: true, value: fn(conn, ...m.args) });
    } catch (err) {
      post({ type: 'reply', id: m.id, ok: false, error: wireError(m.op, err) });
    }
  });
}

interface Watch {
  conn: Ptr;
  callbackId: number;
  lifecycle: Ptr;
  onClose: Ptr;
}

function runEvents(control: MessagePort): void {
  const v = libvirt();
  silenceDefaultErrorPrinter();
  if (v.virEventRegisterDefaultImpl() < 0) {
    post({ type: 'fatal', error: wireError('virEventRegisterDefaultImpl', new OpFailure('virEventRegisterDefaultImpl', lastError()!)) });
    return;
  }
  let pending = false;
  let stop = false;
  const mailbox = registerCallback('TimeoutCb', () => {
    pending = true;
  });
  const timer = v.virEventAddTimeout(-1, mailbox, null, null) as number;
  const watches = new Map<number, Watch>();

  const unwatch = (key: number) => {
    const w = watches.get(key);
    if (!w) return;
    watches.delete(key);
    v.virConnectDomainEventDeregisterAny(w.conn, w.callbackId);
    v.virConnectUnregisterCloseCallback(w.conn, w.onClose);
    v.virConnectClose(w.conn);
    unregisterCallback(w.lifecycle);
    unregisterCallback(w.onClose);
  };

  const watch = (key: number, uri: string) => {
    const conn = open(uri);
    const buf = uuidBuffer();
    const lifecycle = registerCallback('LifecycleCb', (_c, dom, event, detail) => {
      const at = performance.timeOrigin + performance.now();
      const domain = (v.virDomainGetName(dom) as string | null) ?? '';
      const uuid = v.virDomainGetUUIDString(dom, buf) === 0 ? buf.toString('latin1', 0, 36) : '';
      post({ type: 'event', key, domain, uuid, event, detail, at });
      return 0;
    });
    const onClose = registerCallback('CloseCb', (_c, reason) => post({ type: 'closed', key, reason }));
    const callbackId = v.virConnectDomainEventRegisterAny(conn, null, VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, null, null) as number;
    if (callbackId < 0) {
      const e = new OpFailure('virConnectDomainEventRegisterAny', lastError() ?? { code: -1, domain: 0, level: 2, message: 'failed' });
      v.virConnectClose(conn);
      unregisterCallback(lifecycle);
      unregisterCallback(onClose);
      throw e;
    }
    v.virConnectRegisterCloseCallback(conn, onClose, null, null); // best effort: not every driver has one
    v.virResetLastError();
    watches.set(key, { conn, callbackId, lifecycle, onClose });
  };

  const handle = (m: EventControl) => {
    if (m.op === 'exit') stop = true;
    else if (m.op === 'unwatch') {
      unwatch(m.key);
      post({ type: 'unwatched', key: m.key });
    } else {
      try {
        watch(m.key, m.uri);
        post({ type: 'watching', key: m.key });
      } catch (err) {
        post({ type: 'watch-failed', key: m.key, error: wireError(`virConnectOpen(${m.uri})`, err) });
      }
    }
  };

  post({ type: 'ready', timer });
  for (;;) {
    // Disarm before draining: a wake that lands after this line re-arms the timer, so no message is lost.
    v.virEventUpdateTimeout(timer, -1);
    pending = false;
    for (let m = receiveMessageOnPort(control); m; m = receiveMessageOnPort(control)) handle(m.message as EventControl);
    if (stop) break;
    while (!pending) v.virEventRunDefaultImpl();
  }
  for (const key of [...watches.keys()]) unwatch(key);
  v.virEventRemoveTimeout(timer);
  unregisterCallback(mailbox);
  control.close();
  port.close();
}

const data = workerData as WorkerData;
if (data.role === 'calls') runCalls(data.uri);
else runEvents(data.port);
