import { afterEach, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../emulators/slack-api';
import { startRedisProxy, type RedisProxy } from '../support/redis-proxy';
import { APPROVER, CHANNEL, REQUESTER, VAULT_BASE, buttonsOf, openRequest, startWorld, threadReply, type RunningBot, type World } from '../support/bot-harness';

// SPEC §8: a Slack outage, a rate limit or a restart leaves no hole in the thread and never holds
// up the execution or the material. The Slack double's fault switches play Slack's part.

const CHAT = ['chat.postMessage', 'chat.update'];

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // A read that fails (Redis reconnecting after a dropped answer) is just not yet.
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The thread as posted (each message once, in posting order), as short event words. */
function threadEvents(world: World, card: SlackMessage): string[] {
  const words: Array<[RegExp, string]> = [
    [/requested/, 'requested'],
    [/Approved by/, 'approved'],
    [/Executing/, 'executing'],
    [/Created Intercom secret/, 'created'],
    [/Succeeded/, 'succeeded'],
    [/Failed/, 'failed'],
    [/Recovered/, 'recovered'],
    [/Approved, and waiting/, 'waiting'],
    [/could not be posted here in time/, 'gap'],
  ];
  return world.slack.threadReplies(card.channel, card.ts).map((m) => words.find(([re]) => re.test(m.text ?? ''))?.[1] ?? `other: ${m.text}`);
}

function materialInVault(world: World, id: string): boolean {
  const secret = world.intercom.secrets().find((s) => s.name.includes(`[${id}]`));
  return secret !== undefined && world.vault.read(`${VAULT_BASE}/secrets/${secret.id}`)?.['secret'] === secret.material;
}

describe('Slack down, slow or rate limiting', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('Slack takes cards and replies but never answers: two creates approved meanwhile reach Vault within seconds, and both end final, each reply once, after Slack recovers', async () => {
    world = await startWorld();
    const w = world;
    const first = await openRequest(w, 'create web Black Holed');
    const second = await openRequest(w, 'create ios Next In Line');
    await threadReply(w, first.card, /requested/);
    await threadReply(w, second.card, /requested/);
    // Calls take effect but no answer comes back (the client gives up after its timeout).
    w.slack.hang({ methods: CHAT, apply: true });
    await w.bot.click('ivs_approve', first.id, APPROVER);
    await w.bot.click('ivs_approve', second.id, APPROVER);
    const started = Date.now();
    await until('both materials in Vault', () => materialInVault(w, first.id) && materialInVault(w, second.id), 15_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    await until(
      'both requests final',
      async () => (await w.bot.bot.requests.get(first.id))?.state === 'succeeded' && (await w.bot.bot.requests.get(second.id))?.state === 'succeeded',
      10_000,
    );
    expect(w.intercom.callsTo('create')).toHaveLength(2);
    // Slack stays silent past the client's timeout (3 s in tests, 10 s in production).
    await new Promise((r) => setTimeout(r, 5_000));
    expect(w.slack.calls.filter((c) => c.status === 0).length).toBeGreaterThan(0);

    w.slack.hang(null);
    for (const r of [first, second]) {
      await until(`${r.id}'s thread to end`, () => threadEvents(w, r.card).includes('succeeded'), 60_000);
      await until(`${r.id}'s card to be final`, () => buttonsOf(w, r.card).length === 0, 20_000);
      // The second may have waited for the first (one create at a time per workspace), and says so once.
      expect(threadEvents(w, r.card).filter((e) => e !== 'waiting')).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
      expect(threadEvents(w, r.card).filter((e) => e === 'waiting').length).toBeLessThanOrEqual(1);
    }
  }, 120_000);

  it('Slack answering 503 from the decisive approval on: the material reaches Vault during the outage; afterwards the thread holds approved, executing, created, succeeded once each, in order, and the card is final', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Outage Card');
    await threadReply(w, card, /requested/);
    w.slack.outage({ methods: CHAT });
    await w.bot.click('ivs_approve', id, APPROVER);
    await until('the material in Vault', () => materialInVault(w, id), 10_000);
    await until('the request to succeed', async () => (await w.bot.bot.requests.get(id))?.state === 'succeeded', 10_000);
    expect(w.slack.threadReplies(CHANNEL, card.ts).map((m) => m.text)).toHaveLength(1); // only "requested", from before
    await new Promise((r) => setTimeout(r, 5_000)); // the outage outlasts several retries
    expect(w.slack.calls.filter((c) => CHAT.includes(c.method) && c.status === 503).length).toBeGreaterThan(1);
    w.slack.outage(null);
    await until('the thread to catch up', () => threadEvents(w, card).includes('succeeded'), 30_000);
    await until('the card to be final', () => buttonsOf(w, card).length === 0, 10_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
  }, 90_000);

  it('eight 429s with Retry-After 3: the same outcome, and no call comes back before Retry-After', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Rate Limited');
    await threadReply(w, card, /requested/);
    for (let i = 0; i < 8; i++) w.slack.rateLimitNext('chat.postMessage', 3);
    const from = w.slack.calls.length;
    await w.bot.click('ivs_approve', id, APPROVER);
    await until('the material in Vault', () => materialInVault(w, id), 10_000);
    await until('the thread to catch up', () => threadEvents(w, card).includes('succeeded'), 60_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    const posts = w.slack.calls.slice(from).filter((c) => c.method === 'chat.postMessage');
    expect(posts.filter((c) => c.status === 429)).toHaveLength(8);
    for (let i = 1; i < posts.length; i++) {
      const prev = posts[i - 1];
      if (prev?.status === 429) expect(posts[i]!.at - prev.at).toBeGreaterThanOrEqual(3_000 - 50);
    }
    expect(buttonsOf(w, card)).toEqual([]);
  }, 90_000);

  it('Slack down when a request opens: the request stays open, the requester hears the card is delayed, the card is posted after recovery, and approval then works', async () => {
    world = await startWorld();
    const w = world;
    w.slack.outage({ methods: CHAT });
    const answer = await w.bot.command('create web Opened In Outage');
    const reply = JSON.parse(await answer.reply()) as { text: string };
    expect(reply.text).toMatch(/Request R-[0-9A-Z]{6} opened.*card is delayed/);
    const id = /R-[0-9A-Z]{6}/.exec(reply.text)?.[0] ?? '';
    expect((await w.bot.bot.requests.get(id))?.state).toBe('pending');
    w.slack.outage(null);
    const call = await w.slack.waitFor('chat.postMessage', (c) => c.ok && !c.args['thread_ts'] && String(c.args['text']).includes(id), 20_000);
    const posted = w.slack.message(CHANNEL, String((call.response as { ts?: string }).ts));
    if (!posted) throw new Error('no card');
    await w.bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, posted, /Succeeded/, 20_000);
    expect(threadEvents(w, posted)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
  }, 60_000);

  it('a card Slack refuses for good (not_in_channel) still cancels the request at once, clearly', async () => {
    world = await startWorld();
    const w = world;
    w.slack.setChannel({ id: CHANNEL, isMember: false });
    const answer = await w.bot.command('create web Nowhere To Post');
    const reply = JSON.parse(await answer.reply()) as { text: string };
    expect(reply.text).toMatch(/Could not post the request card in this channel \(Slack said `not_in_channel`\), so R-[0-9A-Z]{6} was cancelled/);
    const id = /R-[0-9A-Z]{6}/.exec(reply.text)?.[0] ?? '';
    expect((await w.bot.bot.requests.get(id))?.state).toBe('cancelled');
  }, 30_000);

  it('the delivering replica killed with undelivered items: another replica delivers them, each once', async () => {
    world = await startWorld();
    const w = world;
    const other = await w.startReplica();
    const { id, card } = await openRequest(w, 'create web Deliverer Dies');
    await threadReply(w, card, /requested/);
    // Nothing answers, nothing is posted: the first replica is stuck delivering when it dies.
    w.slack.hang({ methods: CHAT });
    await w.bot.click('ivs_approve', id, APPROVER);
    await until('the request to succeed', async () => (await other.bot.requests.get(id))?.state === 'succeeded', 15_000);
    const outboxKey = `${w.env['REDIS_KEY_PREFIX']}outbox:${CHANNEL}`;
    expect(await other.bot.redis.llen(outboxKey)).toBeGreaterThan(0);
    await w.bot.kill();
    w.slack.hang(null);
    await until('the thread to catch up', () => threadEvents(w, card).includes('succeeded'), 30_000);
    await until('the card to be final', () => buttonsOf(w, card).length === 0, 10_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    expect(await other.bot.redis.llen(outboxKey)).toBe(0);
  }, 60_000);
});

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
