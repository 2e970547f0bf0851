import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TAKEOVERS } from '../../src/core/executor';
import { connectRedis } from '../../src/redis/connection';
import { APPROVER, VAULT_BASE, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';

describe('a create interrupted between Intercom and Vault', () => {
  let world: World;
  beforeAll(async () => {
    // A short lease and frequent sweeps, so a takeover (if one is needed) happens within the test.
    world = await startWorld({ bot: { leaseMs: 1_500, sweepIntervalMs: 250 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('Redis hangs: the material Intercom returned still goes straight into Vault, and the create ends as succeeded once Redis is back', async () => {
    const { id, card } = await openRequest(world, 'create web Outage Midway');
    // Intercom applies the create and answers a moment later; meanwhile Redis stops answering.
    world.intercom.failNext('create', { kind: 'apply-then-stall', ms: 300 });
    await world.bot.click('ivs_approve', id, APPROVER);
    await world.intercom.waitFor('create', (c) => JSON.stringify(c.body).includes(id));
    await world.redis.pause();
    try {
      const created = () => world.intercom.secrets().find((s) => s.name === `Outage Midway [${id}]`);
      const write = await world.vault.waitFor((c) => c.method !== 'GET' && c.path.includes('/secrets/') && c.status === 200, 10_000);
      expect(write.path).toContain(`/secrets/${created()?.id}`);
    } finally {
      await world.redis.resume();
    }

    await threadReply(world, card, /Succeeded/, 15_000);
    const secret = world.intercom.secrets().find((s) => s.name === `Outage Midway [${id}]`);
    expect(world.vault.read(`${VAULT_BASE}/secrets/${secret?.id}`)?.['secret']).toBe(secret?.material);
    expect(world.vault.read(`${VAULT_BASE}/current/web`)?.['intercom_secret_id']).toBe(secret?.id);
    expect(world.intercom.callsTo('create')).toHaveLength(1);
    expect(world.intercom.callsTo('delete')).toHaveLength(0);
    expect(world.slack.threadReplies(card.channel, card.ts).some((m) => /ORPHAN/.test(m.text ?? ''))).toBe(false);
  }, 30_000);

  it('the lease is taken over: the replica still stores the material it holds, stops, and the takeover finishes the create', async () => {
    const { id, card } = await openRequest(world, 'create ios Lease Lost Midway');
    const creates = world.intercom.callsTo('create').length;
    world.intercom.failNext('create', { kind: 'apply-then-stall', ms: 300 });
    await world.bot.click('ivs_approve', id, APPROVER);
    await world.intercom.waitFor('create', (c) => JSON.stringify(c.body).includes(id));
    // While Intercom's answer is on its way, another (made-up) replica takes the lease over.
    const admin = connectRedis(world.redis.url);
    try {
      await admin.hset(`${world.env['REDIS_KEY_PREFIX']}req:${id}`, 'lease_owner', 'replica-that-took-over');
    } finally {
      admin.disconnect();
    }

    // That replica never acts; once its lease runs out, a sweep recovers the request.
    await threadReply(world, card, /Recovered/, 15_000);
    await threadReply(world, card, /Succeeded/, 15_000);
    const secret = world.intercom.secrets().find((s) => s.name === `Lease Lost Midway [${id}]`);
    expect(world.vault.read(`${VAULT_BASE}/secrets/${secret?.id}`)?.['secret']).toBe(secret?.material);
    expect(world.intercom.callsTo('create')).toHaveLength(creates + 1);
    const thread = world.slack.threadReplies(card.channel, card.ts).map((m) => m.text ?? '');
    expect(thread.some((t) => /ORPHAN/.test(t))).toBe(false);
    // Told twice: by the replica that stored the material before stopping, and by the takeover.
    expect(thread.filter((t) => t.includes(`Created Intercom secret \`${secret?.id}\``))).toHaveLength(2);
  }, 30_000);

  it('an ambiguous create while Intercom cannot be listed is not decided on a guess: recovery looks again and finds the orphan', async () => {
    const { id, card } = await openRequest(world, 'create android Unlistable');
    world.intercom.failNext('create', { kind: 'apply-then-drop' });
    // Both reconciliation listings fail (3 attempts each).
    for (let i = 0; i < 6; i++) world.intercom.failNext('list', { status: 503 });
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Not finished yet/, 15_000)).toMatch(/could not be listed/);
    const orphan = await threadReply(world, card, /ORPHAN/, 15_000);
    expect(orphan).toMatch(/Delete request `R-/);
    expect(world.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
  }, 30_000);

  it('recovery that keeps failing gives up after a bounded number of takeovers and says what to check', async () => {
    const { id, card } = await openRequest(world, 'create web Never Listable');
    world.intercom.failNext('create', { kind: 'apply-then-drop' });
    for (let i = 0; i < 200; i++) world.intercom.failNext('list', { status: 503 });
    try {
      await world.bot.click('ivs_approve', id, APPROVER);
      const gaveUp = await threadReply(world, card, /gave up/, 25_000);
      expect(gaveUp).toMatch(new RegExp(`gave up after ${MAX_TAKEOVERS} takeovers`));
      expect(gaveUp).toContain(`[${id}]`);
      const thread = world.slack.threadReplies(card.channel, card.ts).map((m) => m.text ?? '');
      expect(thread.filter((t) => /Recovered/.test(t))).toHaveLength(MAX_TAKEOVERS + 1);
      expect(world.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    } finally {
      world.intercom.reset();
    }
  }, 40_000);
});
