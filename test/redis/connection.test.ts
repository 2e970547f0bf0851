import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors';
import { createRedisAuditLog } from '../../src/redis/audit-log';
import { connectRedis } from '../../src/redis/connection';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { startRedis, type TestRedis } from '../../emulators/redis-server';
import { T0, newRequest, uniquePrefix } from './fixtures';
import { auditEvent } from '../support/audit-events';

let server: TestRedis;
const clients: Redis[] = [];

function client(opts: Parameters<typeof connectRedis>[1] = {}): Redis {
  const redis = connectRedis(server.url, opts);
  clients.push(redis);
  return redis;
}

/**
 * The client's next 'ready'. Failed connection attempts on the way (a server still starting, under
 * load) are part of reconnecting, and the client emits 'error' for each: events.once would reject on
 * the first of them.
 */
function nextReady(redis: Redis): Promise<void> {
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await nextReady(redis);
}

beforeAll(async () => {
  server = await startRedis();
});

afterEach(async () => {
  for (const redis of clients.splice(0)) redis.disconnect();
  // Tests below stop and pause the server; every test starts with one that answers.
  await server.resume();
  const probe = connectRedis(server.url);
  try {
    await probe.ping();
  } catch {
    await server.restart();
  } finally {
    probe.disconnect();
  }
});

afterAll(async () => {
  await server.stop();
});

describe('connectRedis', () => {
  it('talks to the server at a redis:// URL', async () => {
    expect(await client().ping()).toBe('PONG');
  });

  it('refuses a URL that is not redis:// or rediss://', () => {
    expect(() => connectRedis('http://127.0.0.1:6379')).toThrow(/redis:\/\//);
  });

  it('puts its own key prefix in front of the store’s, for keys built inside Lua too', async () => {
    const redis = client({ keyPrefix: 'tenant-a:' });
    const prefix = uniquePrefix();
    const store = createRedisRequestStore(redis, { keyPrefix: prefix });
    const request = newRequest();
    await store.create({ request, maxOpenPerRequester: 5 });
    const raw = client();
    expect(await raw.exists(`tenant-a:${prefix}req:${request.id}`, `tenant-a:${prefix}open`, `tenant-a:${prefix}requester:U_REQ`)).toBe(3);
    expect((await store.listOpen()).map((r) => r.id)).toEqual([request.id]);
  });
});

describe('when Redis is down', () => {
  it('the request store rejects with StoreUnavailableError instead of hanging', async () => {
    const redis = client();
    await ready(redis);
    const store = createRedisRequestStore(redis, { keyPrefix: uniquePrefix() });
    await server.stop();
    await expect(store.get('R-AAAAAA')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.approve('R-AAAAAA', 'U_APP', T0, 'abcd-0123')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.listOpen()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('the audit log rejects with StoreUnavailableError', async () => {
    const redis = client();
    await ready(redis);
    const log = createRedisAuditLog(redis, { keyPrefix: uniquePrefix(), logger: pino({ level: 'silent' }) });
    await server.stop();
    await expect(log.append(auditEvent('R-AAAAAA', 'requested', T0))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(log.history('R-AAAAAA')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('a hung Redis (process stopped, socket open) makes commands reject after the command timeout', async () => {
    const redis = client({ commandTimeoutMs: 300 });
    await ready(redis);
    const store = createRedisRequestStore(redis, { keyPrefix: uniquePrefix() });
    await server.pause();
    const error = await store.get('R-AAAAAA').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/timed out/i);
  });

  it('the client reconnects by itself once Redis is back, and its scripts still run on the new server', async () => {
    const redis = client();
    await ready(redis);
    const store = createRedisRequestStore(redis, { keyPrefix: uniquePrefix() });
    const back = nextReady(redis);
    await server.restart();
    await back;
    const request = newRequest();
    expect((await store.create({ request, maxOpenPerRequester: 5 })).kind).toBe('created');
  });
});
