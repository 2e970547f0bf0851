import type { Clock } from '../../src/core/ports';
import { T0 } from './request-fixtures';

/**
 * A clock for the fast core tests: time stands still until the test moves it, and then every
 * sleep and repeating timer due by the new time runs, in time order. `settle` runs a promise to its
 * end the way a fake-timer loop does: while nothing but timers is left to happen, it jumps to the
 * next one, so a Vault retry pause or a lease renewal takes no real time at all.
 */
export interface FastClock extends Clock {
  /** Moves time forward by `ms`, running every timer due on the way (in order), then lets the callbacks' work run. */
  advance(ms: number): Promise<void>;
  /** Resolves with `work`'s result, jumping from timer to timer whenever nothing else can happen. */
  settle<T>(work: Promise<T>): Promise<T>;
  /** Timers (sleeps and repeating ones) waiting to run. */
  readonly timers: number;
}

interface Timer {
  at: number;
  readonly seq: number;
  readonly everyMs?: number;
  readonly fire: () => void;
}

/** Lets every callback and promise chain that does not wait for a timer run (in-memory ports answer in microtasks). */
export function quiesce(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function fastClock(start = T0): FastClock {
  let now = start;
  let seq = 0;
  const timers = new Set<Timer>();

  const next = (): Timer | undefined => {
    let first: Timer | undefined;
    for (const t of timers) if (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq)) first = t;
    return first;
  };
  const fire = (t: Timer) => {
    if (t.everyMs === undefined) timers.delete(t);
    else t.at += t.everyMs;
    t.fire();
  };
  const moveTo = async (target: number) => {
    for (let t = next(); t && t.at <= target; t = next()) {
      now = Math.max(now, t.at);
      fire(t);
      await quiesce();
    }
    now = Math.max(now, target);
    await quiesce();
  };

  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const timer: Timer = { at: now + Math.max(0, ms), seq: seq++, fire: () => resolve() };
        timers.add(timer);
        signal?.addEventListener(
          'abort',
          () => {
            timers.delete(timer);
            resolve();
          },
          { once: true },
        );
      });
    },
    every(ms, fn) {
      const timer: Timer = { at: now + ms, seq: seq++, everyMs: ms, fire: fn };
      timers.add(timer);
      return () => timers.delete(timer);
    },
    advance: (ms) => moveTo(now + ms),
    async settle<T>(work: Promise<T>): Promise<T> {
      let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
      work.then(
        (value) => {
          outcome = { ok: true, value };
        },
        (error: unknown) => {
          outcome = { ok: false, error };
        },
      );
      // Bounded: a step that renews its lease forever while waiting for something no timer brings
      // would otherwise spin here instead of failing.
      for (let round = 0; round < 10_000; round++) {
        await quiesce();
        if (outcome) {
          if (outcome.ok) return outcome.value;
          throw outcome.error;
        }
        const t = next();
        if (!t) throw new Error('fastClock.settle: the work waits for something other than time (no timer is left)');
        now = Math.max(now, t.at);
        fire(t);
      }
      throw new Error('fastClock.settle: still not done after 10 000 timers');
    },
    get timers() {
      return timers.size;
    },
  };
}
