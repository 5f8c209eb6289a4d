// Waiting on domains: for one lifecycle event, or for a state. Events arrive without polling; state
// waits poll (events can be lost when the event connection drops) and wake early on any event of
// that domain. Both honour a deadline (TimeoutError) and an abort signal (InterruptedError).
import { InterruptedError, TimeoutError } from '../core/errors.js';
import type { DomainState, LibvirtDriver, LifecycleEvent, WaitOpts } from './driver.js';

export function waitForEvent(
  driver: Pick<LibvirtDriver, 'onLifecycle'>,
  match: (e: LifecycleEvent) => boolean,
  opts: WaitOpts & { what?: string },
): Promise<LifecycleEvent> {
  const what = opts.what ?? 'a libvirt lifecycle event';
  const start = performance.now();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new InterruptedError(`interrupted while waiting for ${what}`));
    let last: string | undefined;
    const finish = (fn: () => void) => {
      unsubscribe();
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const unsubscribe = driver.onLifecycle((e) => {
      last = `${e.domain}: ${e.type} (${e.detail})`;
      if (match(e)) finish(() => resolve(e));
    });
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(what, performance.now() - start, last))), opts.timeoutMs);
    const onAbort = () => finish(() => reject(new InterruptedError(`interrupted while waiting for ${what}`)));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function waitForState(
  driver: Pick<LibvirtDriver, 'onLifecycle' | 'domainState'>,
  name: string,
  states: readonly DomainState[],
  opts: WaitOpts,
): Promise<DomainState> {
  const what = `domain ${name} to be ${states.join(' or ')}`;
  const start = performance.now();
  let wake: (() => void) | undefined;
  const unsubscribe = driver.onLifecycle((e) => {
    if (e.domain === name) wake?.();
  });
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new InterruptedError(`interrupted while waiting for ${what}`);
      const seen = await driver.domainState(name);
      if (states.includes(seen)) return seen;
      const left = opts.timeoutMs - (performance.now() - start);
      if (left <= 0) throw new TimeoutError(what, performance.now() - start, seen);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          opts.signal?.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const t = setTimeout(done, Math.min(opts.intervalMs ?? 500, left));
        wake = done;
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    unsubscribe();
  }
}
