import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { startIntercomDouble } from '../../emulators/intercom';
import type { Clock } from '../../src/core/ports';
import { realEvery, realSleep } from '../../src/clock';
import { createBot, type Bot } from '../../src/app';
import type { BotTuning } from '../../src/tuning';
import type { SlackDouble, SlackMessage } from '../../emulators/slack-api';
import type { IntercomDouble } from '../../emulators/intercom';
import type { VaultDouble } from '../../emulators/vault';
import { dependencyEnv, startBotDependencies } from './bot-dependencies';
import type { TestRedis } from '../../emulators/redis-server';
import { captureLogs, type CapturedLogs } from './log-capture';
import { postToBolt, type BoltAnswer } from '../../emulators/slack-signer';
import { REQUEST_ID_PATTERN } from '../../src/core/request-id';
import { decisionValue } from '../../src/slack/views/request-card';
import { blockAction, slashCommand, viewSubmission, type ViewStateValues } from '../../emulators/slack-payloads';

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
  /** With `workspaces`: one Intercom double per extra workspace, by name (the first uses `intercom`). */
  readonly intercoms: ReadonlyMap<string, IntercomDouble>;
  readonly vault: VaultDouble;
  readonly logs: CapturedLogs;
  readonly env: Record<string, string>;
  /** The bots' clock: real time plus whatever the test skipped ahead. */
  readonly clock: TestClock;
  /** The first bot replica. */
  readonly bot: RunningBot;
  /** Every HTTP answer (ack body) any replica gave Slack so far, for the leak canary. */
  answers(): string;
  /** Starts another replica against the same Redis and doubles. */
  startReplica(opts?: BotTuning, env?: Record<string, string>): Promise<RunningBot>;
  close(): Promise<void>;
}

export interface RunningBot {
  readonly bot: Bot;
  readonly url: string;
  readonly config: Config;
  /** `/ivs <text>` typed by `user`; resolves with Bolt's HTTP answer (the ack). */
  command(text: string, user?: string, opts?: { channel?: string; teamId?: string }): Promise<Answer>;
  /**
   * A click on a card button. `requestId` alone clicks the card as it is now (the value carries the
   * current step's fingerprint, as the button does); a value with a step (`R-…/abcd-0123`), or
   * `asIs`, is sent exactly as given (an older version of the card).
   */
  click(
    actionId: string,
    requestId: string,
    user: string,
    opts?: { teamId?: string; userTeamId?: string; messageTs?: string; channel?: string; blockId?: string; asIs?: boolean },
  ): Promise<Answer>;
  /** A modal submission; a reject modal's bare request id is completed like a click's. */
  submitView(callbackId: string, user: string, privateMetadata: string, values: ViewStateValues, opts?: { asIs?: boolean }): Promise<BoltAnswer>;
  stop(): Promise<void>;
  /** Stops at once without waiting for running executions, as close to a crash as one process allows. */
  kill(): Promise<void>;
}

let responseSeq = 0;

/** Real time, shifted forward on demand, so a test can pass an hour without waiting one. */
export interface TestClock extends Clock {
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: realSleep,
    every: realEvery,
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** Bolt's HTTP answer, plus the later message the bot sends to this interaction's own response_url. */
export interface Answer extends BoltAnswer {
  readonly responseUrlId: string;
  /** Waits for the bot's (first) response_url post for this interaction and returns its JSON text. */
  reply(timeoutMs?: number): Promise<string>;
}

export interface WorldOptions {
  readonly env?: Record<string, string>;
  readonly bot?: BotTuning;
  /**
   * Runs the bot with IVS_CONFIG: each entry becomes a workspace of the YAML file with its own
   * Intercom double (token from an environment variable); `yaml` is the rest of its entry.
   */
  readonly workspaces?: ReadonlyArray<{ readonly name: string; readonly yaml: string }>;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const dependencies = await startBotDependencies();
  const { redis, slack, intercom, vault } = dependencies;
  const keyPrefix = `ivs-test-${Math.random().toString(36).slice(2, 8)}:`;
  const intercoms = new Map<string, IntercomDouble>();
  const fileEnv: Record<string, string> = {};
  let configDir: string | undefined;
  if (opts.workspaces) {
    configDir = mkdtempSync(join(tmpdir(), 'ivs-config-'));
    const entries: string[] = [];
    for (const [i, w] of opts.workspaces.entries()) {
      const double =
        i === 0
          ? intercom
          : await startIntercomDouble({ tokens: { [`ic-token-${w.name}`]: { scopes: ['read_secure_mode_secret', 'write_secure_mode_secret'] } } });
      intercoms.set(w.name, double);
      const tokenEnv = `IC_TOKEN_${w.name.toUpperCase().replace(/-/g, '_')}`;
      fileEnv[tokenEnv] = double.token;
      entries.push(
        [
          `  - name: ${w.name}`,
          '    intercom:',
          `      url: ${double.url}`,
          `      token_env: ${tokenEnv}`,
          ...w.yaml
            .trim()
            .split('\n')
            .map((l) => `    ${l.trim() === '' ? '' : l}`),
        ].join('\n'),
      );
    }
    const path = join(configDir, 'workspaces.yaml');
    writeFileSync(path, `workspaces:\n${entries.join('\n')}\n`);
    fileEnv['IVS_CONFIG'] = path;
  }
  const env: Record<string, string> = {
    ...dependencyEnv(dependencies),
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    PORT: '0',
    REDIS_KEY_PREFIX: keyPrefix,
    IVS_CHANNELS: CHANNEL,
    IVS_APPROVERS: `${REQUESTER},${APPROVER},${APPROVER_2}`,
    IVS_REQUEST_TTL: '1h',
    IVS_MIN_OVERLAP: '1h',
    LOG_LEVEL: 'debug',
    ...fileEnv,
    ...opts.env,
  };
  if (opts.workspaces) {
    for (const key of ['IVS_CHANNELS', 'IVS_APPROVERS', 'IVS_REQUEST_TTL', 'IVS_MIN_OVERLAP', 'INTERCOM_API_URL', 'INTERCOM_ACCESS_TOKEN']) {
      if (!opts.env?.[key]) delete env[key];
    }
  }
  const first = loadConfig(env);
  if (!first.ok) throw new Error(`test config invalid: ${first.problems.join('; ')}`);
  const logs = captureLogs(first.config.secrets);
  const replicas: RunningBot[] = [];
  const clock = testClock();
  const answers: string[] = [];
  const recorded = <T extends BoltAnswer>(answer: T): T => {
    answers.push(answer.text);
    return answer;
  };

  const startReplica = async (botOpts: BotTuning = {}, extraEnv: Record<string, string> = {}): Promise<RunningBot> => {
    const loaded = loadConfig({ ...env, ...extraEnv });
    if (!loaded.ok) throw new Error(`test config invalid: ${loaded.problems.join('; ')}`);
    const config = loaded.config;
    const bot = createBot(
      config,
      { logger: logs.logger },
      {
        clock,
        intercomRetry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxRateLimitWaitMs: 2_000 },
        intercomTimeoutMs: 2_000,
        // The doubles answer at once: a fenced-off executor is done writing well within 3 s.
        holderWindowMs: 3_000,
        // Tests seed current/<platform> as they need it; the one test of the reconciler turns it on.
        reconcileCurrents: false,
        // Slack deliveries as production makes them, but quicker to retry and take over, and not paced
        // (the double does not rate-limit unless a test asks it to; the pacing test paces).
        delivery: { leaseMs: 3_000, pollMs: 200, pacing: { perSecond: 1_000, burst: 1_000 }, backoff: { baseMs: 200, maxMs: 2_000 } },
        slackTimeoutMs: 3_000,
        ...opts.bot,
        ...botOpts,
      },
    );
    const { port } = await bot.start();
    const url = `http://127.0.0.1:${port}`;
    const running: RunningBot = {
      bot,
      url,
      config,
      command: (text, user = REQUESTER, o = {}) => {
        const responseUrlId = `r${++responseSeq}`;
        const body = slashCommand({
          text,
          userId: user,
          channelId: o.channel ?? CHANNEL,
          teamId: o.teamId ?? 'T111',
          responseUrl: slack.responseUrl(responseUrlId),
        });
        return postToBolt(url, SIGNING_SECRET, body).then((answer) => withReply(slack, recorded(answer), responseUrlId));
      },
      click: async (actionId, requestId, user, o = {}) => {
        const responseUrlId = `r${++responseSeq}`;
        const value = o.asIs ? requestId : await currentCardValue(bot, requestId);
        const body = blockAction({
          actionId,
          value,
          userId: user,
          messageTs: o.messageTs ?? '1700000000.000100',
          responseUrl: slack.responseUrl(responseUrlId),
          channelId: o.channel ?? CHANNEL,
          ...(o.teamId ? { teamId: o.teamId } : {}),
          ...(o.userTeamId ? { userTeamId: o.userTeamId } : {}),
          ...(o.blockId ? { blockId: o.blockId } : {}),
        });
        return postToBolt(url, SIGNING_SECRET, body).then((answer) => withReply(slack, recorded(answer), responseUrlId));
      },
      submitView: async (callbackId, user, privateMetadata, values, o = {}) => {
        const metadata = callbackId === 'ivs_reject_modal' && !o.asIs ? await currentCardValue(bot, privateMetadata) : privateMetadata;
        return postToBolt(url, SIGNING_SECRET, viewSubmission({ callbackId, userId: user, privateMetadata: metadata, values })).then(recorded);
      },
      stop: () => bot.stop({ drainTimeoutMs: 5_000 }),
      kill: () => bot.stop({ drainTimeoutMs: 0 }),
    };
    replicas.push(running);
    return running;
  };

  const bot = await startReplica();
  return {
    redis,
    slack,
    intercom,
    intercoms,
    vault,
    logs,
    env,
    clock,
    bot,
    answers: () => answers.join('\n'),
    startReplica,
    async close() {
      await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
      await Promise.all([...intercoms.values()].filter((d) => d !== intercom).map((d) => d.close()));
      await dependencies.close();
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    },
  };
}

/**
 * What the card's buttons carry now for a bare request id: the id and the current step's fingerprint.
 * An unknown request gets a well-formed value too, so the bot answers "no such request".
 */
async function currentCardValue(bot: Bot, value: string): Promise<string> {
  if (!REQUEST_ID_PATTERN.test(value)) return value;
  const request = await bot.requests.get(value).catch(() => null);
  return request ? decisionValue(request) : `${value}/0000-0000`;
}

function withReply(slack: SlackDouble, answer: BoltAnswer, responseUrlId: string): Answer {
  return {
    ...answer,
    responseUrlId,
    reply: async (timeoutMs = 10_000) => JSON.stringify((await slack.waitForResponse((p) => p.id === responseUrlId, timeoutMs)).body),
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

/** Opens a request with `/ivs <text>` and returns its id and card. */
export async function openRequest(world: World, text: string, user = REQUESTER, bot: RunningBot = world.bot): Promise<{ id: string; card: SlackMessage }> {
  const ack = await bot.command(text, user);
  if (ack.status !== 200) throw new Error(`command answered ${ack.status}`);
  const reply = await ack.reply();
  const match = /Request (R-[0-9A-Z]{6}) opened/.exec(reply);
  if (!match?.[1]) throw new Error(`request not opened: ${reply}`);
  const id = match[1];
  return { id, card: await cardOf(world, id) };
}

/** Waits for a thread reply on the card whose text matches. */
export async function threadReply(world: World, card: SlackMessage, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const call = await world.slack.waitFor('chat.postMessage', (c) => c.args['thread_ts'] === card.ts && pattern.test(String(c.args['text'] ?? '')), timeoutMs);
  return String(call.args['text']);
}

/** Action ids present on the card's current version. */
export function buttonsOf(world: World, card: SlackMessage): string[] {
  const current = world.slack.message(card.channel, card.ts);
  const blocks = (current?.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }> }>;
  return blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ''));
}

export function cardText(world: World, card: SlackMessage): string {
  const current = world.slack.message(card.channel, card.ts);
  return JSON.stringify([current?.text, current?.blocks]);
}

/** Where the bot keeps this workspace's material in the Vault double (SPEC §5, default settings). */
export const VAULT_BASE = 'secret/intercom/identity-verification/default';

/** Seeds a secret at Intercom with its material in Vault, as if the bot had created it earlier. */
export function seedSecretWithMaterial(
  world: World,
  name: string,
  platforms: Array<'web' | 'ios' | 'android'>,
  ageDays: number,
  opts: { current?: boolean } = {},
): string {
  const id = world.intercom.seed({ name, platforms, createdAt: Math.floor(Date.now() / 1000) - ageDays * 86_400 });
  world.vault.seed(`${VAULT_BASE}/secrets/${id}`, { secret: `seeded-material-${id}`, intercom_secret_id: id, name });
  if (opts.current) for (const p of platforms) world.vault.seed(`${VAULT_BASE}/current/${p}`, { secret: `seeded-material-${id}`, intercom_secret_id: id });
  return id;
}

/** Waits until the Slack outbox holds nothing undelivered (every card and thread reply recorded so far is in the double). */
export async function outboxDrained(world: World, via: RunningBot = world.bot, timeoutMs = 10_000): Promise<void> {
  const key = `${world.env['REDIS_KEY_PREFIX'] ?? ''}outbox:due`;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await via.bot.redis.zcard(key)) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the Slack outbox still held undelivered notices after ${timeoutMs} ms`);
}
