/**
 * When a safe Intercom call (list, delete) is tried again, and after how long (contract §1.6,
 * SPEC §1). Pure: the client supplies the clock and the randomness.
 */

export interface RetryOptions {
  /** Total attempts, the first included. Default 3 (Intercom's own advice is one retry). */
  readonly maxAttempts?: number;
  /** First backoff step. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Largest backoff step. Default 5 s. */
  readonly maxDelayMs?: number;
  /** Longest wait for a rate-limit window to reset. Default 12 s (a window is 10 s). */
  readonly maxRateLimitWaitMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

/** What one failed attempt looked like, as far as retrying is concerned. */
export type AttemptFailure = { readonly kind: 'status'; readonly status: number; readonly rateLimitReset?: number } | { readonly kind: 'network' };

export function retryPolicy(opts: RetryOptions = {}): RetryPolicy {
  const policy = {
    maxAttempts: opts.maxAttempts ?? 3,
    baseDelayMs: opts.baseDelayMs ?? 500,
    maxDelayMs: opts.maxDelayMs ?? 5_000,
    maxRateLimitWaitMs: opts.maxRateLimitWaitMs ?? 12_000,
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new RangeError('retry.maxAttempts must be an integer ≥ 1');
  for (const key of ['baseDelayMs', 'maxDelayMs', 'maxRateLimitWaitMs'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] < 0) throw new RangeError(`retry.${key} must be a number ≥ 0`);
  }
  return policy;
}

/** Throttling, server trouble and lost connections pass; every other answer is final. */
export function isRetryable(failure: AttemptFailure): boolean {
  if (failure.kind === 'network') return true;
  return failure.status === 429 || failure.status === 408 || failure.status >= 500;
}

/**
 * Milliseconds to wait before attempt `attempt + 1`. A 429 with `X-RateLimit-Reset` waits for the
 * window to end (capped: clocks drift, and a far reset is better reported than slept through);
 * everything else backs off exponentially with jitter, so replicas do not retry in step.
 */
export function delayBeforeRetry(policy: RetryPolicy, attempt: number, failure: AttemptFailure, nowMs: number, random: () => number): number {
  if (failure.kind === 'status' && failure.status === 429 && failure.rateLimitReset !== undefined) {
    const untilReset = Math.max(0, failure.rateLimitReset * 1000 - nowMs);
    return Math.min(policy.maxRateLimitWaitMs, untilReset + random() * policy.baseDelayMs);
  }
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return step / 2 + random() * (step / 2);
}
