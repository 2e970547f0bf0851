import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxDrained, APPROVER, REQUESTER, buttonsOf, openRequest, startWorld, threadReply, type RunningBot, type World } from '../support/bot-harness';
import { startRedisProxy, type RedisProxy } from '../support/redis-proxy';
import { plainTextValue } from '../../emulators/slack-payloads';

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
    expect(
      world.slack.responses
        .filter((r) => r.id === click.responseUrlId)
        .map((r) => JSON.stringify(r.body))
        .join(),
    ).not.toMatch(/unavailable|cannot be approved/);
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

// Every decision reads a lost answer back as approve() does: the audit entry, the card and what the
// person is told follow what Redis holds.
describe('Redis answers lost on the way back from reject, cancel and withdraw', () => {
  let world: World;
  let proxy: RedisProxy;
  let bot: RunningBot;
  beforeAll(async () => {
    world = await startWorld({ env: { IVS_APPROVALS_REQUIRED: '2' } });
    proxy = await startRedisProxy(world.redis.port);
    await world.bot.stop();
    bot = await world.startReplica({}, { REDIS_URL: proxy.url });
  });
  afterAll(async () => {
    await world?.close();
    await proxy?.close();
  });

  async function auditOf(id: string): Promise<string> {
    return await (await bot.command(`audit ${id}`)).reply();
  }

  it('a reject that landed: in the audit stream, the thread and the card, and the approver is not told "nothing was changed"', async () => {
    const { id, card } = await openRequest(world, 'create web Lost Reject', REQUESTER, bot);
    const lost = proxy.loseAnswerTo(id, 'unique-reject-reason-7731');
    await bot.submitView('ivs_reject_modal', APPROVER, id, { reason: { reason: plainTextValue('unique-reject-reason-7731') } });
    await lost;
    await threadReply(world, card, /Rejected by <@U222>/);
    expect((await bot.bot.requests.get(id))?.state).toBe('rejected');
    expect(await auditOf(id)).toMatch(/rejected/);
    expect(buttonsOf(world, card)).toEqual([]);
    expect(
      world.slack
        .ephemerals({ user: APPROVER })
        .map((e) => e.text ?? '')
        .join(' | '),
    ).not.toMatch(/nothing was changed/);
  });

  it('a cancel that landed: the requester is told it is cancelled, and the audit stream and card say so', async () => {
    const { id, card } = await openRequest(world, 'create web Lost Cancel', REQUESTER, bot);
    // The card's own delivery steps also carry the id and the requester: let them finish first.
    await outboxDrained(world, bot);
    const lost = proxy.loseAnswerTo(id, REQUESTER);
    const answer = await bot.command(`cancel ${id}`);
    await lost;
    expect(await answer.reply()).toMatch(/You cancelled/);
    await threadReply(world, card, /Cancelled/);
    expect(await auditOf(id)).toMatch(/cancelled/);
    expect(buttonsOf(world, card)).toEqual([]);
  });

  it('a withdrawal that landed: the approval is gone in Redis, the audit stream and on the card', async () => {
    const { id, card } = await openRequest(world, 'create web Lost Withdraw', REQUESTER, bot);
    await bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Approved by <@U222>/);
    // The outbox's own steps for that reply also carry the id and the approver: let them finish first.
    await outboxDrained(world, bot);
    const lost = proxy.loseAnswerTo(id, APPROVER);
    const answer = await bot.click('ivs_withdraw', id, APPROVER);
    await lost;
    await threadReply(world, card, /withdrew/i);
    expect((await bot.bot.requests.get(id))?.approvals).toEqual([]);
    expect(await auditOf(id)).toMatch(/withdrawn/);
    expect(buttonsOf(world, card)).toEqual(['ivs_approve', 'ivs_reject']);
    expect(
      world.slack.responses
        .filter((r) => r.id === answer.responseUrlId)
        .map((r) => JSON.stringify(r.body))
        .join(),
    ).not.toMatch(/unavailable/);
  });
});
