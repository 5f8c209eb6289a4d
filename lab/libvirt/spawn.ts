// Starts a libvirt worker thread (worker.ts) in both layouts:
//  - built (dist/lab/libvirt/worker.js exists next to this module): plain Worker;
//  - from source (vitest, `node --import source-register.mjs …`): the .ts entry, loaded through
//    source-register.mjs, which transpiles TypeScript with the project's typescript package.
// Workers get an empty execArgv so test-runner flags are not inherited.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { WorkerData } from './protocol.js';

export function spawnLibvirtWorker(data: WorkerData, transferList: TransferListItem[] = []): Worker {
  const built = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData: data, transferList, execArgv: [] });
  const source = new URL('./worker.ts', import.meta.url);
  const register = new URL('./source-register.mjs', import.meta.url);
  return new Worker(source, { workerData: data, transferList, execArgv: ['--import', register.href] });
}
