import { slashCommand } from '../emulators/slack-payloads';
import { postToBolt } from '../emulators/slack-signer';
import { CHANNEL, LISTED_SECRETS, REQUESTER, SIGNING_SECRET, type BenchWorld } from './world';

/**
 * Before timing anything: `/ivs help` answers the usage and `/ivs list` renders the seeded secrets with
 * their Vault status, so the bench measures the real paths and not, say, a refusal or an error message.
 */
export async function checkPathsUnderTest(world: BenchWorld): Promise<void> {
  const { slack, bot, botFetching } = world;
  const help = await postToBolt(
    bot.url,
    SIGNING_SECRET,
    slashCommand({ text: 'help', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl('sanity.help') }),
  );
  if (help.status !== 200 || !help.text.includes('/ivs list')) throw new Error(`/ivs help did not answer the usage: ${help.status} ${help.text.slice(0, 300)}`);
  const expected = `${LISTED_SECRETS} identity verification secrets`;
  const rendered = (text: string) => text.includes(expected) && text.includes('Listed 1') && !text.includes('Vault could not be asked');
  for (const target of [bot, botFetching]) {
    const id = `sanity.list.${target.pid}`;
    const reply = slack.waitForResponse((p) => p.id === id, 10_000);
    const list = await postToBolt(
      target.url,
      SIGNING_SECRET,
      slashCommand({ text: 'list', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl(id) }),
    );
    if (list.status !== 200 || list.text !== '') throw new Error(`${target.name}: the first /ivs list answered ${list.status} ${list.text.slice(0, 200)}`);
    const text = JSON.stringify((await reply).body);
    if (!rendered(text))
      throw new Error(`${target.name}: /ivs list did not render the ${LISTED_SECRETS} seeded secrets with their Vault status: ${text.slice(0, 500)}`);
  }
  // Asked again at once: the bot shows the same listing in the ack; with max age 0s it fetches again.
  const again = await postToBolt(
    bot.url,
    SIGNING_SECRET,
    slashCommand({ text: 'list', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl('sanity.again') }),
  );
  if (!rendered(again.text)) throw new Error(`/ivs list asked again was not answered in the ack: ${again.text.slice(0, 300)}`);
  const fetched = await postToBolt(
    botFetching.url,
    SIGNING_SECRET,
    slashCommand({ text: 'list', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl('sanity.fetched') }),
  );
  if (fetched.text !== '') throw new Error(`/ivs list with max age 0s was answered in the ack: ${fetched.text.slice(0, 300)}`);
  await slack.waitForResponse((p) => p.id === 'sanity.fetched', 10_000);
}
