import { loadConfig, type Config } from '../../src/config';
import { createBot, type Bot, type BotOptions } from '../../src/app';
import { startSlackDouble, type SlackDouble, type SlackMessage } from '../doubles/slack-api';
import { startIntercomDouble, type IntercomDouble } from '../doubles/intercom';
import { startVaultDouble, DEFAULT_TOKEN as VAULT_TOKEN, type VaultDouble } from '../doubles/vault';
import { startRedis, type TestRedis } from './redis-server';
import { captureLogs, type CapturedLogs } from './log-capture';
import { postToBolt, type BoltAnswer } from './slack-signer';
import { blockAction, slashCommand, viewSubmission, type ViewStateValues } from './slack-payloads';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const CHANNEL = 'C111';
export const REQUESTER = 'U111';
export const APPROVER = 'U222';
export const APPROVER_2 = 'U333';
export const OUTSIDER = 'U999';

/** Everything one end-to-end test needs: real Redis, the three doubles, and real bots over signed HTTP. */
export interface World {
  readonly redis: TestRedis;
  readonly slack: SlackDouble;
  readonly intercom: IntercomDouble;
  readonly vault: VaultDouble;
  readonly logs: CapturedLogs;
  readonly env: Record<string, string>;
  /** The first bot replica. */
  readonly bot: RunningBot;
  /** Starts another replica against the same Redis and doubles. */
  startReplica(opts?: Partial<BotOptions>, env?: Record<string, string>): Promise<RunningBot>;
  close(): Promise<void>;
}

export interface RunningBot {
  readonly bot: Bot;
  readonly url: string;
  readonly config: Config;
  /** `/ivs <text>` typed by `user`; resolves with Bolt's HTTP answer (the ack). */
  command(text: string, user?: string, opts?: { channel?: string; teamId?: string }): Promise<BoltAnswer>;
  /** A click on a card button. */
  click(actionId: string, requestId: string, user: string, opts?: { teamId?: string; userTeamId?: string; messageTs?: string; channel?: string }): Promise<BoltAnswer>;
  submitView(callbackId: string, user: string, privateMetadata: string, values: ViewStateValues): Promise<BoltAnswer>;
  stop(): Promise<void>;
}

let responseSeq = 0;

export interface WorldOptions {
  readonly env?: Record<string, string>;
  readonly bot?: Partial<BotOptions>;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const [redis, slack, intercom, vault] = await Promise.all([startRedis(), startSlackDouble(), startIntercomDouble(), startVaultDouble()]);
  const keyPrefix = `ivs-test-${Math.random().toString(36).slice(2, 8)}:`;
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_URL: intercom.url,
    VAULT_ADDR: vault.url,
    VAULT_TOKEN,
    IVS_CHANNELS: CHANNEL,
    IVS_APPROVERS: `${REQUESTER},${APPROVER},${APPROVER_2}`,
    IVS_REQUEST_TTL: '1h',
    IVS_MIN_OVERLAP: '1h',
    LOG_LEVEL: 'debug',
    ...opts.env,
  };
  const first = loadConfig(env);
  if (!first.ok) throw new Error(`test config invalid: ${first.problems.join('; ')}`);
  const logs = captureLogs(first.config.secrets);
  const replicas: RunningBot[] = [];

  const startReplica = async (botOpts: Partial<BotOptions> = {}, extraEnv: Record<string, string> = {}): Promise<RunningBot> => {
    const loaded = loadConfig({ ...env, ...extraEnv });
    if (!loaded.ok) throw new Error(`test config invalid: ${loaded.problems.join('; ')}`);
    const config = loaded.config;
    const bot = createBot(config, {
      logger: logs.logger,
      intercomRetry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxRateLimitWaitMs: 2_000 },
      intercomTimeoutMs: 2_000,
      ...opts.bot,
      ...botOpts,
    });
    const { port } = await bot.start();
    const url = `http://127.0.0.1:${port}`;
    const running: RunningBot = {
      bot,
      url,
      config,
      command: (text, user = REQUESTER, o = {}) =>
        postToBolt(
          url,
          SIGNING_SECRET,
          slashCommand({ text, userId: user, channelId: o.channel ?? CHANNEL, teamId: o.teamId ?? 'T111', responseUrl: slack.responseUrl(`r${++responseSeq}`) }),
        ),
      click: (actionId, requestId, user, o = {}) =>
        postToBolt(
          url,
          SIGNING_SECRET,
          blockAction({
            actionId,
            value: requestId,
            userId: user,
            messageTs: o.messageTs ?? '1700000000.000100',
            responseUrl: slack.responseUrl(`r${++responseSeq}`),
            channelId: o.channel ?? CHANNEL,
            ...(o.teamId ? { teamId: o.teamId } : {}),
            ...(o.userTeamId ? { userTeamId: o.userTeamId } : {}),
          }),
        ),
      submitView: (callbackId, user, privateMetadata, values) =>
        postToBolt(url, SIGNING_SECRET, viewSubmission({ callbackId, userId: user, privateMetadata, values })),
      stop: () => bot.stop({ drainTimeoutMs: 5_000 }),
    };
    replicas.push(running);
    return running;
  };

  const bot = await startReplica();
  return {
    redis,
    slack,
    intercom,
    vault,
    logs,
    env,
    bot,
    startReplica,
    async close() {
      await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
      await Promise.all([slack.close(), intercom.close(), vault.close(), redis.stop()]);
    },
  };
}

/** The request card the bot posted for `requestId` (the first top-level message mentioning it). */
export async function cardOf(world: World, requestId: string): Promise<SlackMessage> {
  const call = await world.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes(requestId));
  const ts = String((call.response as { ts?: unknown } | null)?.ts ?? '');
  const msg = world.slack.message(CHANNEL, ts);
  if (!msg) throw new Error(`no card for ${requestId}`);
  return msg;
}

/** The request id the bot announced in its ephemeral reply to the requester. */
export async function openedRequestId(world: World): Promise<string> {
  const post = await world.slack.waitForResponse((p) => /Request R-[0-9A-Z]{6} opened/.test(JSON.stringify(p.body)));
  const match = /R-[0-9A-Z]{6}/.exec(JSON.stringify(post.body));
  if (!match) throw new Error('no request id');
  return match[0];
}
