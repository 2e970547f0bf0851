import { describe, expect, it } from 'vitest';
import { createRedisReminderClaims } from '../../src/redis/reminder-claims';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { HOUR, T0, rotationRequest, uniquePrefix, useTwoConnections } from './fixtures';

const redis = useTwoConnections();

describe('reminder claims in Redis', () => {
  it('of many replicas claiming at the same moment, exactly one wins', async () => {
    const keyPrefix = uniquePrefix();
    const claims = [createRedisReminderClaims(redis.a, { keyPrefix }), createRedisReminderClaims(redis.b, { keyPrefix })];
    const won = await Promise.all(Array.from({ length: 20 }, (_, i) => claims[i % 2]!.claim('remind:secrets:default', T0, T0 + 7 * 24 * HOUR)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('a claim stands until its time on the bot clock, then the next one may be taken', async () => {
    const claims = createRedisReminderClaims(redis.a, { keyPrefix: uniquePrefix() });
    expect(await claims.claim('k', T0, T0 + HOUR)).toBe(true);
    expect(await claims.claim('k', T0 + HOUR - 1, T0 + 2 * HOUR)).toBe(false);
    expect(await claims.claim('k', T0 + HOUR, T0 + 2 * HOUR)).toBe(true);
    expect(await claims.claim('k', T0 + HOUR + 1, T0 + 3 * HOUR)).toBe(false);
  });

  it('a released claim may be taken again at once, but only the claim that was taken is released', async () => {
    const claims = createRedisReminderClaims(redis.a, { keyPrefix: uniquePrefix() });
    expect(await claims.claim('k', T0, T0 + HOUR)).toBe(true);
    await claims.release('k', T0 + 5); // not the one taken: nothing happens
    expect(await claims.claim('k', T0 + 1, T0 + HOUR)).toBe(false);
    await claims.release('k', T0 + HOUR);
    expect(await claims.claim('k', T0 + 2, T0 + HOUR + 2)).toBe(true);
  });

  it('claim keys expire in Redis once they no longer matter', async () => {
    const keyPrefix = uniquePrefix();
    const claims = createRedisReminderClaims(redis.a, { keyPrefix });
    await claims.claim('k', T0, T0 + HOUR);
    const ttl = await redis.a.pttl(`${keyPrefix}k`);
    expect(ttl).toBeGreaterThan(HOUR - 5_000);
    expect(ttl).toBeLessThanOrEqual(HOUR);
  });

  it('a compromised rotation keeps its flag through Redis; an ordinary one has none', async () => {
    const store = createRedisRequestStore(redis.a, { keyPrefix: uniquePrefix() });
    const leaked = rotationRequest('102', {
      operation: { action: 'rotate', workspace: 'default', secretId: '102', secretName: 'Web', platforms: ['web'], compromised: true },
    });
    const ordinary = rotationRequest('103');
    await store.create({ request: leaked, maxOpenPerRequester: 5, rotationOf: '102' });
    await store.create({ request: ordinary, maxOpenPerRequester: 5, rotationOf: '103' });
    expect((await store.get(leaked.id))?.operation).toEqual(leaked.operation);
    expect((await store.get(ordinary.id))?.operation).toEqual(ordinary.operation);
    expect('compromised' in ((await store.get(ordinary.id))?.operation ?? {})).toBe(false);
  });
});
