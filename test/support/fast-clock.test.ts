import { describe, expect, it } from 'vitest';
import { fastClock, quiesce } from './fast-clock';

describe('the fast-forward test clock', () => {
  it('stands still until moved, then runs what is due in time order', async () => {
    const clock = fastClock(1_000);
    const fired: string[] = [];
    void clock.sleep(300).then(() => fired.push(`sleep 300 at ${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`sleep 100 at ${clock.now()}`));
    const stop = clock.every(150, () => fired.push(`every at ${clock.now()}`));
    await quiesce();
    expect(fired).toEqual([]);
    await clock.advance(320);
    // At the same moment, the timer set first runs first (as Node's timers do).
    expect(fired).toEqual(['sleep 100 at 1100', 'every at 1150', 'sleep 300 at 1300', 'every at 1300']);
    expect(clock.now()).toBe(1_320);
    stop();
    expect(clock.timers).toBe(0);
  });

  it('a sleep whose signal aborts ends at once and leaves no timer', async () => {
    const clock = fastClock();
    const stop = new AbortController();
    const sleeping = clock.sleep(60_000, stop.signal);
    stop.abort();
    await sleeping;
    expect(clock.timers).toBe(0);
  });

  it('settle jumps from timer to timer until the work is done, and says when the work waits for something else', async () => {
    const clock = fastClock(0);
    const work = async () => {
      await clock.sleep(1_500);
      await clock.sleep(30_000);
      return clock.now();
    };
    expect(await clock.settle(work())).toBe(31_500);
    await expect(clock.settle(new Promise(() => undefined))).rejects.toThrow(/no timer is left/);
    await expect(clock.settle(Promise.reject(new Error('failed inside')))).rejects.toThrow('failed inside');
  });
});
