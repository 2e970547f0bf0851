import { describe, expect, it } from 'vitest';
import { createRedisOutboxQueue } from '../../src/redis/outbox-queue';
import { createRedisReminderClaims } from '../../src/redis/reminder-claims';
import { T0, uniquePrefix, useTwoConnections } from './fixtures';

const redis = useTwoConnections();
const LEASE = 10_000;

/** The same outbox seen by two replicas (two connections). */
function queues() {
  const keyPrefix = uniquePrefix();
  return { a: createRedisOutboxQueue(redis.a, { keyPrefix }), b: createRedisOutboxQueue(redis.b, { keyPrefix }) };
}

const reply = (requestId: string, text: string) => ({ requestId, kind: 'reply' as const, text });

describe('the Slack outbox in Redis', () => {
  it('keeps items in the order recorded, with increasing sequence numbers', async () => {
    const { a } = queues();
    await a.push('C1', [reply('R-1', 'one'), reply('R-1', 'two')], T0);
    await a.push('C1', [reply('R-2', 'three')], T0 + 1);
    const items = await a.peek('C1', 10);
    expect(items.map((i) => [i.requestId, i.text, i.at])).toEqual([
      ['R-1', 'one', T0],
      ['R-1', 'two', T0],
      ['R-2', 'three', T0 + 1],
    ]);
    expect(items.map((i) => Number(i.seq))).toEqual([...items.map((i) => Number(i.seq))].sort((x, y) => x - y));
  });

  it('a rotation reminder is recorded only by the one of ten replicas that wins its claim, once per interval, by the same rule and key as ReminderClaims', async () => {
    const keyPrefix = uniquePrefix();
    const [a, b] = [createRedisOutboxQueue(redis.a, { keyPrefix }), createRedisOutboxQueue(redis.b, { keyPrefix })];
    const claims = createRedisReminderClaims(redis.a, { keyPrefix });
    const reminder = { requestId: '', kind: 'reminder' as const, text: '{"text":"due","blocks":[]}' };
    const claim = { key: 'remind:secrets:default', now: T0, until: T0 + 1_000 };
    const won = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).pushIfClaimed(claim, 'C1', [reminder])));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await a.peek('C1', 10)).map((i) => [i.kind, i.text, i.at])).toEqual([['reminder', reminder.text, T0]]);
    // Held until `until`, for ReminderClaims too; at `until` it is free again.
    expect(await a.pushIfClaimed({ ...claim, now: T0 + 999, until: T0 + 2_000 }, 'C1', [reminder])).toBe(false);
    expect(await claims.claim(claim.key, T0 + 999, T0 + 2_000)).toBe(false);
    expect(await b.pushIfClaimed({ ...claim, now: T0 + 1_000, until: T0 + 2_000 }, 'C1', [reminder])).toBe(true);
    expect(await a.peek('C1', 10)).toHaveLength(2);
    // And a claim ReminderClaims took holds the outbox's off.
    expect(await claims.claim(claim.key, T0 + 2_000, T0 + 3_000)).toBe(true);
    expect(await a.pushIfClaimed({ ...claim, now: T0 + 2_500, until: T0 + 3_500 }, 'C1', [reminder])).toBe(false);
    expect(await a.peek('C1', 10)).toHaveLength(2);
  });

  it('twenty replicas claiming a channel at once: exactly one gets it', async () => {
    const { a, b } = queues();
    await a.push('C1', [reply('R-1', 'x')], T0);
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(`replica-${i}`, T0 + 1, LEASE, { max: 5 })));
    expect(claims.filter((c) => c.length === 1)).toHaveLength(1);
  });

  it('a holder whose lease ran out and was taken over can no longer remove items; the new holder can', async () => {
    const { a, b } = queues();
    await a.push('C1', [reply('R-1', 'x')], T0);
    expect(await a.claim('old', T0, LEASE, { max: 5 })).toHaveLength(1);
    expect(await b.claim('new', T0 + 1, LEASE, { max: 5 })).toEqual([]); // still held
    const taken = await b.claim('new', T0 + LEASE + 1, LEASE, { max: 5 });
    // The old holder may have sent the head: the new one is told so it looks first.
    const items = await a.peek('C1', 10);
    expect(taken).toEqual([{ channel: 'C1', attempting: items[0]?.seq, items }]);
    expect(await a.settle('C1', 'old', T0 + LEASE + 2, items)).toBe(-1);
    expect(await b.settle('C1', 'new', T0 + LEASE + 2, items, { releaseIfEmpty: true })).toBe(0);
    expect(await b.peek('C1', 10)).toEqual([]);
    // Let go in the same step: nobody holds it, and it is not due.
    expect(await b.release('C1', 'new', T0 + LEASE + 3, null)).toBe(-1);
    expect(await b.backlog()).toEqual({ items: 0, oldestAt: null });
  });

  it('a channel let go after a failure is due again at the time given, and only then', async () => {
    const { a, b } = queues();
    await a.push('C1', [reply('R-1', 'x')], T0);
    await a.claim('r1', T0, LEASE, { max: 5 });
    expect(await a.release('C1', 'r1', T0 + 3_000, null)).toBe(1);
    expect(await b.claim('r2', T0 + 2_999, LEASE, { max: 5 })).toEqual([]);
    expect(await b.claim('r2', T0 + 3_000, LEASE, { max: 5 })).toEqual([{ channel: 'C1', attempting: null, items: await b.peek('C1', 1) }]);
    expect(await b.backlog()).toEqual({ items: 1, oldestAt: T0 });
  });

  it('recording a card post writes its ts onto the request in the step that removes the item', async () => {
    const { a } = queues();
    const keyPrefix = uniquePrefix();
    const q = createRedisOutboxQueue(redis.a, { keyPrefix });
    await redis.a.hset(`${keyPrefix}req:R-1`, 'state', 'pending');
    await q.push('C1', [{ requestId: 'R-1', kind: 'card', text: '' }], T0);
    await q.claim('r1', T0, LEASE, { max: 5 });
    const items = await q.peek('C1', 10);
    expect(await q.settle('C1', 'r1', T0 + LEASE, items, { card: { requestId: 'R-1', channel: 'C1', ts: '1700000000.000101' } })).toBe(0);
    expect(await q.cardState('R-1')).toEqual({ ts: '1700000000.000101' });
    expect(await a.cardState('R-NONE')).toEqual({});
  });
});
