import { slashCommand } from '../test/support/slack-payloads';
import { postToBolt } from '../test/support/slack-signer';
import { CHANNEL, LISTED_SECRETS, REQUESTER, SIGNING_SECRET, type BenchWorld } from './world';

/**
 * Before timing anything: `/ivs help` answers the usage and `/ivs list` renders the seeded secrets with
 * their Vault status, so the bench measures the real paths and not, say, a refusal or an error message.
 */
export async function checkPathsUnderTest(world: BenchWorld): Promise<void> {
  const { slack, bot } = world;
  const help = await postToBolt(bot.url, SIGNING_SECRET, slashCommand({ text: 'help', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl('sanity.help') }));
  if (help.status !== 200 || !help.text.includes('/ivs list')) throw new Error(`/ivs help did not answer the usage: ${help.status} ${help.text.slice(0, 300)}`);
  const reply = slack.waitForResponse((p) => p.id === 'sanity.list', 10_000);
  const list = await postToBolt(bot.url, SIGNING_SECRET, slashCommand({ text: 'list', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl('sanity.list') }));
  if (list.status !== 200) throw new Error(`/ivs list answered ${list.status}`);
  const text = JSON.stringify((await reply).body);
  const expected = `${LISTED_SECRETS} identity verification secrets`;
  if (!text.includes(expected) || !text.includes('Listed 1') || text.includes('Vault could not be asked')) {
    throw new Error(`/ivs list did not render the ${LISTED_SECRETS} seeded secrets with their Vault status: ${text.slice(0, 500)}`);
  }
}
