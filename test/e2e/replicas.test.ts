import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { APPROVER, REQUESTER, buttonsOf, cardText, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';

/** Waits for `n` response_url posts to any of `ids` (a successful approval gets none: the card says it). */
async function responsesTo(w: World, ids: readonly string[], n: number): Promise<string[]> {
  const seen = new Set<number>();
  const texts: string[] = [];
  while (texts.length < n) {
    const post = await w.slack.waitForResponse((p) => ids.includes(p.id) && !seen.has(p.seq));
    seen.add(post.seq);
    texts.push(JSON.stringify(post.body));
  }
  return texts;
}

const TEN_APPROVERS = Array.from({ length: 10 }, (_, i) => `U${String(500 + i)}`);

describe('several replicas against one Redis', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('a create approved while another runs in the workspace says it waits, once, and runs as soon as the slot is free (no sweep needed)', async () => {
    // Sweeps only at start: the waiting request must be started by the replica that frees the slot.
    world = await startWorld({ bot: { sweepIntervalMs: 3_600_000, intercomTimeoutMs: 30_000 } });
    const w = world;
    const other = await w.startReplica();
    const first = await openRequest(w, 'create web First In Line');
    const second = await openRequest(w, 'create ios Second In Line');
    // The first create is applied at Intercom but answered only after a while: it holds the slot
    // (3 s: far longer than the one click the second approval takes, even on a loaded machine).
    w.intercom.failNext('create', { kind: 'apply-then-stall', ms: 3_000 });
    await w.bot.click('ivs_approve', first.id, APPROVER);
    await threadReply(w, first.card, /Executing/);

    await other.click('ivs_approve', second.id, APPROVER);
    const waiting = await threadReply(w, second.card, /waiting/);
    expect(waiting).toContain(first.id);
    await threadReply(w, first.card, /Succeeded/);
    await threadReply(w, second.card, /Succeeded/);

    const secondThread = w.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.args['thread_ts'] === second.card.ts)
      .map((c) => String(c.args['text']));
    expect(secondThread.filter((t) => /waiting/.test(t))).toHaveLength(1);
    expect(secondThread.some((t) => /Recovered/.test(t))).toBe(false);
    expect(w.intercom.callsTo('create')).toHaveLength(2);
  });

  it('an approved create whose expiry passes while it waits for the workspace slot starts nothing when the slot frees', async () => {
    world = await startWorld({ bot: { sweepIntervalMs: 3_600_000, intercomTimeoutMs: 30_000 } });
    const w = world;
    const first = await openRequest(w, 'create web Holds The Slot');
    const second = await openRequest(w, 'create ios Waits Too Long');
    w.intercom.failNext('create', { kind: 'apply-then-stall', ms: 3_000 });
    await w.bot.click('ivs_approve', first.id, APPROVER);
    await threadReply(w, first.card, /Executing/);
    await w.bot.click('ivs_approve', second.id, APPROVER);
    await threadReply(w, second.card, /waiting/);

    // Days pass for the second request while it waits (its expiry moved into the past, the clocks kept).
    const admin = connectRedis(w.redis.url);
    try {
      await admin.hset(`${w.env['REDIS_KEY_PREFIX'] ?? ''}req:${second.id}`, 'expires_at', String(Date.now() - 2 * 86_400_000));
    } finally {
      admin.disconnect();
    }
    await threadReply(w, first.card, /Succeeded/);
    const failed = await threadReply(w, second.card, /Failed/);
    expect(failed).toMatch(/expired .* before it could start; nothing was changed/);
    expect((await w.bot.bot.requests.get(second.id))?.state).toBe('failed');
    expect(w.intercom.callsTo('create')).toHaveLength(1);
  });

  it('ten approvers clicking at once on two replicas produce exactly one execution', async () => {
    world = await startWorld({ env: { IVS_APPROVERS: [REQUESTER, ...TEN_APPROVERS].join(','), IVS_APPROVALS_REQUIRED: '3' } });
    const w = world;
    const second = await w.startReplica();
    const { id, card } = await openRequest(w, 'create web Stampede');

    const answers = await Promise.all(TEN_APPROVERS.map((user, i) => (i % 2 === 0 ? w.bot : second).click('ivs_approve', id, user)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await threadReply(w, card, /Succeeded/);

    // Exactly three approvals counted; the other seven were told the request was no longer pending.
    const refusals = await responsesTo(
      w,
      answers.map((a) => a.responseUrlId),
      7,
    );
    expect(refusals.every((r) => /cannot be approved now/.test(r))).toBe(true);
    expect(w.slack.callsTo('chat.postMessage').filter((c) => c.args['thread_ts'] === card.ts && /Approved by/.test(String(c.args['text'])))).toHaveLength(3);
    expect(w.intercom.callsTo('create')).toHaveLength(1);
    expect(w.slack.callsTo('chat.postMessage').filter((c) => c.args['thread_ts'] === card.ts && /Executing/.test(String(c.args['text'])))).toHaveLength(1);
    expect(cardText(w, card)).toContain('3/3');
  });

  it('the same click delivered twice counts once', async () => {
    world = await startWorld({ env: { IVS_APPROVALS_REQUIRED: '2' } });
    const { id, card } = await openRequest(world, 'create web Twice');
    const [a, b] = await Promise.all([world.bot.click('ivs_approve', id, 'U222'), world.bot.click('ivs_approve', id, 'U222')]);
    const [refusal] = await responsesTo(world, [a.responseUrlId, b.responseUrlId], 1);
    expect(refusal).toMatch(/already approved/);
    await threadReply(world, card, /Approved by <@U222> \(1\/2\)/);
    expect(cardText(world, card)).toContain('1/2');
    expect(world.intercom.callsTo('create')).toHaveLength(0);
  });

  it('a pending request expires after the TTL: card without buttons, a thread reply, and no execution', async () => {
    world = await startWorld({ env: { IVS_REQUEST_TTL: '15m' } });
    const { id, card } = await openRequest(world, 'create web Short Lived');
    world.clock.advance(15 * 60_000 + 1);
    // The sweeper runs on a timer on every replica; run one pass now rather than wait for it.
    await world.bot.bot.sweep();
    await threadReply(world, card, /Expired/);
    expect(buttonsOf(world, card)).toEqual([]);
    expect(await (await world.bot.click('ivs_approve', id, 'U222')).reply()).toMatch(/expired/);
    expect(world.intercom.callsTo('create')).toHaveLength(0);
  });

  it('a due request that cannot be read does not keep the others from expiring', async () => {
    world = await startWorld({ env: { IVS_REQUEST_TTL: '15m' } });
    const { card } = await openRequest(world, 'create web Expires Anyway');
    // A pending entry whose hash is garbage (a half-restored backup, a newer version's format).
    const prefix = world.env['REDIS_KEY_PREFIX'] ?? '';
    const admin = connectRedis(world.redis.url);
    try {
      await admin.hset(`${prefix}req:R-BROKEN`, { state: 'pending', expires_at: '1', approvals: '{not json' });
      await admin.zadd(`${prefix}pending`, 1, 'R-BROKEN');
    } finally {
      admin.disconnect();
    }
    world.clock.advance(15 * 60_000 + 1);
    await world.bot.bot.sweep();
    await threadReply(world, card, /Expired/);
    expect(world.logs.text()).toMatch(/could not expire a due request/);
  });

  it('on start, a replica re-renders open cards from Redis so no stale buttons survive', async () => {
    world = await startWorld();
    const { card } = await openRequest(world, 'create web Rerendered');
    const updatesBefore = world.slack.callsTo('chat.update').filter((c) => c.args['ts'] === card.ts).length;
    await world.bot.stop();
    const restarted = await world.startReplica();
    expect(restarted.url).not.toBe('');
    await world.slack.waitFor(
      'chat.update',
      (c) => c.args['ts'] === card.ts && world!.slack.callsTo('chat.update').filter((u) => u.args['ts'] === card.ts).length > updatesBefore,
    );
    expect(buttonsOf(world, card)).toEqual(['ivs_approve', 'ivs_reject']);
  });

  it('when Redis is down, a command gets a clear answer and nothing is half-written', async () => {
    world = await startWorld();
    await world.redis.stop();
    const answer = await world.bot.command('create web During Outage');
    expect(answer.status).toBe(200);
    expect(await answer.reply()).toMatch(/Redis\) is unavailable right now, so nothing was changed/);
    expect(world.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(world.intercom.callsTo('create')).toHaveLength(0);
  });

  it('when Redis is down, a click gets a clear answer', async () => {
    world = await startWorld();
    const { id } = await openRequest(world, 'create web Click Outage');
    await world.redis.stop();
    const answer = await world.bot.click('ivs_approve', id, 'U222');
    expect(await answer.reply()).toMatch(/unavailable right now/);
    expect(world.intercom.callsTo('create')).toHaveLength(0);
  });
});
