import type { SlackMessage } from '../../emulators/slack-api';
import { VAULT_BASE, type World } from './bot-harness';

// What the Slack delivery tests (test/e2e/slack-outage.test.ts, slack-delivery.test.ts) look at.

export const CHAT = ['chat.postMessage', 'chat.update'];

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // A read that fails (Redis reconnecting after a dropped answer) is just not yet.
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The thread as posted (each message once, in posting order), as short event words. */
export function threadEvents(world: World, card: SlackMessage): string[] {
  const words: Array<[RegExp, string]> = [
    [/requested/, 'requested'],
    [/Approved by/, 'approved'],
    [/Executing/, 'executing'],
    [/Created Intercom secret/, 'created'],
    [/Succeeded/, 'succeeded'],
    [/Failed/, 'failed'],
    [/Recovered/, 'recovered'],
    [/Approved, and waiting/, 'waiting'],
    [/could not be posted here in time/, 'gap'],
  ];
  return world.slack.threadReplies(card.channel, card.ts).map((m) => words.find(([re]) => re.test(m.text ?? ''))?.[1] ?? `other: ${m.text}`);
}

export function materialInVault(world: World, id: string): boolean {
  const secret = world.intercom.secrets().find((s) => s.name.includes(`[${id}]`));
  return secret !== undefined && world.vault.read(`${VAULT_BASE}/secrets/${secret.id}`)?.['secret'] === secret.material;
}
