import type { TestRedis } from '../emulators/redis-server';
import type { SlackDouble } from '../emulators/slack-api';
import type { IntercomDouble } from '../emulators/intercom';
import type { VaultDouble } from '../emulators/vault';
import { dependencyEnv, startBotDependencies } from '../test/support/bot-dependencies';
import { startMeasuredProcess, type MeasuredProcess } from './processes';

export const SIGNING_SECRET = 'bench-signing-secret-0123456789';
export const CHANNEL = 'C111';
export const REQUESTER = 'U111';
export const APPROVER = 'U222';
export const APPROVER_2 = 'U333';
/** Secrets Intercom lists for `/ivs list`; each costs the bot one Vault metadata read. */
export const LISTED_SECRETS = 3;
export const BOT_LOG_LEVEL = 'warn';
const VAULT_PREFIX = 'secret/intercom/identity-verification/default';

/** A dedicated redis-server, the three loopback doubles, the bot and the bare Bolt baseline, each in its own process. */
export interface BenchWorld {
  readonly redis: TestRedis;
  readonly slack: SlackDouble;
  readonly intercom: IntercomDouble;
  readonly vault: VaultDouble;
  readonly bot: MeasuredProcess;
  /** The same bot with IVS_LIST_MAX_AGE=0s: every /ivs list asks Intercom and Vault and answers at the response_url. */
  readonly botFetching: MeasuredProcess;
  readonly bare: MeasuredProcess;
  close(): Promise<void>;
}

export async function startBenchWorld(): Promise<BenchWorld> {
  // Intercom's real limit (167 per 10 s) would turn a load test into a rate-limit test.
  const dependencies = await startBotDependencies({ intercom: { rateLimit: 1_000_000_000 } });
  const { redis, slack, intercom, vault } = dependencies;
  // Two of the listed secrets have their material in Vault, one does not: the list renders both kinds.
  // current/<platform> hands out the newest with material, as the bot would have left it (so its
  // check of those pointers at start finds nothing to repoint).
  for (let i = 1; i <= LISTED_SECRETS; i++) {
    const platforms = i === 1 ? (['web', 'ios'] as const) : (['android'] as const);
    const id = intercom.seed({ name: `Listed ${i}`, platforms: [...platforms] });
    if (i < LISTED_SECRETS) {
      vault.seed(`${VAULT_PREFIX}/secrets/${id}`, { secret: 'x'.repeat(43), intercom_secret_id: id });
      for (const p of platforms) vault.seed(`${VAULT_PREFIX}/current/${p}`, { secret: 'x'.repeat(43), intercom_secret_id: id });
    }
  }
  const slackEnv = { SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.url };
  const botEnv: Record<string, string> = {
    ...dependencyEnv(dependencies),
    ...slackEnv,
    PORT: '0',
    REDIS_KEY_PREFIX: 'ivs-bench:',
    IVS_CHANNELS: CHANNEL,
    IVS_APPROVERS: `${REQUESTER},${APPROVER},${APPROVER_2}`,
    // Two approvals, so one click is non-decisive and the next one decisive.
    IVS_APPROVALS_REQUIRED: '2',
    IVS_MAX_OPEN_REQUESTS: '50',
    IVS_REQUEST_TTL: '1h',
    IVS_MIN_OVERLAP: '1h',
    LOG_LEVEL: BOT_LOG_LEVEL,
  };
  const processes: MeasuredProcess[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
    await dependencies.close();
  };
  const started = await Promise.allSettled([
    // BENCH_CPU_PROF_DIR: a V8 CPU profile of the bot, written when it stops, to see where its time goes.
    startMeasuredProcess('ivs-bot', 'bot-process.ts', botEnv, { cpuProfileDir: process.env['BENCH_CPU_PROF_DIR'] || undefined }),
    startMeasuredProcess('bare Bolt', 'bare-bolt-process.ts', slackEnv),
    // Its own key prefix: it shares nothing with the bot above, and the Redis counts stay the bot's.
    startMeasuredProcess('ivs-bot, list max age 0s', 'bot-process.ts', { ...botEnv, IVS_LIST_MAX_AGE: '0s', REDIS_KEY_PREFIX: 'ivs-bench-fetching:' }),
  ]);
  for (const s of started) if (s.status === 'fulfilled') processes.push(s.value);
  const [bot, bare, botFetching] = started;
  if (bot?.status !== 'fulfilled' || bare?.status !== 'fulfilled' || botFetching?.status !== 'fulfilled') {
    await close().catch(() => undefined);
    throw started.find((s): s is PromiseRejectedResult => s.status === 'rejected')?.reason;
  }
  return { redis, slack, intercom, vault, bot: bot.value, botFetching: botFetching.value, bare: bare.value, close };
}
