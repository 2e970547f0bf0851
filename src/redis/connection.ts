import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisConnectionOptions {
  /** Prefix ioredis puts on every key. The store and audit log add their own prefix on top. */
  readonly keyPrefix?: string;
  readonly logger?: Logger;
  /** A command that has no answer after this long rejects (default 2000 ms). */
  readonly commandTimeoutMs?: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * Connects to `redis://` or `rediss://` (TLS). Tuned for a bot that must fail fast and clearly: a
 * command while Redis is down or hung rejects within about two seconds instead of queueing for
 * minutes, and the client keeps reconnecting in the background so service resumes on its own.
 *
 * Sentinel and Cluster are not wired yet (SPEC §6 allows them): they need `new Redis({ sentinels })`
 * / `new Cluster(...)` and, for Cluster, a hash-tagged key prefix such as `{ivs}:` because the
 * store's Lua scripts touch several keys.
 */
export function connectRedis(url: string, opts: RedisConnectionOptions = {}): Redis {
  if (!/^rediss?:\/\//i.test(url)) {
    throw new Error('REDIS_URL must start with redis:// or rediss://');
  }
  const commandTimeout = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const redis = new Redis(url, {
    keyPrefix: opts.keyPrefix ?? '',
    // One reconnection attempt per command, then the command rejects: callers turn that into
    // StoreUnavailableError and tell the person, instead of a click that hangs.
    maxRetriesPerRequest: 1,
    // Commands issued before the first connect are queued (start-up needs no ready dance), but
    // commandTimeout bounds how long any of them waits.
    enableOfflineQueue: true,
    commandTimeout,
    connectTimeout: commandTimeout,
    retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
  });
  const logger = opts.logger;
  let down = false;
  // Without a listener ioredis prints "Unhandled error event" for every failed reconnect.
  redis.on('error', (err: Error) => {
    if (!down) logger?.warn({ err: { message: err.message } }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger?.info('redis connection restored');
    down = false;
  });
  return redis;
}
