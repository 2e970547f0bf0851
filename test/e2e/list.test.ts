import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPROVER, CHANNEL, REQUESTER, SIGNING_SECRET, openRequest, seedSecretWithMaterial, startWorld, threadReply, type World } from '../support/bot-harness';
import { postToBolt, nowInSeconds } from '../../emulators/slack-signer';
import { slashCommand } from '../../emulators/slack-payloads';

describe('/ivs list, driven through signed HTTP', () => {
  let world: World;
  beforeAll(async () => {
    // These tests change Intercom behind the bot's back between lists, so no listing is shown again.
    world = await startWorld({ env: { IVS_LIST_MAX_AGE: '0s' } });
  });
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => {
    world.intercom.reset();
  });

  const responseText = (body: unknown) => JSON.stringify(body);

  it('acks at once and posts the secrets in the channel with id, name, platforms and Vault status', async () => {
    const webId = world.intercom.seed({ name: 'Production Web', platforms: ['web'], createdAt: Math.floor(Date.now() / 1000) - 86_400 * 3 });
    const mobileId = world.intercom.seed({ name: 'Mobile <!channel>', platforms: ['ios', 'android'] });
    world.vault.seed(`secret/intercom/identity-verification/default/secrets/${webId}`, { secret: 'x'.repeat(43), intercom_secret_id: webId });

    const before = world.slack.responses.length;
    const ack = await world.bot.command('list');
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');

    const post = await world.slack.waitForResponse((p) => p.seq >= before);
    const body = post.body as { response_type?: string; text?: string; blocks?: unknown };
    expect(body.response_type).toBe('in_channel');
    const shown = responseText(body);
    expect(shown).toContain(webId);
    expect(shown).toContain('Production Web');
    expect(shown).toContain(mobileId);
    expect(shown).toContain('ios');
    expect(shown).toContain('in Vault');
    expect(shown).toContain('NOT in Vault');
    // Typed text is escaped: a secret's name cannot ping the channel.
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('&lt;!channel&gt;');
  });

  it('says clearly when there are no secrets', async () => {
    const before = world.slack.responses.length;
    await world.bot.command('list');
    const post = await world.slack.waitForResponse((p) => p.seq >= before);
    expect(responseText(post.body).toLowerCase()).toContain('no secrets');
  });

  it.each([
    [{ status: 401, body: { type: 'error.list', errors: [{ code: 'unauthorized', message: 'Access Token Invalid' }] } }, /rejected the access token/],
    [{ status: 403, body: { type: 'error.list', errors: [{ code: 'forbidden', message: 'scope' }] } }, /lacks the read_secure_mode_secret scope/],
  ])('tells the person when Intercom refuses the token (%#)', async (fault, expected) => {
    world.intercom.failNext('list', fault);
    const before = world.slack.responses.length;
    await world.bot.command('list');
    const post = await world.slack.waitForResponse((p) => p.seq >= before);
    expect((post.body as { response_type?: string }).response_type).toBe('ephemeral');
    expect(responseText(post.body)).toMatch(expected);
  });

  it('tells the person when Intercom stays down after the retries', async () => {
    for (let i = 0; i < 3; i++) world.intercom.failNext('list', { status: 503 });
    const before = world.slack.responses.length;
    await world.bot.command('list');
    const post = await world.slack.waitForResponse((p) => p.seq >= before);
    expect(responseText(post.body)).toMatch(/Intercom is unavailable/);
    expect(world.intercom.callsTo('list')).toHaveLength(3);
  });

  it('tells the person when the rate limit is exhausted', async () => {
    const reset = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 3; i++) world.intercom.failNext('list', { status: 429, headers: { 'X-RateLimit-Reset': String(reset) } });
    const before = world.slack.responses.length;
    await world.bot.command('list');
    const post = await world.slack.waitForResponse((p) => p.seq >= before);
    expect(responseText(post.body)).toMatch(/rate limiting/);
  });

  it('refuses ephemerally outside IVS_CHANNELS and posts nothing visible', async () => {
    const posts = world.slack.callCount('chat.postMessage');
    const responses = world.slack.responses.length;
    const ack = await world.bot.command('list', REQUESTER, { channel: 'C999' });
    expect(ack.status).toBe(200);
    const body = ack.json() as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(`<#${CHANNEL}>`);
    expect(world.intercom.callsTo('list')).toHaveLength(0);
    expect(world.slack.callCount('chat.postMessage')).toBe(posts);
    expect(world.slack.responses.length).toBe(responses);
  });

  it('answers help and unknown subcommands with ephemeral usage', async () => {
    for (const text of ['help', 'frobnicate', '']) {
      const ack = await world.bot.command(text);
      const body = ack.json() as { response_type: string; text: string };
      expect(body.response_type).toBe('ephemeral');
      expect(body.text).toContain('/ivs list');
      expect(body.text).toContain('/ivs rotate');
    }
  });

  describe('Slack signatures', () => {
    const body = () => slashCommand({ text: 'list', responseUrl: world.slack.responseUrl() });

    it.each([
      ['a wrong signature', { signature: `v0=${'0'.repeat(64)}` }],
      ['a missing signature', { signature: null }],
      ['a missing timestamp', { timestampHeader: null }],
      ['a stale timestamp (301 s old)', { ts: nowInSeconds() - 301 }],
    ])('answers %s with 401 and does nothing', async (_name, opts) => {
      const listCalls = world.intercom.callsTo('list').length;
      const responses = world.slack.responses.length;
      const res = await postToBolt(world.bot.url, SIGNING_SECRET, body(), opts);
      expect(res.status).toBe(401);
      // A valid request afterwards shows the bot is alive; the rejected one left no trace.
      const ok = await world.bot.command('help');
      expect(ok.status).toBe(200);
      expect(world.intercom.callsTo('list').length).toBe(listCalls);
      expect(world.slack.responses.length).toBe(responses);
    });

    it('answers a request signed with another secret with 401', async () => {
      const res = await postToBolt(world.bot.url, 'not-the-signing-secret', body());
      expect(res.status).toBe(401);
    });
  });
});

describe('/ivs list shown again for a few seconds (IVS_LIST_MAX_AGE, default 5s)', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  /** A list the bot had to fetch: empty ack, the secrets at the response_url. */
  async function fetchedList(bot = world.bot): Promise<string> {
    const ack = await bot.command('list');
    expect(ack.text).toBe('');
    return ack.reply();
  }

  it('answers in the ack itself, in the channel and saying when it was listed, without asking Intercom again', async () => {
    const id = seedSecretWithMaterial(world, 'Reused Web', ['web'], 3);
    world.clock.advance(10_000);
    const first = await fetchedList();
    expect(first).toContain(id);
    const lists = world.intercom.callsTo('list').length;

    const ack = await world.bot.command('list');
    const body = ack.json() as { response_type?: string; blocks?: unknown };
    expect(body.response_type).toBe('in_channel');
    expect(JSON.stringify(body)).toContain(id);
    expect(JSON.stringify(body)).toMatch(/Listed <!date\^\d+\^\{date_short_pretty\} \{time_secs\}\|/);
    expect(world.intercom.callsTo('list')).toHaveLength(lists);
  });

  it('asks again once the listing is IVS_LIST_MAX_AGE old, and shows a change made outside the bot', async () => {
    world.clock.advance(10_000);
    await fetchedList();
    const outside = world.intercom.seed({ name: 'Made In The Intercom UI', platforms: ['ios'] });
    world.clock.advance(3_000);
    expect(JSON.stringify((await world.bot.command('list')).json())).not.toContain(outside);
    world.clock.advance(2_000);
    expect(await fetchedList()).toContain(outside);
  });

  it('a create executed on another replica makes this one ask again before the thread says it succeeded', async () => {
    const other = await world.startReplica();
    world.clock.advance(10_000);
    await fetchedList();
    expect((await world.bot.command('list')).text).not.toBe('');

    const { id, card } = await openRequest(world, 'create android Made By Replica Two', REQUESTER, other);
    await other.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Succeeded/);

    const line = (await fetchedList()).split('\\n').find((l) => l.includes(`Made By Replica Two [${id}]`));
    expect(line).toContain(':white_check_mark: in Vault');
  });

  it('a delete executed here is shown at once', async () => {
    const id = seedSecretWithMaterial(world, 'Deleted Soon', ['web'], 10);
    world.clock.advance(10_000);
    expect(await fetchedList()).toContain(id);
    const { id: requestId, card } = await openRequest(world, `delete ${id} --force`);
    await world.bot.click('ivs_approve', requestId, APPROVER);
    await threadReply(world, card, /Succeeded/);
    expect(await fetchedList()).not.toContain(`\`${id}\``);
  });

  it('reuses nothing while its Redis subscription is down (a restart), then fetches afresh', async () => {
    world.clock.advance(10_000);
    await fetchedList();
    await world.redis.restart();
    expect(await fetchedList()).toContain('secrets');
  });
});
