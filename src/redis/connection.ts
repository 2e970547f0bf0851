import { Cluster, Redis } from 'ioredis';

/** A single server (possibly found through Sentinel) or a Cluster: the store and audit log work on both. */
export type RedisClient = Redis | Cluster;
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
 * Sentinel: `redis+sentinel://[user:password@]host:port[,host:port…]/<master name>[?db=N]` asks the
 * sentinels for the current master and follows fail-overs.
 *
 * Cluster: `redis+cluster://[user:password@]host:port[,host:port…]` (any reachable nodes; the client
 * discovers the rest). The store's Lua scripts touch several keys, so every key must land in one
 * slot: the key prefix carries a hash tag such as `{ivs}:` (config.ts insists), and every script
 * declares one of its keys so the client routes it to the node that owns that slot.
 */
export function connectRedisClient(url: string, opts: RedisConnectionOptions = {}): RedisClient {
  return /^redis\+cluster:\/\//i.test(url) ? connectCluster(url, opts) : connectRedis(url, opts);
}

/** One server, or the master a Sentinel names. */
export function connectRedis(url: string, opts: RedisConnectionOptions = {}): Redis {
  const sentinel = /^redis\+sentinel:\/\//i.test(url) ? parseSentinelUrl(url) : undefined;
  if (!sentinel && !/^rediss?:\/\//i.test(url)) {
    throw new Error('REDIS_URL must start with redis://, rediss://, redis+sentinel:// or redis+cluster://');
  }
  const redis = sentinel ? new Redis({ ...clientOptions(opts), ...sentinel }) : new Redis(url, clientOptions(opts));
  watchConnection(redis, opts.logger);
  return redis;
}

export function connectCluster(url: string, opts: RedisConnectionOptions = {}): Cluster {
  const { nodes, auth } = parseClusterUrl(url);
  const options = clientOptions(opts);
  const cluster = new Cluster(nodes, {
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: true,
    clusterRetryStrategy: options.retryStrategy,
    redisOptions: { ...options, keyPrefix: '', ...auth },
  });
  watchConnection(cluster, opts.logger);
  return cluster;
}

function clientOptions(opts: RedisConnectionOptions) {
  const commandTimeout = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const options = {
    keyPrefix: opts.keyPrefix ?? '',
    // One reconnection attempt per command, then the command rejects: callers turn that into
    // StoreUnavailableError and tell the person, instead of a click that hangs.
    maxRetriesPerRequest: 1,
    // Commands issued before the first connect are queued (start-up needs no ready dance), but
    // commandTimeout bounds how long any of them waits.
    enableOfflineQueue: true,
    // A script whose answer was lost to a dropped connection may already have run: sending it again
    // would run a transition twice. The caller gets an error and reads back what happened instead.
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    connectTimeout: commandTimeout,
    retryStrategy: (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
  };
  return options;
}

function watchConnection(redis: RedisClient, logger: Logger | undefined): void {
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
}

export interface SentinelOptions {
  readonly sentinels: { host: string; port: number }[];
  readonly name: string;
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
}

/** `redis+sentinel://[user:password@]h1:26379,h2:26379/mymaster[?db=0]` → ioredis Sentinel options. */
export function parseSentinelUrl(url: string): SentinelOptions {
  const match = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/([^/?]+)(?:\?(.*))?$/i.exec(url);
  if (!match) throw new Error('REDIS_URL with redis+sentinel:// must look like redis+sentinel://host:26379[,host:26379]/<master name>');
  const [, user, password, hosts = '', name = '', query] = match;
  const sentinels = hosts.split(',').map((hostPort) => {
    const [host = '', port = '26379'] = hostPort.split(':');
    if (!host || !/^\d{1,5}$/.test(port)) throw new Error('REDIS_URL names a sentinel without a usable host:port');
    return { host, port: Number(port) };
  });
  const db = query ? new URLSearchParams(query).get('db') : null;
  return {
    sentinels,
    name: decodeURIComponent(name),
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(db !== null && /^\d+$/.test(db) ? { db: Number(db) } : {}),
  };
}

/** `redis+cluster://[user:password@]h1:6379,h2:6379` → the seed nodes and credentials. */
export function parseClusterUrl(url: string): { nodes: { host: string; port: number }[]; auth: { username?: string; password?: string } } {
  const match = /^redis\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/?$/i.exec(url);
  if (!match) throw new Error('REDIS_URL with redis+cluster:// must look like redis+cluster://host:6379[,host:6379]');
  const [, user, password, hosts = ''] = match;
  const nodes = hosts.split(',').map((hostPort) => {
    const [host = '', port = '6379'] = hostPort.split(':');
    if (!host || !/^\d{1,5}$/.test(port)) throw new Error('REDIS_URL names a cluster node without a usable host:port');
    return { host, port: Number(port) };
  });
  return {
    nodes,
    auth: { ...(user ? { username: decodeURIComponent(user) } : {}), ...(password ? { password: decodeURIComponent(password) } : {}) },
  };
}
