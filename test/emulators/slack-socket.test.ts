import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LogLevel, SocketModeClient, type Logger } from '@slack/socket-mode';
import { WebClient } from '@slack/web-api';
import { WebSocket } from 'ws';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { DEFAULT_APP_TOKEN, startSocketModeDouble, type SocketModeDouble } from '../../emulators/slack-socket';
import { blockActionPayload, slashCommandFields, viewSubmissionPayload } from '../../emulators/slack-payloads';

// The double is checked against the real client Bolt uses (@slack/socket-mode), so "the double works"
// means "SocketModeClient can connect to it and ack through it".

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

interface Received {
  type: string;
  body: Record<string, unknown>;
  acceptsResponsePayload: boolean;
}

describe('the Slack Socket Mode double', () => {
  let slack: SlackDouble;
  let socket: SocketModeDouble;
  const clients: SocketModeClient[] = [];

  const newClient = (appToken = DEFAULT_APP_TOKEN, extra: { clientPingTimeout?: number; autoReconnectEnabled?: boolean } = {}) => {
    const client = new SocketModeClient({
      appToken,
      logger: silent,
      autoReconnectEnabled: extra.autoReconnectEnabled ?? false,
      ...(extra.clientPingTimeout ? { clientPingTimeout: extra.clientPingTimeout } : {}),
      clientOptions: { slackApiUrl: socket.apiUrl, retryConfig: { retries: 0 } },
    });
    clients.push(client);
    return client;
  };

  /** A client that acks every envelope with `reply(body)` and records what it received. */
  const answeringClient = (reply: (r: Received) => Record<string, unknown> | undefined = () => undefined) => {
    const client = newClient();
    const received: Received[] = [];
    client.on(
      'slack_event',
      async (args: { ack: (r?: Record<string, unknown>) => Promise<void>; type: string; body: Record<string, unknown>; accepts_response_payload: boolean }) => {
        const r = { type: args.type, body: args.body, acceptsResponsePayload: args.accepts_response_payload };
        received.push(r);
        await args.ack(reply(r));
      },
    );
    return { client, received };
  };

  beforeAll(async () => {
    slack = await startSlackDouble();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect()));
    await socket?.close();
  });
  afterAll(async () => {
    await slack.close();
  });

  const fresh = async (opts: { ackTimeoutMs?: number } = {}) => {
    socket = await startSocketModeDouble({ forwardTo: slack.url, ...opts });
    return socket;
  };

  it('lets the real SocketModeClient connect with the app-level token and greets it with hello', async () => {
    await fresh();
    const { client } = answeringClient();
    await client.start();
    await socket.connected;
    expect(socket.openCalls).toEqual([{ token: DEFAULT_APP_TOKEN, ok: true }]);
    expect(socket.openConnections).toBe(1);
  });

  it('delivers a slash command as a slash_commands envelope and resolves with the ack the client sent', async () => {
    await fresh();
    const { client, received } = answeringClient((r) => ({ response_type: 'ephemeral', text: `you typed ${String(r.body['text'])}` }));
    await client.start();
    await socket.connected;

    const fields = slashCommandFields({ text: 'help', responseUrl: slack.responseUrl('sc1') });
    const ack = await socket.sendSlashCommand({ ...fields });

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      type: 'slash_commands',
      acceptsResponsePayload: true,
      body: { command: '/ivs', text: 'help', response_url: slack.responseUrl('sc1') },
    });
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: 'you typed help' });
    expect(socket.acks.map((a) => a.envelope_id)).toContain(ack.envelope_id);
  });

  it('delivers clicks and modal submissions as interactive envelopes; only a submission accepts a response payload', async () => {
    await fresh();
    const { client, received } = answeringClient();
    await client.start();
    await socket.connected;

    const click = await socket.sendInteractive(
      blockActionPayload({ actionId: 'ivs_approve', value: 'R-AAAAAA', userId: 'U222', messageTs: '1.2', responseUrl: slack.responseUrl() }),
    );
    await socket.sendInteractive(viewSubmissionPayload({ callbackId: 'ivs_reject_modal', userId: 'U222', values: {} }));

    expect(received.map((r) => [r.type, r.body['type'], r.acceptsResponsePayload])).toEqual([
      ['interactive', 'block_actions', false],
      ['interactive', 'view_submission', true],
    ]);
    // An empty ack() still names the envelope: that is what stops Slack from retrying it.
    expect(click).toMatchObject({ payload: {} });
    expect(click.envelope_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a wrong app token and a bot token at apps.connections.open, so the client cannot start', async () => {
    await fresh();
    await expect(newClient('xapp-1-A111-wrong').start()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(newClient(slack.token).start()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    expect(socket.openCalls.map((c) => c.error)).toEqual(['invalid_auth', 'not_allowed_token_type']);
    expect(socket.openConnections).toBe(0);
  });

  it('forwards every other Web API method to the Slack double, which records it and checks the bot token', async () => {
    await fresh();
    const web = new WebClient(slack.token, { slackApiUrl: socket.apiUrl, retryConfig: { retries: 0 } });
    const before = slack.callCount('chat.postMessage');
    const posted = await web.chat.postMessage({ channel: 'C111', text: 'through the socket double' });
    expect(posted.ok).toBe(true);
    const call = await slack.waitFor('chat.postMessage', (c) => c.args['text'] === 'through the socket double');
    expect(call.response).toMatchObject({ ts: posted.ts });
    expect(slack.callCount('chat.postMessage')).toBe(before + 1);

    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: socket.apiUrl, retryConfig: { retries: 0 } });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  });

  it('honours each connection ticket once, as Slack does', async () => {
    await fresh();
    const res = await fetch(`${socket.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${DEFAULT_APP_TOKEN}` } });
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);

    const outcome = (ws: WebSocket) =>
      new Promise<string>((resolve) => {
        ws.once('message', (m) => resolve(JSON.parse(m.toString()).type as string));
        ws.once('unexpected-response', (req, r) => {
          // With this listener, ws leaves the refused handshake to us.
          r.resume();
          req.destroy();
          resolve(`HTTP ${r.statusCode}`);
        });
        ws.on('error', () => undefined);
      });
    const first = new WebSocket(url);
    expect(await outcome(first)).toBe('hello');
    const second = new WebSocket(url);
    expect(await outcome(second)).toBe('HTTP 401');
    first.close();
  });

  it('rejects a send when no client is connected, and an envelope nobody acks after the ack timeout', async () => {
    await fresh({ ackTimeoutMs: 200 });
    await expect(socket.sendSlashCommand({ text: 'help' })).rejects.toThrow(/no open connection/);

    const res = await fetch(`${socket.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${DEFAULT_APP_TOKEN}` } });
    const mute = new WebSocket(((await res.json()) as { url: string }).url);
    await socket.connected;
    await expect(socket.sendSlashCommand({ text: 'help' })).rejects.toThrow(/no ack for slash_commands envelope/);
    mute.terminate();
  });

  it('asks clients to reconnect with a disconnect message, and the client comes back on a new ticket', async () => {
    await fresh();
    const client = newClient(DEFAULT_APP_TOKEN, { autoReconnectEnabled: true, clientPingTimeout: 300 });
    await client.start();
    await socket.waitForConnections(1);
    // The client's own `connected` event: the double greets before the client has read the hello.
    const back = new Promise((resolve) => client.once('connected', resolve));
    socket.requestReconnect();
    await socket.waitForConnections(2);
    await back;
    expect(socket.openCalls.filter((c) => c.ok)).toHaveLength(2);
    expect(socket.openConnections).toBe(1);
  });
});
