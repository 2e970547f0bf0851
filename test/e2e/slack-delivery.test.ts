import { afterEach, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../emulators/slack-api';
import { startRedisProxy, type RedisProxy } from '../support/redis-proxy';
import { APPROVER, CHANNEL, REQUESTER, buttonsOf, openRequest, startWorld, threadReply, type RunningBot, type World } from '../support/bot-harness';
import { CHAT, until, threadEvents, materialInVault } from '../support/slack-thread';

// SPEC §8, the delivery in detail (slack-outage.test.ts has the outages): answers lost after a post,
// a lost answer from Redis, a long Retry-After, pacing and coalescing, IVS_DELIVERY_MAX_AGE. The
// Slack double's fault switches play Slack's part.

describe('a Slack answer lost after the post was made', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('a reply whose answer was lost is looked for in the thread (by its metadata) and not posted again', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Lost Answer Reply');
    await threadReply(w, card, /requested/);
    w.slack.dropAnswerNext('chat.postMessage');
    await w.bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, card, /Succeeded/, 20_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    expect(w.slack.callsTo('conversations.replies').filter((c) => c.ok).length).toBeGreaterThan(0);
  }, 40_000);

  it('a reply whose answer was lost, and whose look in the thread is rate limited, is looked for again, never posted twice', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Lost Then Limited');
    await threadReply(w, card, /requested/);
    w.slack.dropAnswerNext('chat.postMessage');
    // The look says nothing about the reply (a 429 changes nothing): the reply may still be posted.
    w.slack.rateLimitNext('conversations.replies', 1);
    await w.bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, card, /Succeeded/, 20_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    const looks = w.slack.callsTo('conversations.replies');
    expect(looks.filter((c) => c.status === 429)).toHaveLength(1);
    expect(looks.filter((c) => c.ok).length).toBeGreaterThan(0);
  }, 40_000);

  it('a card post whose answer was lost is found in the channel, recorded, and its thread follows it (no second card)', async () => {
    world = await startWorld();
    const w = world;
    w.slack.dropAnswerNext('chat.postMessage');
    const answer = await w.bot.command('create web Lost Answer Card');
    const reply = JSON.parse(await answer.reply()) as { text: string };
    const id = /R-[0-9A-Z]{6}/.exec(reply.text)?.[0] ?? '';
    expect(reply.text).toMatch(/opened/);
    await until('the card to be recorded', async () => (await w.bot.bot.requests.get(id))?.card !== undefined, 15_000);
    const cards = w.slack.messages(CHANNEL).filter((m) => !m.threadTs && (m.text ?? '').includes(id));
    expect(cards).toHaveLength(1);
    const card = cards[0] as SlackMessage;
    expect((await w.bot.bot.requests.get(id))?.card?.ts).toBe(card.ts);
    await w.bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, card, /Succeeded/, 20_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    expect(buttonsOf(w, card)).toEqual([]);
  }, 40_000);

  it('without permission to read the thread (missing_scope), the reply is posted again: a rare duplicate rather than a hole', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web No History Scope');
    await threadReply(w, card, /requested/);
    w.slack.dropAnswerNext('chat.postMessage');
    w.slack.failNext('conversations.replies', 'missing_scope');
    await w.bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, card, /Succeeded/, 20_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'approved', 'executing', 'created', 'succeeded']);
  }, 40_000);
});

describe('Redis losing the answer to recording where the card was posted', () => {
  let world: World | undefined;
  let proxy: RedisProxy | undefined;
  afterEach(async () => {
    await world?.close();
    await proxy?.close();
    world = undefined;
    proxy = undefined;
  });

  it('the requester is told the request opened, the card is found and recorded, and it is approved, executed and brought up to date in its thread', async () => {
    world = await startWorld();
    const w = world;
    proxy = await startRedisProxy(w.redis.port);
    await w.bot.stop();
    const bot = await w.startReplica({}, { REDIS_URL: proxy.url });
    // The card's ts is first sent to Redis by the step that records the delivered card.
    const lost = proxy.loseAnswerTo('1700000000.');
    const answer = await bot.command('create web Blip Between Writes');
    const reply = JSON.parse(await answer.reply()) as { text: string };
    await lost;
    expect(reply.text).toMatch(/Request R-[0-9A-Z]{6} opened/);
    const id = /R-[0-9A-Z]{6}/.exec(reply.text)?.[0] ?? '';
    await until('the card to be recorded', async () => (await bot.bot.requests.get(id))?.card !== undefined, 15_000);
    const cards = w.slack.messages(CHANNEL).filter((m) => !m.threadTs && (m.text ?? '').includes(id));
    expect(cards).toHaveLength(1);
    const card = cards[0] as SlackMessage;
    await bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, card, /Succeeded/, 20_000);
    await until('the card to be final', () => buttonsOf(w, card).length === 0, 10_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    expect(w.intercom.callsTo('create')).toHaveLength(1);
  }, 60_000);
});

describe('a long Retry-After on a thread reply', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('holds up neither the approval nor the execution (no takeover, no "recovered"): the reply follows when Slack allows', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Slow Slack');
    await threadReply(w, card, /requested/);
    w.slack.rateLimitNext('chat.postMessage', 8);
    const clicked = Date.now();
    await w.bot.click('ivs_approve', id, APPROVER);
    await until('the material in Vault', () => materialInVault(w, id), 5_000);
    expect(Date.now() - clicked).toBeLessThan(5_000);
    await until('the request to succeed', async () => (await w.bot.bot.requests.get(id))?.state === 'succeeded', 5_000);
    expect((await w.bot.bot.requests.get(id))?.progress['takeovers']).toBeUndefined();
    await threadReply(w, card, /Succeeded/, 30_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
  }, 60_000);
});

describe('pacing and coalescing', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('fifty events in one thread within a second arrive in order, paced, without a single 429 from Slack', async () => {
    world = await startWorld();
    const w = world;
    // Slack's limit scaled up fivefold (5 per second, bursts of 5) so the test takes seconds, not a minute;
    // the replica paces at 4 per second, as it paces at 1 per second in production.
    w.slack.channelRateLimit({ perSecond: 5, burst: 5 });
    await w.bot.stop();
    const bot: RunningBot = await w.startReplica({ delivery: { pacing: { perSecond: 4, burst: 4 } } });
    const { id, card } = await openRequest(w, 'create web Chatty Thread', REQUESTER, bot);
    await threadReply(w, card, /requested/);
    const request = await bot.bot.requests.get(id);
    if (!request) throw new Error('no request');
    const from = w.slack.calls.length;
    const started = Date.now();
    for (let i = 1; i <= 50; i++) {
      await bot.bot.outbox.record(request, [{ kind: 'reply', event: { requestId: id, type: 'retrying', at: Date.now(), detail: { why: `event ${i}` } } }]);
    }
    // Within a second on an idle machine; a loaded one gets some slack.
    expect(Date.now() - started).toBeLessThan(3_000);
    await until('all fifty replies', () => w.slack.threadReplies(CHANNEL, card.ts).length === 51, 40_000);
    const texts = w.slack
      .threadReplies(CHANNEL, card.ts)
      .slice(1)
      .map((m) => /event (\d+)/.exec(m.text ?? '')?.[1]);
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    const posts = w.slack.calls.slice(from).filter((c) => c.method === 'chat.postMessage');
    expect(posts.filter((c) => c.status === 429)).toHaveLength(0);
    // 50 posts at 4/s after a burst of 4: at least about 11 s.
    expect((posts[posts.length - 1]?.at ?? 0) - (posts[0]?.at ?? 0)).toBeGreaterThan(10_000);
  }, 60_000);

  it('card updates recorded while Slack is down coalesce into one update with the newest state', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Coalesced Card');
    w.slack.outage({ methods: CHAT });
    const request = await w.bot.bot.requests.get(id);
    if (!request) throw new Error('no request');
    for (let i = 0; i < 5; i++) await w.bot.bot.outbox.record(request, [{ kind: 'card' }]);
    await w.bot.command(`cancel ${id}`);
    await until('the cancel to be recorded', async () => (await w.bot.bot.requests.get(id))?.state === 'cancelled', 5_000);
    const from = w.slack.calls.length;
    w.slack.outage(null);
    await threadReply(w, card, /Cancelled/, 20_000);
    const updates = w.slack.calls.slice(from).filter((c) => c.method === 'chat.update' && c.ok);
    expect(updates).toHaveLength(1);
    expect(String(updates[0]?.args['text'])).toMatch(/cancelled/i);
    expect(buttonsOf(w, card)).toEqual([]);
  }, 40_000);
});

describe('IVS_DELIVERY_MAX_AGE', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('replies older than it are given up, counted and logged, and the thread says some events may be missing and where to read them', async () => {
    world = await startWorld({ env: { IVS_DELIVERY_MAX_AGE: '1m' } });
    const w = world;
    const { id, card } = await openRequest(w, 'create web Too Old To Tell');
    await threadReply(w, card, /requested/);
    w.slack.outage({ methods: CHAT });
    await w.bot.click('ivs_approve', id, APPROVER);
    await until('the request to succeed', async () => (await w.bot.bot.requests.get(id))?.state === 'succeeded', 10_000);
    w.clock.advance(2 * 60_000);
    w.slack.outage(null);
    const note = await threadReply(w, card, /could not be posted here in time/, 20_000);
    expect(note).toContain(`/ivs audit ${id}`);
    expect(threadEvents(w, card)).toEqual(['requested', 'gap']);
    // The card is never given up: it shows the outcome.
    await until('the card to be final', () => buttonsOf(w, card).length === 0, 10_000);
    const metrics = await w.bot.bot.metrics.registry.getSingleMetricAsString('ivs_delivery_give_ups_total');
    expect(metrics).toMatch(/ivs_delivery_give_ups_total\{reason="max_age"\} 4/);
    expect(w.logs.text()).toMatch(/older than IVS_DELIVERY_MAX_AGE were given up/);
  }, 40_000);
});
