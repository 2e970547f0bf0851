import { LogLevel, webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';

let slack: SlackDouble;

beforeAll(async () => {
  slack = await startSlackDouble();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  slack.reset();
});

function client(token = 'xoxb-test', extra: webApi.WebClientOptions = {}): webApi.WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
    ...extra,
  });
}

/** The rejection of a WebClient call, so its `code` and `data` can be asserted. */
async function rejectionOf(p: Promise<unknown>): Promise<{ code?: string; data?: { error?: string }; retryAfter?: number }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; data?: { error?: string }; retryAfter?: number };
  }
  throw new Error('expected the call to fail');
}

const card = [{ type: 'section', text: { type: 'mrkdwn', text: '*R-1* create web' } }];

describe('Slack Web API double, driven by a real WebClient', () => {
  it('keeps a card, its update and its thread reply as Slack would', async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: 'C111', text: 'request R-1', blocks: card });
    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe('C111');
    expect(posted.ts).toBe('1700000000.000101');
    expect(posted.message?.bot_id).toBe('BBOT');

    const ts = posted.ts as string;
    const updated = await web.chat.update({ channel: 'C111', ts, text: 'request R-1 approved', blocks: [] });
    expect(updated.ts).toBe(ts);
    expect(updated.text).toBe('request R-1 approved');

    const reply = await web.chat.postMessage({ channel: 'C111', thread_ts: ts, text: 'approved by <@U222>' });
    expect(reply.ts).toBe('1700000000.000102');

    const now = slack.message('C111', ts);
    expect(now?.text).toBe('request R-1 approved');
    expect(now?.blocks).toEqual([]);
    expect(now?.history).toEqual([{ text: 'request R-1', blocks: card }]);
    expect(slack.threadReplies('C111', ts).map((m) => m.text)).toEqual(['approved by <@U222>']);
    expect(slack.messages('C111')).toHaveLength(2);

    const first = slack.callsTo('chat.postMessage')[0];
    expect(first?.args.blocks).toEqual(card); // JSON-parsed from the form field
    expect(first?.args.channel).toBe('C111');
    expect(first?.args).not.toHaveProperty('token');
    expect(slack.callCount('chat.postMessage')).toBe(2);
    expect(slack.callCount('chat.update')).toBe(1);
  });

  it('an update without blocks keeps the old blocks', async () => {
    const web = client();
    const { ts } = await web.chat.postMessage({ channel: 'C111', text: 'a', blocks: card });
    await web.chat.update({ channel: 'C111', ts: ts as string, text: 'b' });
    expect(slack.message('C111', ts as string)).toMatchObject({ text: 'b', blocks: card });
  });

  it('updating a message that was never posted is message_not_found', async () => {
    const err = await rejectionOf(client().chat.update({ channel: 'C111', ts: '1700000000.999999', text: 'x' }));
    expect(err.code).toBe(webApi.ErrorCode.PlatformError);
    expect(err.data?.error).toBe('message_not_found');
  });

  it('a wrong bot token is invalid_auth, answered with HTTP 200', async () => {
    const err = await rejectionOf(client('xoxb-wrong').chat.postMessage({ channel: 'C111', text: 'hi' }));
    expect(err.code).toBe(webApi.ErrorCode.PlatformError);
    expect(err.data?.error).toBe('invalid_auth');
    expect(slack.calls[0]).toMatchObject({ method: 'chat.postMessage', status: 200, ok: false, error: 'invalid_auth' });
    expect(slack.messages()).toEqual([]);
  });

  it('auth.test answers the bot identity, also when the token comes in the form body as Bolt sends it', async () => {
    const res = await fetch(`${slack.url}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=xoxb-test',
    });
    expect(await res.json()).toMatchObject({ ok: true, team_id: 'T111', user_id: 'UBOT', bot_id: 'BBOT' });
  });

  it('failNext fails exactly the next call of that method', async () => {
    const web = client();
    slack.failNext('chat.postMessage', 'not_in_channel');
    const err = await rejectionOf(web.chat.postMessage({ channel: 'C111', text: 'one' }));
    expect(err.data?.error).toBe('not_in_channel');
    const ok = await web.chat.postMessage({ channel: 'C111', text: 'two' });
    expect(ok.ok).toBe(true);
    expect(slack.messages().map((m) => m.text)).toEqual(['two']);
  });

  it('rateLimitNext answers 429 with Retry-After, which WebClient reports as a rate-limit error', async () => {
    const web = client('xoxb-test', { rejectRateLimitedCalls: true });
    slack.rateLimitNext('chat.update', 1);
    const err = await rejectionOf(web.chat.update({ channel: 'C111', ts: '1', text: 'x' }));
    expect(err.code).toBe(webApi.ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(1);
    expect(slack.calls[0]).toMatchObject({ method: 'chat.update', status: 429, error: 'ratelimited' });

    const { ts } = await web.chat.postMessage({ channel: 'C111', text: 'a' });
    await expect(web.chat.update({ channel: 'C111', ts: ts as string, text: 'b' })).resolves.toMatchObject({ ok: true });
  });

  it('users.info answers an unregistered id as a human of the default team, and registered users as set', async () => {
    const web = client();
    slack.setUser({ id: 'U900', teamId: 'T999' });
    slack.setUser({ id: 'U901', isBot: true });
    slack.setUser({ id: 'U902', deleted: true, name: 'gone' });

    expect((await web.users.info({ user: 'U222' })).user).toMatchObject({ id: 'U222', team_id: 'T111', is_bot: false, deleted: false });
    expect((await web.users.info({ user: 'U900' })).user).toMatchObject({ team_id: 'T999', is_bot: false });
    expect((await web.users.info({ user: 'U901' })).user).toMatchObject({ is_bot: true });
    expect((await web.users.info({ user: 'U902' })).user).toMatchObject({ deleted: true, name: 'gone' });
    expect((await web.users.info({ user: 'UBOT' })).user).toMatchObject({ is_bot: true });
  });

  it('with strictUsers, users.info does not know unregistered ids', async () => {
    const strict = await startSlackDouble({ strictUsers: true, token: 'xoxb-strict' });
    try {
      const web = new webApi.WebClient('xoxb-strict', { slackApiUrl: strict.url, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
      strict.setUser({ id: 'U111' });
      expect((await web.users.info({ user: 'U111' })).ok).toBe(true);
      expect((await rejectionOf(web.users.info({ user: 'U222' }))).data?.error).toBe('user_not_found');
    } finally {
      await strict.close();
    }
  });

  it('usergroups.users.list expands a group set by the test and rejects an unknown one', async () => {
    const web = client();
    slack.setGroup('S123', ['U111', 'U222']);
    expect((await web.usergroups.users.list({ usergroup: 'S123' })).users).toEqual(['U111', 'U222']);
    expect((await rejectionOf(web.usergroups.users.list({ usergroup: 'S999' }))).data?.error).toBe('no_such_subteam');
  });

  it('records ephemerals, channel lookups and opened modals', async () => {
    const web = client();
    const eph = await web.chat.postEphemeral({ channel: 'C111', user: 'U111', text: 'you may not approve your own request' });
    expect(eph.message_ts).toMatch(/^1700000000\.\d{6}$/);
    expect(slack.ephemerals({ user: 'U111' })).toEqual([{ channel: 'C111', user: 'U111', ts: eph.message_ts, text: 'you may not approve your own request' }]);
    expect(slack.messages()).toEqual([]);

    slack.setChannel({ id: 'C222', name: 'secret-ops', isPrivate: true });
    expect((await web.conversations.info({ channel: 'C222' })).channel).toMatchObject({ name: 'secret-ops', is_private: true, is_member: true });

    const opened = await web.views.open({
      trigger_id: '1.2.abc',
      view: { type: 'modal', callback_id: 'ivs_create', title: { type: 'plain_text', text: 'Create' }, blocks: [] },
    });
    expect(opened.view?.id).toMatch(/^V\d+$/);
    expect(slack.views()).toEqual([{ id: opened.view?.id, triggerId: '1.2.abc', view: expect.objectContaining({ callback_id: 'ivs_create' }) }]);
  });

  it('refuses posts the real API refuses: not a member, archived, no text, unknown method', async () => {
    const web = client();
    slack.setChannel({ id: 'C300', isMember: false });
    slack.setChannel({ id: 'C301', isArchived: true });
    expect((await rejectionOf(web.chat.postMessage({ channel: 'C300', text: 'x' }))).data?.error).toBe('not_in_channel');
    expect((await rejectionOf(web.chat.postMessage({ channel: 'C301', text: 'x' }))).data?.error).toBe('is_archived');
    expect((await rejectionOf(web.chat.postMessage({ channel: 'C111', text: '' }))).data?.error).toBe('no_text');
    expect((await rejectionOf(web.apiCall('reactions.add', { name: 'x' }))).data?.error).toBe('unknown_method');
    expect(slack.messages()).toEqual([]);
  });
});

describe('response_url sink', () => {
  async function respond(url: string, body: unknown): Promise<number> {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  }

  it('records JSON posts and lets a test wait for one that has not happened yet', async () => {
    const url = slack.responseUrl();
    expect(url).not.toBe(slack.responseUrl());
    const waiting = slack.waitForResponse((r) => (r.body as { text?: string }).text === 'done');
    expect(await respond(url, { text: 'working', response_type: 'ephemeral' })).toBe(200);
    expect(await respond(url, { text: 'done', response_type: 'in_channel' })).toBe(200);
    const got = await waiting;
    expect(got.id).toBe(url.split('/').pop());
    expect(got.body).toEqual({ text: 'done', response_type: 'in_channel' });
    expect(slack.responses).toHaveLength(2);
  });

  it('refuses a sixth use of one response_url, as Slack does', async () => {
    const url = slack.responseUrl('fixed');
    for (let i = 0; i < 5; i += 1) expect(await respond(url, { text: `n${i}` })).toBe(200);
    expect(await respond(url, { text: 'too many' })).toBe(404);
    expect(slack.responses.at(-1)).toMatchObject({ id: 'fixed', status: 404 });
  });
});

describe('waiting and searching', () => {
  it('waitFor resolves with a call made earlier and with one made later', async () => {
    const web = client();
    await web.chat.postMessage({ channel: 'C111', text: 'early' });
    await expect(slack.waitFor('chat.postMessage')).resolves.toMatchObject({ args: { text: 'early' } });

    const later = slack.waitFor('chat.postMessage', (c) => c.args.text === 'late');
    await web.chat.postMessage({ channel: 'C111', text: 'late' });
    await expect(later).resolves.toMatchObject({ seq: 1, args: { text: 'late' } });
  });

  it('waitFor rejects after its timeout and names the calls it did see', async () => {
    await client().auth.test();
    await expect(slack.waitFor('chat.update', undefined, 50)).rejects.toThrow(/no matching chat\.update call within 50 ms; calls so far: \[auth\.test\]/);
  });

  it('everything() holds what the bot sent in blocks, form fields and response_url bodies', async () => {
    const web = client();
    await web.chat.postMessage({ channel: 'C111', text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'canary-in-blocks' } }] });
    await fetch(slack.responseUrl(), { method: 'POST', body: JSON.stringify({ text: 'canary-in-response' }) });
    const all = slack.everything();
    expect(all).toContain('canary-in-blocks');
    expect(all).toContain('canary-in-response');
    expect(all).not.toContain('canary-never-sent');
  });

  it('reset forgets calls, messages, users, groups and pending faults', async () => {
    const web = client();
    await web.chat.postMessage({ channel: 'C111', text: 'x' });
    slack.setGroup('S1', ['U1']);
    slack.failNext('chat.postMessage', 'channel_not_found');
    slack.reset();
    expect(slack.calls).toEqual([]);
    expect(slack.messages()).toEqual([]);
    expect((await web.chat.postMessage({ channel: 'C111', text: 'y' })).ts).toBe('1700000000.000101');
    expect((await rejectionOf(web.usergroups.users.list({ usergroup: 'S1' }))).data?.error).toBe('no_such_subteam');
  });
});

describe('fault switches of the Slack double', () => {
  it('outage: every Web API call answers 503 until it ends, and nothing is posted meanwhile', async () => {
    const web = client();
    slack.outage({});
    const failed = await rejectionOf(web.chat.postMessage({ channel: 'C111', text: 'during' }));
    expect(failed).toMatchObject({ code: 'slack_webapi_http_error', statusCode: 503 });
    expect(slack.messages()).toEqual([]);
    expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503]);
    slack.outage(null);
    expect((await web.chat.postMessage({ channel: 'C111', text: 'after' })).ok).toBe(true);
  });

  it('outage with retryAfterSeconds: a 429 window whose answers carry Retry-After, as Slack rate limits do', async () => {
    const web = client('xoxb-test', { rejectRateLimitedCalls: true });
    slack.outage({ status: 429, retryAfterSeconds: 2 });
    const limited = await rejectionOf(web.chat.postMessage({ channel: 'C111', text: 'during' }));
    expect(limited).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 2 });
    expect(slack.messages()).toEqual([]);
    expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429]);
    slack.outage(null);
    expect((await web.chat.postMessage({ channel: 'C111', text: 'after' })).ok).toBe(true);
  });

  it('hang: a call gets no answer until the client gives up; with apply the post happens anyway', async () => {
    const web = client('xoxb-test', { timeout: 300 });
    slack.hang({ methods: ['chat.postMessage'], apply: true });
    const timedOut = await rejectionOf(web.chat.postMessage({ channel: 'C111', text: 'into the void' }));
    expect(timedOut).toMatchObject({ code: 'slack_webapi_request_error' });
    expect(slack.messages().map((m) => m.text)).toEqual(['into the void']);
    slack.hang({ methods: ['chat.postMessage'] });
    await rejectionOf(web.chat.postMessage({ channel: 'C111', text: 'never posted' }));
    expect(slack.messages().map((m) => m.text)).toEqual(['into the void']);
    slack.hang(null);
    expect(slack.held).toBe(0);
    expect((await web.chat.postMessage({ channel: 'C111', text: 'healthy' })).ok).toBe(true);
  });

  it('dropAnswerNext: the post is made, then the connection drops before the answer', async () => {
    const web = client();
    slack.dropAnswerNext('chat.postMessage');
    expect(await rejectionOf(web.chat.postMessage({ channel: 'C111', text: 'posted, unanswered' }))).toMatchObject({ code: 'slack_webapi_request_error' });
    expect(slack.messages().map((m) => m.text)).toEqual(['posted, unanswered']);
    expect((await web.chat.postMessage({ channel: 'C111', text: 'answered' })).ok).toBe(true);
  });

  it('channelRateLimit: a burst beyond the bucket gets 429 with a Retry-After of whole seconds, per channel', async () => {
    const web = client('xoxb-test', { rejectRateLimitedCalls: true });
    slack.channelRateLimit({ perSecond: 1, burst: 2 });
    expect((await web.chat.postMessage({ channel: 'C111', text: '1' })).ok).toBe(true);
    expect((await web.chat.postMessage({ channel: 'C111', text: '2' })).ok).toBe(true);
    expect(await rejectionOf(web.chat.postMessage({ channel: 'C111', text: '3' }))).toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 1 });
    expect((await web.chat.postMessage({ channel: 'C222', text: 'elsewhere' })).ok).toBe(true);
    expect((await web.chat.update({ channel: 'C111', ts: slack.messages('C111')[0]?.ts ?? '', text: 'updates are not limited' })).ok).toBe(true);
    slack.channelRateLimit(null);
    expect((await web.chat.postMessage({ channel: 'C111', text: '4' })).ok).toBe(true);
  });

  it('keeps message metadata and shows it in conversations.history and conversations.replies when asked', async () => {
    const web = client();
    const metadata = { event_type: 'ivs_notice', event_payload: { request_id: 'R-1', item: '7' } };
    const parent = await web.chat.postMessage({ channel: 'C111', text: 'card', metadata });
    const ts = parent.ts as string;
    await web.chat.postMessage({ channel: 'C111', thread_ts: ts, text: 'reply', metadata: { ...metadata, event_payload: { request_id: 'R-1', item: '8' } } });
    const history = await web.conversations.history({ channel: 'C111', include_all_metadata: true });
    expect(history.messages?.map((m) => [m.text, (m.metadata?.event_payload as Record<string, unknown> | undefined)?.['item']])).toEqual([['card', '7']]);
    const replies = await web.conversations.replies({ channel: 'C111', ts, include_all_metadata: true });
    expect(replies.messages?.map((m) => [m.text, (m.metadata?.event_payload as Record<string, unknown> | undefined)?.['item']])).toEqual([
      ['card', '7'],
      ['reply', '8'],
    ]);
    expect((await web.conversations.replies({ channel: 'C111', ts })).messages?.[1]?.metadata).toBeUndefined();
  });
});
