import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/duration';

describe('formatDuration: the one way the bot prints a duration (thread replies, answers, the card)', () => {
  it('prints the two largest units, compactly', () => {
    expect(formatDuration(3_900_000)).toBe('1h 5m');
    expect(formatDuration(42 * 60_000)).toBe('42m');
    expect(formatDuration(90_000)).toBe('1m 30s');
    expect(formatDuration(30_000)).toBe('30s');
    expect(formatDuration(26 * 3_600_000 + 5 * 60_000)).toBe('1d 2h');
    expect(formatDuration(3_600_000)).toBe('1h');
  });

  it('rounds up to the second, so a countdown never says 0s while time is left, and never goes negative', () => {
    expect(formatDuration(1)).toBe('1s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-5)).toBe('0s');
  });
});
