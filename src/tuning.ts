import type { Clock } from './core/ports';
import type { DeliveryOptions } from './slack/delivery';

/** The bot's timings: production's, and the shorter ones tests and the bench pass to createBot. */

/** Lease of an executing request; renewed at a third of this while the step runs (SPEC §4 item 2). */
export const LEASE_MS = 15_000;
/** How often each replica expires due requests and looks for stale leases. */
export const SWEEP_INTERVAL_MS = 5_000;
/** How often a replica checks that every current/<platform> hands out the right secret. */
export const RECONCILE_INTERVAL_MS = 60_000;
/** How often a replica checks for due secrets, stalled rotations and waiting approvals (SPEC §10); also at start. */
export const ROTATION_CHECK_INTERVAL_MS = 5 * 60_000;
/** How long SIGTERM waits for running executions before leaving them to lease recovery. */
export const DRAIN_TIMEOUT_MS = 20_000;
/** Every Slack Web API call (and response_url post) gives up after this long without an answer. */
export const SLACK_CALL_TIMEOUT_MS = 10_000;
/** How long SIGTERM lets the Slack outbox deliver what is due before the process exits. */
export const DELIVERY_DRAIN_MS = 5_000;
/** users.info and usergroups.users.list answer fast or not at all; a decision must not hang on them. */
export const DIRECTORY_TIMEOUT_MS = 5_000;

/**
 * What tests and the bench change about a bot that production builds from its config and the
 * constants above alone (createBot's third argument; src/main.ts never passes one).
 */
export interface BotTuning {
  /** A clock tests fast-forward (production: the system's, or the sandbox's from the config). */
  readonly clock?: Clock;
  readonly leaseMs?: number;
  readonly sweepIntervalMs?: number;
  readonly intercomRetry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRateLimitWaitMs?: number };
  readonly intercomTimeoutMs?: number;
  /** How long a fenced-off executor may still be writing (see ExecutorDeps.holderWindowMs). */
  readonly holderWindowMs?: number;
  readonly replicaId?: string;
  /** Whether sweeps check current/<platform> (default true); the test harness turns it off unless a test wants it. */
  readonly reconcileCurrents?: boolean;
  /** Slack delivery: lease, polling, pacing and backoff (production: DEFAULT_DELIVERY). */
  readonly delivery?: Partial<Pick<DeliveryOptions, 'leaseMs' | 'pollMs' | 'pacing' | 'backoff'>>;
  readonly slackTimeoutMs?: number;
}
