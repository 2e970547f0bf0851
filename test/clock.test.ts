import { describe, expect, it } from 'vitest';
import { realEvery, realSleep, systemClock } from '../src/clock';

describe('the system clock behind the Clock port', () => {
  it('tells real time', () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
  });

  it('sleeps, and a sleep whose signal aborts ends at once', async () => {
    const started = Date.now();
    await realSleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);

    const stop = new AbortController();
    const long = realSleep(60_000, stop.signal);
    stop.abort();
    await long;
    const aborted = new AbortController();
    aborted.abort();
    await realSleep(60_000, aborted.signal);
  });

  it('repeats until cancelled', async () => {
    let ticks = 0;
    let cancel: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      cancel = realEvery(5, () => {
        ticks++;
        if (ticks === 3) resolve();
      });
    });
    cancel?.();
    const after = ticks;
    await realSleep(30);
    expect(ticks).toBe(after);
  });
});
