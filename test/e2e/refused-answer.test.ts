import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { slashCommand } from '../../emulators/slack-payloads';
import { postToBolt } from '../../emulators/slack-signer';
import { CHANNEL, REQUESTER, SIGNING_SECRET, startWorld, type World } from '../support/bot-harness';

// Bolt 5's respond() throws when the response_url answers non-2xx (Slack allows five posts per URL,
// for 30 minutes). The work the person asked for is done by then; only its answer is lost.
describe('an answer the response_url refuses', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('the request is still opened, the refusal is logged as a warning, and nothing claims a failure', async () => {
    const url = world.slack.responseUrl('used-up');
    for (let i = 0; i < 5; i += 1) await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"earlier"}' });

    const body = slashCommand({ text: 'create web Answer Lost -- yearly rotation', userId: REQUESTER, channelId: CHANNEL, responseUrl: url });
    expect((await postToBolt(world.bot.url, SIGNING_SECRET, body)).status).toBe(200);

    const card = await world.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes('Answer Lost'));
    expect(card.ok).toBe(true);
    const refused = await world.slack.waitForResponse((p) => p.id === 'used-up' && p.status === 404);
    expect(JSON.stringify(refused.body)).toMatch(/Request R-[0-9A-Z]{6} opened/);

    await vi.waitFor(() => expect(world.logs.text()).toContain('the answer could not be delivered to the response_url'), { timeout: 5_000 });
    const warning = world.logs.records().find((r) => r['msg'] === 'the answer could not be delivered to the response_url');
    expect(warning).toMatchObject({ level: 40, status: 404 });
    expect(world.logs.text()).not.toContain('listener failed after ack');
    // One refused post: no "something went wrong" sent after it through the same URL.
    expect(world.slack.responses.filter((p) => p.id === 'used-up' && p.status === 404)).toHaveLength(1);
  });
});
