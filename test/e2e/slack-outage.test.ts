import { afterEach, describe, expect, it } from 'vitest';
import { APPROVER, CHANNEL, buttonsOf, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';
import { CHAT, until, threadEvents, materialInVault } from '../support/slack-thread';

// SPEC §8: a Slack outage, a rate limit or a restart leaves no hole in the thread and never holds
// up the execution or the material. The Slack double's fault switches play Slack's part.

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

  it('eight 429s with Retry-After 1: the same outcome, and no call comes back before Retry-After', async () => {
    world = await startWorld();
    const w = world;
    const { id, card } = await openRequest(w, 'create web Rate Limited');
    await threadReply(w, card, /requested/);
    for (let i = 0; i < 8; i++) w.slack.rateLimitNext('chat.postMessage', 1);
    const from = w.slack.calls.length;
    await w.bot.click('ivs_approve', id, APPROVER);
    await until('the material in Vault', () => materialInVault(w, id), 10_000);
    await until('the thread to catch up', () => threadEvents(w, card).includes('succeeded'), 60_000);
    expect(threadEvents(w, card)).toEqual(['requested', 'approved', 'executing', 'created', 'succeeded']);
    const posts = w.slack.calls.slice(from).filter((c) => c.method === 'chat.postMessage');
    expect(posts.filter((c) => c.status === 429)).toHaveLength(8);
    for (let i = 1; i < posts.length; i++) {
      const prev = posts[i - 1];
      if (prev?.status === 429) expect(posts[i]!.at - prev.at).toBeGreaterThanOrEqual(1_000 - 50);
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
