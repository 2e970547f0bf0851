import { startIntercomDouble, type IntercomDouble, type IntercomDoubleOptions } from '../../emulators/intercom';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { DEFAULT_TOKEN as VAULT_TOKEN, startVaultDouble, type VaultDouble } from '../../emulators/vault';
import { startRedis, type TestRedis } from '../../emulators/redis-server';

/** What a bot under test talks to: a real redis-server and the Slack, Intercom and Vault doubles. */
export interface BotDependencies {
  readonly redis: TestRedis;
  readonly slack: SlackDouble;
  readonly intercom: IntercomDouble;
  readonly vault: VaultDouble;
  close(): Promise<void>;
}

export async function startBotDependencies(opts: { intercom?: IntercomDoubleOptions } = {}): Promise<BotDependencies> {
  const [redis, slack, intercom, vault] = await Promise.all([startRedis(), startSlackDouble(), startIntercomDouble(opts.intercom), startVaultDouble()]);
  return {
    redis,
    slack,
    intercom,
    vault,
    close: async () => {
      await Promise.all([slack.close(), intercom.close(), vault.close(), redis.stop()]);
    },
  };
}

/** The settings that point the bot at them, with the tokens each double accepts. */
export function dependencyEnv({ redis, slack, intercom, vault }: Omit<BotDependencies, 'close'>): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.url,
    REDIS_URL: redis.url,
    INTERCOM_ACCESS_TOKEN: intercom.token,
    INTERCOM_API_URL: intercom.url,
    VAULT_ADDR: vault.url,
    VAULT_TOKEN,
  };
}
