import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBot, type Bot } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { IntercomDouble } from '../../emulators/intercom';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { startSocketModeDouble, type SocketModeDouble } from '../../emulators/slack-socket';
import { DEFAULT_TOKEN as VAULT_TOKEN, type VaultDouble } from '../../emulators/vault';
import { dependencyEnv, startBotDependencies } from '../support/bot-dependencies';
import { APPROVER, CHANNEL, REQUESTER, SIGNING_SECRET } from '../support/bot-harness';
import { freePort } from '../../emulators/free-port';
import { captureLogs, type CapturedLogs } from '../support/log-capture';
import { blockActionPayload, slashCommand, slashCommandFields } from '../../emulators/slack-payloads';
import { postToBolt } from '../../emulators/slack-signer';
import { startRedis, type TestRedis } from '../../emulators/redis-server';

// The same bot, the same listeners, but Slack reaches it over a WebSocket (SLACK_APP_TOKEN set, no
// signing secret). Everything else is as in startWorld: real Redis and the Slack, Intercom and Vault
// doubles. The Socket Mode double sits in front of the Slack double as SLACK_API_URL: it answers
// apps.connections.open and forwards every other Web API call, so cards and replies are recorded as usual.

/**
 * What makes the bot speak Socket Mode: the app-level token, the socket double as the Web API, and PORT as
 * given, because Socket Mode has no `app.start(0)`: the HTTP server for /healthz listens on PORT.
 */
function socketModeEnv(socket: SocketModeDouble, port: number): Record<string, string> {
  return { SLACK_APP_TOKEN: socket.appToken, SLACK_API_URL: socket.apiUrl, PORT: String(port) };
}

interface SocketWorld {
  redis: TestRedis;
  slack: SlackDouble;
  socket: SocketModeDouble;
  intercom: IntercomDouble;
  vault: VaultDouble;
  logs: CapturedLogs;
  config: Config;
  bot: Bot;
  /** http://127.0.0.1:<PORT> */
  url: string;
  close(): Promise<void>;
}

async function startSocketWorld(): Promise<SocketWorld> {
  const dependencies = await startBotDependencies();
  const { redis, slack, intercom, vault } = dependencies;
  const socket = await startSocketModeDouble({ forwardTo: slack.url });
  const loaded = loadConfig({
    ...dependencyEnv(dependencies),
    ...socketModeEnv(socket, await freePort()),
    REDIS_KEY_PREFIX: `ivs-socket-${Math.random().toString(36).slice(2, 8)}:`,
    IVS_CHANNELS: CHANNEL,
    IVS_APPROVERS: `${REQUESTER},${APPROVER}`,
    LOG_LEVEL: 'debug',
  });
  if (!loaded.ok) throw new Error(`test config invalid: ${loaded.problems.join('; ')}`);
  const config = loaded.config;
  const logs = captureLogs(config.secrets);
  const bot = createBot(
    config,
    { logger: logs.logger },
    {
      intercomRetry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxRateLimitWaitMs: 2_000 },
      intercomTimeoutMs: 2_000,
    },
  );
  const started = await bot.start();
  let closed: Promise<void> | undefined;
  return {
    redis,
    slack,
    socket,
    intercom,
    vault,
    logs,
    config,
    bot,
    url: `http://127.0.0.1:${started.port}`,
    close() {
      closed ??= (async () => {
        // The bot first: with the double gone first, its client would schedule a reconnect.
        await bot.stop({ drainTimeoutMs: 5_000 });
        await Promise.all([socket.close(), dependencies.close()]);
      })();
      return closed;
    },
  };
}

describe('Socket Mode: the same handlers, reached over a WebSocket', () => {
  let w: SocketWorld;
  let seq = 0;
  beforeAll(async () => {
    w = await startSocketWorld();
  });
  afterAll(async () => {
    await w?.close();
  });
  beforeEach(() => {
    w.intercom.reset();
  });

  /** `/ivs <text>` typed in the channel, with a response_url of its own. */
  const command = (text: string, user = REQUESTER, channel = CHANNEL) => {
    const responseUrlId = `sm${++seq}`;
    const fields = slashCommandFields({ text, userId: user, channelId: channel, responseUrl: w.slack.responseUrl(responseUrlId) });
    return { responseUrlId, ack: w.socket.sendSlashCommand({ ...fields }) };
  };
  const replyTo = async (responseUrlId: string) => (await w.slack.waitForResponse((p) => p.id === responseUrlId, 10_000)).body as Record<string, unknown>;

  it('runs without a signing secret and connects with the app-level token', async () => {
    expect(w.config.slack.signingSecret).toBeUndefined();
    expect(w.config.slack.appToken).toBe(w.socket.appToken);
    expect(w.socket.openCalls).toEqual([{ token: w.socket.appToken, ok: true }]);
    expect(w.socket.openConnections).toBe(1);
  });

  it('answers /healthz with 200 on the configured PORT, and serves no /slack/events there', async () => {
    expect(w.url).toBe(`http://127.0.0.1:${w.config.port}`);
    const health = await fetch(`${w.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // Payloads come only over the socket: a signed HTTP post finds no receiver.
    const posted = await postToBolt(w.url, SIGNING_SECRET, slashCommand({ text: 'help', responseUrl: w.slack.responseUrl() }));
    expect(posted.status).toBe(404);
  });

  it('acks /ivs help with the usage, ephemerally', async () => {
    const { ack } = command('help');
    const { payload } = await ack;
    expect(payload?.['response_type']).toBe('ephemeral');
    expect(String(payload?.['text'])).toContain('/ivs list');
    expect(String(payload?.['text'])).toContain('/ivs create');
  });

  it('refuses a command from a channel outside IVS_CHANNELS in the ack and posts nothing', async () => {
    const before = w.slack.calls.length;
    const { payload } = await command('list', REQUESTER, 'C999').ack;
    expect(payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(`<#${CHANNEL}>`) });
    expect(w.slack.calls.slice(before).filter((c) => c.method === 'chat.postMessage')).toEqual([]);
    expect(w.intercom.calls).toHaveLength(0);
  });

  it('acks /ivs list at once and posts the secrets to the response_url', async () => {
    const id = w.intercom.seed({ name: 'Socket Web', platforms: ['web'] });
    const { ack, responseUrlId } = command('list');
    expect((await ack).payload).toEqual({});
    const body = await replyTo(responseUrlId);
    expect(body['response_type']).toBe('in_channel');
    expect(JSON.stringify(body)).toContain(id);
    expect(JSON.stringify(body)).toContain('Socket Web');

    // Asked again at once: the same listing comes back in the ack envelope's payload itself.
    const again = await command('list').ack;
    expect(again.payload?.['response_type']).toBe('in_channel');
    expect(JSON.stringify(again.payload)).toContain(id);
  });

  it('opens a create request from a command and executes it once when a second person approves through an interactive envelope', async () => {
    const { ack, responseUrlId } = command('create web Socket Created -- socket mode check');
    expect((await ack).payload).toEqual({});
    const opened = JSON.stringify(await replyTo(responseUrlId));
    const id = /Request (R-[0-9A-Z]{6}) opened/.exec(opened)?.[1];
    expect(id, opened).toBeDefined();
    const cardCall = await w.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes(id as string));
    const cardTs = String((cardCall.response as { ts?: unknown }).ts);
    expect(w.intercom.callsTo('create')).toHaveLength(0);

    const click = await w.socket.sendInteractive(
      blockActionPayload({
        actionId: 'ivs_approve',
        value: w.slack.buttonValue(CHANNEL, cardTs, 'ivs_approve') ?? '',
        userId: APPROVER,
        messageTs: cardTs,
        channelId: CHANNEL,
        responseUrl: w.slack.responseUrl(`sm${++seq}`),
      }),
    );
    expect(click.payload).toEqual({});

    await w.slack.waitFor('chat.postMessage', (c) => c.args['thread_ts'] === cardTs && /Succeeded/.test(String(c.args['text'] ?? '')), 10_000);
    expect(w.intercom.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    const secret = w.intercom.secrets().find((s) => s.name === `Socket Created [${id}]`);
    expect(secret).toBeDefined();
    expect(w.vault.read(`secret/intercom/identity-verification/default/secrets/${secret!.id}`)?.['secret']).toBe(secret!.material);
    // The material went to Vault only: not over the socket, not to Slack.
    const socketTraffic = JSON.stringify(w.socket.acks);
    expect(socketTraffic).not.toContain(secret!.material);
    expect(w.slack.everything()).not.toContain(secret!.material);
  });

  it('never logs the app-level token', () => {
    expect(w.logs.lines.length).toBeGreaterThan(0);
    expect(w.logs.text()).not.toContain(w.socket.appToken);
  });
});

describe('Socket Mode shutdown', () => {
  it('stopping the bot closes its WebSocket normally and stops listening on PORT', async () => {
    const w = await startSocketWorld();
    try {
      await w.bot.stop({ drainTimeoutMs: 1_000 });
      await w.socket.waitForNoConnections();
      expect(w.socket.closeCodes).toEqual([1000]);
      await expect(fetch(`${w.url}/healthz`)).rejects.toThrow();
    } finally {
      await w.close();
    }
  });

  // Bolt's SocketModeReceiver listens on PORT with no 'error' listener; without the bot's own check a busy
  // PORT would be an uncaught EADDRINUSE that kills the process with a stack trace (SPEC §6 wants one message).
  it('refuses to start with a clear error when PORT is already taken', async () => {
    const [slack, redis] = await Promise.all([startSlackDouble(), startRedis()]);
    const socket = await startSocketModeDouble({ forwardTo: slack.url });
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const port = (busy.address() as { port: number }).port;
    const loaded = loadConfig({
      SLACK_BOT_TOKEN: slack.token,
      ...socketModeEnv(socket, port),
      REDIS_URL: redis.url,
      INTERCOM_ACCESS_TOKEN: 'intercom-token',
      VAULT_ADDR: 'http://127.0.0.1:1',
      VAULT_TOKEN,
      IVS_CHANNELS: CHANNEL,
      IVS_APPROVERS: APPROVER,
    });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const bot = createBot(loaded.config, { logger: captureLogs(loaded.config.secrets).logger });
    try {
      await expect(bot.start()).rejects.toThrow(/EADDRINUSE|in use/);
    } finally {
      await bot.stop({ drainTimeoutMs: 0 });
      busy.close();
      await Promise.all([socket.close(), slack.close(), redis.stop()]);
    }
  });
});
