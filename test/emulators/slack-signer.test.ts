import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, isValidSlackRequest, LogLevel, type Logger } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { blockAction, checkboxesValue, plainTextValue, slashCommand, viewSubmission } from '../../emulators/slack-payloads';
import { nowInSeconds, postToBolt, slackHeaders, SLACK_FORM_CONTENT_TYPE } from '../../emulators/slack-signer';

const SECRET = 'test-signing-secret';

describe('slackHeaders', () => {
  it("reproduces Slack's worked example signature", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackHeaders('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-request-timestamp': '1531420618',
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('stamps the current time when no timestamp is given, and Bolt’s verifier accepts the result', () => {
    const before = nowInSeconds();
    const headers = slackHeaders(SECRET, 'a=1');
    const ts = Number(headers['x-slack-request-timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(nowInSeconds());
    expect(
      isValidSlackRequest({
        signingSecret: SECRET,
        body: 'a=1',
        headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': ts },
      }),
    ).toBe(true);
    expect(
      isValidSlackRequest({
        signingSecret: SECRET,
        body: 'a=2',
        headers: { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': ts },
      }),
    ).toBe(false);
  });
});

describe('postToBolt, seen by a capturing server', () => {
  let server: Server;
  let base: string;
  let seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string } | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"seen":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen = undefined;
  });

  it('POSTs the exact body to /slack/events with the exact form content type and a valid signature', async () => {
    const body = 'text=create+web+Production+Web&user_id=U111';
    const answer = await postToBolt(base, SECRET, body);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ seen: true });
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/slack/events');
    expect(seen?.body).toBe(body);
    expect(seen?.headers['content-type']).toBe(SLACK_FORM_CONTENT_TYPE);
    const ts = Number(seen?.headers['x-slack-request-timestamp']);
    expect(seen?.headers['x-slack-signature']).toBe(slackHeaders(SECRET, body, ts)['x-slack-signature']);
  });

  it('signs a stale timestamp honestly, so only its age is wrong', async () => {
    const ts = nowInSeconds() - 301;
    await postToBolt(base, SECRET, 'a=1', { ts });
    expect(seen?.headers['x-slack-request-timestamp']).toBe(String(ts));
    expect(seen?.headers['x-slack-signature']).toBe(slackHeaders(SECRET, 'a=1', ts)['x-slack-signature']);
  });

  it('leaves out the signature or the timestamp header when told to, and sends overrides verbatim', async () => {
    await postToBolt(base, SECRET, 'a=1', { signature: null });
    expect(seen?.headers).not.toHaveProperty('x-slack-signature');
    expect(seen?.headers).toHaveProperty('x-slack-request-timestamp');

    await postToBolt(base, SECRET, 'a=1', { timestampHeader: null });
    expect(seen?.headers).not.toHaveProperty('x-slack-request-timestamp');
    expect(seen?.headers['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);

    await postToBolt(base, SECRET, 'a=1', { signature: 'v1=nope', timestampHeader: 'yesterday', contentType: 'application/json' });
    expect(seen?.headers['x-slack-signature']).toBe('v1=nope');
    expect(seen?.headers['x-slack-request-timestamp']).toBe('yesterday');
    expect(seen?.headers['content-type']).toBe('application/json');
  });
});

/** Bolt's log lines, kept for assertions instead of printed. */
function recordingLogger(lines: string[]): Logger {
  let level = LogLevel.INFO;
  const keep = (...msg: unknown[]) => void lines.push(msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' '));
  return {
    debug: () => undefined,
    info: keep,
    warn: keep,
    error: keep,
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

describe('a real Bolt app accepts what the signer and the payload builders send', () => {
  let slack: SlackDouble;
  let app: App;
  let bot: string;
  const logLines: string[] = [];
  const seenBodies: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    // The double must be up first: Bolt calls auth.test in its constructor (contract §7 #4, #12).
    slack = await startSlackDouble();
    app = new App({
      token: slack.token,
      signingSecret: SECRET,
      logger: recordingLogger(logLines),
      logLevel: LogLevel.INFO,
      clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } },
    });
    app.command('/ivs', async ({ command, ack, respond }) => {
      seenBodies.push({ ...command });
      await ack({ text: `heard: ${command.text}` });
      await respond({ text: 'followed up', response_type: 'ephemeral' });
    });
    app.action('ivs_approve', async ({ body, ack, client }) => {
      await ack();
      seenBodies.push({ ...body });
      if (body.type !== 'block_actions') return;
      const container = body.container as { channel_id: string; message_ts: string };
      await client.chat.update({ channel: container.channel_id, ts: container.message_ts, text: 'approved', blocks: [] });
    });
    app.view('ivs_create', async ({ view, body, ack }) => {
      seenBodies.push({ user: body.user, values: view.state.values, private_metadata: view.private_metadata });
      await ack({ response_action: 'errors', errors: { name: 'too long' } });
    });
    const server = (await app.start(0)) as Server;
    bot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.stop();
    await slack.close();
  });
  beforeEach(() => {
    seenBodies.length = 0;
    logLines.length = 0;
  });

  it("Bolt's start-up auth.test is answered by the Slack double", async () => {
    // Bolt does not await it before start() resolves, so wait for the call rather than look.
    expect(await slack.waitFor('auth.test')).toMatchObject({ ok: true, response: { user_id: 'UBOT', bot_id: 'BBOT' } });
  });

  it('a signed slash command reaches the listener with every field, and respond() lands in the double', async () => {
    const responseUrl = slack.responseUrl();
    const body = slashCommand({ text: 'create web Production <Web> & co', userId: 'U222', responseUrl, triggerId: '9.9.t' });
    const answer = await postToBolt(bot, SECRET, body);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ text: 'heard: create web Production <Web> & co' });
    expect(seenBodies[0]).toMatchObject({
      command: '/ivs',
      text: 'create web Production <Web> & co',
      user_id: 'U222',
      channel_id: 'C111',
      team_id: 'T111',
      trigger_id: '9.9.t',
      response_url: responseUrl,
    });
    const followUp = await slack.waitForResponse((r) => r.id === responseUrl.split('/').pop());
    expect(followUp.body).toMatchObject({ text: 'followed up' });
  });

  it('a button click reaches the action listener with the clicker, both team ids and the card coordinates', async () => {
    const { ts } = await app.client.chat.postMessage({ channel: 'C111', text: 'card', blocks: [] });
    const body = blockAction({
      actionId: 'ivs_approve',
      value: 'R-7F3K2Q',
      userId: 'U333',
      userTeamId: 'T999',
      messageTs: ts as string,
      responseUrl: slack.responseUrl(),
    });
    expect((await postToBolt(bot, SECRET, body)).status).toBe(200);
    const update = await slack.waitFor('chat.update');
    expect(update.args).toMatchObject({ channel: 'C111', ts, text: 'approved', team_id: 'T111' });
    expect(seenBodies[0]).toMatchObject({
      user: { id: 'U333', team_id: 'T999' },
      team: { id: 'T111' },
      actions: [{ action_id: 'ivs_approve', value: 'R-7F3K2Q' }],
    });
    expect(slack.message('C111', ts as string)?.text).toBe('approved');
  });

  it('a modal submission reaches the view listener with its values, and the ack carries the errors', async () => {
    const body = viewSubmission({
      callbackId: 'ivs_create',
      userId: 'U111',
      privateMetadata: 'C111',
      values: { name: { value: plainTextValue('Production Web') }, platforms: { value: checkboxesValue(['web', 'ios']) } },
    });
    const answer = await postToBolt(bot, SECRET, body);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ response_action: 'errors', errors: { name: 'too long' } });
    expect(seenBodies[0]).toMatchObject({
      user: { id: 'U111', team_id: 'T111' },
      private_metadata: 'C111',
      values: { name: { value: { value: 'Production Web' } }, platforms: { value: { selected_options: [{ value: 'web' }, { value: 'ios' }] } } },
    });
  });

  it('Bolt answers 401 to a stale, unsigned, undated or wrongly signed request, and none reaches a listener', async () => {
    const body = slashCommand({ text: 'list', responseUrl: slack.responseUrl() });
    expect((await postToBolt(bot, SECRET, body, { ts: nowInSeconds() - 301 })).status).toBe(401);
    expect((await postToBolt(bot, SECRET, body, { signature: null })).status).toBe(401);
    expect((await postToBolt(bot, SECRET, body, { timestampHeader: null })).status).toBe(401);
    expect((await postToBolt(bot, 'another-secret', body)).status).toBe(401);
    expect(seenBodies).toEqual([]);
    expect(logLines.some((l) => l.includes('stale'))).toBe(true);
    expect(logLines.some((l) => l.includes('signature mismatch'))).toBe(true);
  });

  it('a request 299 seconds old is still accepted', async () => {
    const body = slashCommand({ text: 'list', responseUrl: slack.responseUrl() });
    expect((await postToBolt(bot, SECRET, body, { ts: nowInSeconds() - 299 })).status).toBe(200);
  });

  it('a form body labelled with a charset is refused with 400, which is why the exact content type matters', async () => {
    const body = slashCommand({ text: 'list', responseUrl: slack.responseUrl() });
    const answer = await postToBolt(bot, SECRET, body, { contentType: `${SLACK_FORM_CONTENT_TYPE}; charset=utf-8` });
    expect(answer.status).toBe(400);
    expect(seenBodies).toEqual([]);
  });
});
