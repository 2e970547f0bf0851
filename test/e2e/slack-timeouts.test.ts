import { afterEach, describe, expect, it } from 'vitest';
import { checkboxesValue, plainTextValue } from '../../emulators/slack-payloads';
import { CHANNEL, REQUESTER, startWorld, type RunningBot, type World } from '../support/bot-harness';

// Every Slack call has a timeout: the answers to people (views.open for the forms, chat.postEphemeral
// after a form) go through the bot's timed client, so a Slack that never answers costs a person one
// bounded wait and an explanation, not a listener stuck for good.

const TIMEOUT_MS = 500;

async function metricsOf(bot: RunningBot): Promise<string> {
  return (await fetch(`${bot.url}/metrics`)).text();
}

/** The upstream histogram's count line for a Slack method (labels in any order). */
function slackCallsCounted(metrics: string, method: string): boolean {
  return metrics
    .split('\n')
    .some((l) => l.startsWith('ivs_upstream_request_duration_seconds_count{') && l.includes('service="slack"') && l.includes(`operation="${method}"`));
}

describe('answers to people while Slack hangs', () => {
  let world: World | undefined;
  afterEach(async () => {
    world?.slack.hang(null);
    await world?.close();
    world = undefined;
  });

  it('a views.open that never answers gives up within its timeout, and the person is told', async () => {
    world = await startWorld();
    const bot = await world.startReplica({ slackTimeoutMs: TIMEOUT_MS });
    world.slack.hang({ methods: ['views.open'] });
    const started = Date.now();
    const answer = await bot.command('create');
    expect(answer.status).toBe(200);
    expect(await answer.reply(15_000)).toMatch(/Something went wrong on our side; nothing more was done/);
    // Three attempts (two quick retries) of half a second each, not Slack's default half hour.
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(world.slack.views()).toEqual([]);
    expect(slackCallsCounted(await metricsOf(bot), 'views.open')).toBe(true);
  }, 30_000);

  it('a chat.postEphemeral that never answers gives up within its timeout; the request opened from the form stands', async () => {
    world = await startWorld();
    const w = world;
    const bot = await w.startReplica({ slackTimeoutMs: TIMEOUT_MS });
    w.slack.hang({ methods: ['chat.postEphemeral'] });
    const started = Date.now();
    const res = await bot.submitView('ivs_create_modal', REQUESTER, CHANNEL, {
      name: { name: plainTextValue('Hung Ephemeral') },
      platforms: { platforms: checkboxesValue(['web']) },
      reason: { reason: plainTextValue('') },
    });
    expect(res.status).toBe(200);
    // The listener's answer (and then its apology) each time out: the failure is logged, nothing hangs.
    const failed = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const deadline = Date.now() + 15_000;
      const look = () => {
        const record = w.logs.records().find((r) => r['msg'] === 'listener failed after ack');
        if (record) resolve(record);
        else if (Date.now() > deadline) reject(new Error('the listener did not give up on chat.postEphemeral'));
        else setTimeout(look, 50);
      };
      look();
    });
    expect(JSON.stringify(failed['err'])).toMatch(/timeout|timed out|ECONNABORTED/i);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(w.slack.messages(CHANNEL).some((m) => /Hung Ephemeral/.test(JSON.stringify(m)))).toBe(true);
    expect(slackCallsCounted(await metricsOf(bot), 'chat.postEphemeral')).toBe(true);
  }, 30_000);
});
