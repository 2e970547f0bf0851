import { readFileSync } from 'node:fs';
import { realEvery, realSleep } from './clock';
import type { Clock } from './core/ports';

/**
 * The sandbox's clock (`IVS_SANDBOX_CLOCK_FILE`, refused with NODE_ENV=production by config): real
 * time plus the offset in milliseconds written in the file, read afresh on every call so that every
 * replica sees a skip at once. A missing or unreadable file keeps the last offset seen. Sleeps are
 * real: skipping ahead moves deadlines, not timers.
 */
export function fileOffsetClock(path: string): Clock {
  let offset = 0;
  const read = (): number => {
    try {
      const n = Number(readFileSync(path, 'utf8').trim());
      if (Number.isFinite(n)) offset = n;
    } catch {
      // Keep the last offset: the file is being replaced, or the sandbox is going away.
    }
    return offset;
  };
  return {
    now: () => Date.now() + read(),
    sleep: realSleep,
    every: realEvery,
  };
}
