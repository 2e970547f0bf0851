import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { APPROVER, VAULT_BASE, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';

/*
 * A Redis failover (asynchronous replication) or an AOF `everysec` crash can lose the last writes:
 * the claim and the `posting` breadcrumb are gone, only the approval is left. The replica that takes
 * over must look at Intercom before it POSTs, and must not call the secret an orphan while the
 * executor it fenced off may still be storing the material.
 */
describe('a takeover after Redis lost the claim and the breadcrumbs', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  /** What a promoted replica that never got the claim or the breadcrumbs holds: just the approval. */
  async function forgetClaimAndBreadcrumbs(w: World, id: string): Promise<void> {
    const prefix = w.env['REDIS_KEY_PREFIX'] ?? '';
    const admin = connectRedis(w.redis.url);
    try {
      const key = `${prefix}req:${id}`;
      const crumbs = (await admin.hkeys(key)).filter((f) => f.startsWith('progress.'));
      if (crumbs.length) await admin.hdel(key, ...crumbs);
      await admin.hset(key, { state: 'approved', lease_owner: '', lease_until: String(w.clock.now() - 1) });
      await admin.del(`${prefix}inflight:default`);
      await admin.zadd(`${prefix}leases`, w.clock.now() - 1, id);
    } finally {
      admin.disconnect();
    }
  }

  it('lists Intercom before POSTing again, waits for the fenced-off executor to store the material, and finishes with one secret', async () => {
    world = await startWorld({ bot: { intercomTimeoutMs: 30_000, holderWindowMs: 6_000 } });
    const w = world;
    const other = await w.startReplica({ leaseMs: 2_000, sweepIntervalMs: 300 });
    const { id, card } = await openRequest(w, 'create web Failover Victim');

    // The first replica claims, writes phase=posting and POSTs; Intercom applies it and answers late.
    w.intercom.failNext('create', { kind: 'apply-then-stall', ms: 3_000 });
    await w.bot.click('ivs_approve', id, APPROVER);
    await w.intercom.waitFor('create', (c) => JSON.stringify(c.body).includes(id));
    await forgetClaimAndBreadcrumbs(w, id);
    await other.bot.sweep();

    await threadReply(w, card, /Succeeded/, 40_000);
    const secrets = w.intercom.secrets().filter((s) => s.name === `Failover Victim [${id}]`);
    expect(secrets).toHaveLength(1);
    expect(w.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    expect(w.vault.read(`${VAULT_BASE}/secrets/${secrets[0]?.id}`)?.['secret']).toBe(secrets[0]?.material);
    const thread = w.slack.threadReplies(card.channel, card.ts).map((m) => m.text ?? '');
    expect(thread.some((t) => /ORPHAN|orphan/.test(t))).toBe(false);
    expect(thread.some((t) => /may still be storing it/.test(t))).toBe(true);
    expect((await w.bot.bot.requests.get(id))?.state).toBe('succeeded');
  }, 60_000);

  it('finds nothing at Intercom: once the fenced-off executor can no longer be sending, the approved create is sent, once', async () => {
    world = await startWorld({ bot: { holderWindowMs: 2_000 } });
    const w = world;
    await w.bot.stop();
    const bot = await w.startReplica({ leaseMs: 1_500, sweepIntervalMs: 300 });
    const { id, card } = await openRequest(w, 'create web Never Sent', undefined, bot);
    // Approved, then the replica that approved it died before it claimed or sent anything.
    const prefix = w.env['REDIS_KEY_PREFIX'] ?? '';
    const admin = connectRedis(w.redis.url);
    try {
      await admin.hset(`${prefix}req:${id}`, { state: 'approved', approvals: APPROVER, lease_owner: '', lease_until: String(w.clock.now() - 1) });
      await admin.zrem(`${prefix}pending`, id);
      await admin.zadd(`${prefix}leases`, w.clock.now() - 1, id);
    } finally {
      admin.disconnect();
    }
    await threadReply(w, card, /may still be sending it/, 20_000);
    expect(w.intercom.callsTo('create')).toHaveLength(0);
    await threadReply(w, card, /Succeeded/, 30_000);
    expect(w.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    expect(w.intercom.secrets().filter((s) => s.name === `Never Sent [${id}]`)).toHaveLength(1);
  }, 60_000);
});
