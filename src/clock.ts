import type { Clock } from './core/ports';

/** The system's clock behind the core's Clock port: real time, real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: realSleep,
  every: realEvery,
};

/** A timer that resolves after `ms`, or at once (cleared) when `signal` aborts. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** setInterval, unref'd: a repeating timer must not keep a stopping process alive. */
export function realEvery(ms: number, fn: () => void): () => void {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
}
