import { EventEmitter, once } from 'node:events';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { watchCatalogChanges, type CatalogChanges } from '../../src/redis/catalog-changes';
import { connectRedis } from '../../src/redis/connection';
import { startRedis, type TestRedis } from '../../emulators/redis-server';
import { uniquePrefix } from './fixtures';

let server: TestRedis;
const clients: Redis[] = [];
const feeds: CatalogChanges[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterEach(async () => {
  for (const feed of feeds.splice(0)) await feed.close();
  for (const redis of clients.splice(0)) redis.disconnect();
});
afterAll(async () => {
  await server?.stop();
});

/** One replica's view: its feed, how many changes it was told of, and a way to await the next one. */
async function replica(channel: string) {
  const redis = connectRedis(server.url);
  clients.push(redis);
  const events = new EventEmitter();
  let changes = 0;
  const feed = watchCatalogChanges(redis, {
    channel,
    onChange: () => {
      changes++;
      events.emit('change');
    },
    logger: pino({ level: 'silent' }),
  });
  feeds.push(feed);
  const nextChange = () => once(events, 'change');
  // Subscribing counts as a change (whatever was listed before it cannot have been heard of).
  await nextChange();
  return { feed, changes: () => changes, nextChange };
}

describe('secret changes between replicas (Redis pub/sub)', () => {
  it('hears once subscribed, and a change announced by one replica reaches the other', async () => {
    const channel = `${uniquePrefix()}secrets-changed`;
    const a = await replica(channel);
    const b = await replica(channel);
    expect(a.feed.hearing()).toBe(true);
    expect(b.feed.hearing()).toBe(true);

    const heard = b.nextChange();
    const before = a.changes();
    a.feed.announce();
    // The announcing replica forgets at once, without waiting for Redis.
    expect(a.changes()).toBe(before + 1);
    await heard;
  });

  it('does not hear changes announced under another key prefix', async () => {
    const mine = `${uniquePrefix()}secrets-changed`;
    const other = `${uniquePrefix()}secrets-changed`;
    const a = await replica(mine);
    const publisher = connectRedis(server.url);
    clients.push(publisher);
    const before = a.changes();
    const marker = a.nextChange();
    // One connection, so Redis handles them in order: had the first reached `a`, it would come first.
    await publisher.publish(other, 'changed');
    await publisher.publish(mine, 'changed');
    await marker;
    expect(a.changes()).toBe(before + 1);
  });

  it('stops trusting listings when Redis goes away, and hears again after it is back', async () => {
    const channel = `${uniquePrefix()}secrets-changed`;
    const a = await replica(channel);
    const lost = a.nextChange();
    const restart = server.restart();
    await lost;
    expect(a.feed.hearing()).toBe(false);
    await restart;
    // Back: subscribed afresh, which counts as a change, and changes are heard again.
    await a.nextChange();
    expect(a.feed.hearing()).toBe(true);
    const b = await replica(channel);
    const heard = a.nextChange();
    b.feed.announce();
    await heard;
  });

  it('after close it hears nothing', async () => {
    const a = await replica(`${uniquePrefix()}secrets-changed`);
    await a.feed.close();
    expect(a.feed.hearing()).toBe(false);
  });
});
