// Messages between the main thread and the libvirt worker threads (types only).
//
// Call worker (one per connection; role 'calls'):
//   main → worker  CallRequest          worker → main  'ready' | 'fatal' | CallReply
// Event worker (one per process; role 'events'), control messages travel on a dedicated MessagePort that
// the worker drains with receiveMessageOnPort() after main wakes its event loop (virEventUpdateTimeout):
//   main → worker  EventControl         worker → main  'ready' | 'fatal' | EventNotice
import type { MessagePort } from 'node:worker_threads';
import type { VirErrorInfo } from './ffi.js';
import type { OpName } from './ops.js';

export type WorkerData = { role: 'calls'; uri: string } | { role: 'events'; port: MessagePort };

export interface WireError extends VirErrorInfo {
  operation: string;
}

export type CallRequest = { id: number; op: OpName | 'close'; args: unknown[] };
export type CallReply = { type: 'reply'; id: number; ok: true; value: unknown } | { type: 'reply'; id: number; ok: false; error: WireError };

export type WorkerStart = { type: 'ready'; timer?: number } | { type: 'fatal'; error: WireError };

export type EventControl = { op: 'watch'; key: number; uri: string } | { op: 'unwatch'; key: number } | { op: 'exit' };

export type EventNotice =
  | { type: 'watching'; key: number }
  | { type: 'watch-failed'; key: number; error: WireError }
  | { type: 'unwatched'; key: number }
  /** A lifecycle event; `at` is the worker's wall-clock receipt time in ms (timeOrigin + now). */
  | { type: 'event'; key: number; domain: string; uuid: string; event: number; detail: number; at: number }
  /** The event connection closed under us (daemon gone, ssh dropped); reason = virConnectCloseReason. */
  | { type: 'closed'; key: number; reason: number };
