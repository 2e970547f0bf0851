import { describe, it, expect } from 'vitest';
import { delayBeforeRetry, isRetryable, retryPolicy } from '../../src/intercom/retry-policy';

const policy = retryPolicy({ baseDelayMs: 200, maxDelayMs: 1_000, maxRateLimitWaitMs: 12_000 });

describe('retry policy', () => {
  it('retries throttling, timeouts from the server, 5xx and lost connections, and nothing else', () => {
    for (const status of [429, 408, 500, 502, 503, 504]) expect(isRetryable({ kind: 'status', status })).toBe(true);
    for (const status of [200, 204, 400, 401, 403, 404, 409, 422]) expect(isRetryable({ kind: 'status', status })).toBe(false);
    expect(isRetryable({ kind: 'network' })).toBe(true);
  });

  it('backs off exponentially up to the ceiling, with jitter in the upper half of each step', () => {
    const low = (attempt: number) => delayBeforeRetry(policy, attempt, { kind: 'network' }, 0, () => 0);
    const high = (attempt: number) => delayBeforeRetry(policy, attempt, { kind: 'network' }, 0, () => 0.999999);
    expect([1, 2, 3, 4, 5].map(low)).toEqual([100, 200, 400, 500, 500]);
    expect(high(1)).toBeCloseTo(200, 0);
    expect(high(5)).toBeCloseTo(1_000, 0);
  });

  it('waits for the rate-limit reset plus jitter, capped, and never a negative time', () => {
    const at = 1_700_000_003_000;
    const wait = (reset: number) => delayBeforeRetry(policy, 1, { kind: 'status', status: 429, rateLimitReset: reset }, at, () => 0.5);
    expect(wait(1_700_000_010)).toBe(7_100);
    expect(wait(1_700_000_000)).toBe(100);
    expect(wait(1_700_003_600)).toBe(12_000);
  });

  it('treats a 429 without a reset like any other transient failure', () => {
    expect(delayBeforeRetry(policy, 2, { kind: 'status', status: 429 }, 0, () => 0)).toBe(200);
  });

  it('refuses nonsense settings', () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => retryPolicy({ baseDelayMs: -1 })).toThrow(RangeError);
    expect(retryPolicy()).toEqual({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 5_000, maxRateLimitWaitMs: 12_000 });
  });
});
