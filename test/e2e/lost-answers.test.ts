import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, REQUESTER, buttonsOf, openRequest, startWorld, threadReply, type RunningBot, type World } from '../support/bot-harness';
import { startRedisProxy, type RedisProxy } from '../support/redis-proxy';

// A Redis answer lost on the way back (the script ran, the connection dropped) must neither run a
// transition twice nor leave people with a false "nothing happened".
describe('Redis answers lost on the way back', () => {
  let world: World;
  let proxy: RedisProxy;
  let bot: RunningBot;
  beforeAll(async () => {
    world = await startWorld();
    proxy = await startRedisProxy(world.redis.port);
    bot = await world.startReplica({}, { REDIS_URL: proxy.url });
  });
  afterAll(async () => {
    await world?.close();
    await proxy?.close();
  });

  it('the answer to recording the outcome: the thread still says Succeeded and the card loses its buttons', async () => {
    const { id, card } = await openRequest(world, 'create web Lost Finish', REQUESTER, bot);
    // The outcome script carries the request id and the new state.
    const lost = proxy.loseAnswerTo(id, 'succeeded');
    await bot.click('ivs_approve', id, APPROVER);
    await lost;
    await threadReply(world, card, /Succeeded/);
    await world.slack.waitFor('chat.update', (c) => c.args['ts'] === card.ts && /succeeded/.test(String(c.args['text'])));
    expect(buttonsOf(world, card)).toEqual([]);
    expect(world.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
  });

  it('the answer to the decisive approval: the approver is not told it failed, and the request executes once', async () => {
    const { id, card } = await openRequest(world, 'create ios Lost Approval', REQUESTER, bot);
    const lost = proxy.loseAnswerTo(id, APPROVER);
    const click = await bot.click('ivs_approve', id, APPROVER);
    await lost;
    await threadReply(world, card, /Approved by <@U222>/);
    await threadReply(world, card, /Succeeded/);
    expect(world.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    expect(world.slack.responses.filter((r) => r.id === click.responseUrlId).map((r) => JSON.stringify(r.body)).join()).not.toMatch(/unavailable|cannot be approved/);
  });

  it('the answer to opening a request: the requester is told it opened, and only one request exists', async () => {
    const before = (await bot.bot.requests.listOpen()).length;
    const lost = proxy.loseAnswerTo('Lost Opening');
    const answer = await bot.command('create android Lost Opening');
    await lost;
    const reply = await answer.reply();
    expect(reply).toMatch(/Request R-[0-9A-Z]{6} opened/);
    const open = await bot.bot.requests.listOpen();
    expect(open.filter((r) => r.operation.action === 'create' && r.operation.name === 'Lost Opening')).toHaveLength(1);
    expect(open.length).toBe(before + 1);
  });
});
