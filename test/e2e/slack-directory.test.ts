import { afterEach, describe, expect, it } from 'vitest';
import { APPROVER, APPROVER_2, REQUESTER, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';

/*
 * users.info failing while an approved request executes is Slack not knowing for a moment, not a
 * refusal and not a crash: the execution waits (nothing is sent meanwhile) and goes on once Slack
 * answers, however many takeovers that takes; a click meanwhile is told nothing was changed.
 */
describe('a Slack directory hiccup (users.info failing)', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it('during execution: the request waits, says so once, sends nothing meanwhile, and succeeds once Slack answers', async () => {
    world = await startWorld({ env: { IVS_APPROVALS_REQUIRED: '2' } });
    const w = world;
    await w.bot.stop();
    // Short leases and sweeps, so the takeovers take seconds (production: 15 s / 5 s).
    const bot = await w.startReplica({ leaseMs: 1_500, sweepIntervalMs: 300 });
    const { id, card } = await openRequest(w, 'create web Directory Outage', REQUESTER, bot);
    const other = await openRequest(w, 'create ios Warm The Cache', REQUESTER, bot);
    w.clock.advance(61_000); // the requester's users.info answer (cached 60 s) has run out
    await bot.click('ivs_approve', id, APPROVER);
    await threadReply(w, card, /Approved by <@U222>/);
    await bot.click('ivs_approve', other.id, APPROVER_2); // APPROVER_2 is looked up (and cached) now
    await threadReply(w, other.card, /Approved by <@U333>/);

    // More failures than recovery's takeover budget: the requester cannot be looked up for a while.
    for (let i = 0; i < 8; i++) w.slack.failNext('users.info', 'internal_error');
    await bot.click('ivs_approve', id, APPROVER_2);
    const waiting = await threadReply(w, card, /Slack could not say who may approve/);
    expect(waiting).toMatch(/nothing new was sent/);
    expect(w.intercom.callsTo('create')).toHaveLength(0);

    await threadReply(w, card, /Succeeded/, 60_000);
    const thread = w.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.args['thread_ts'] === card.ts)
      .map((c) => String(c.args['text']));
    expect(thread.filter((t) => /Slack could not say who may approve/.test(t))).toHaveLength(1);
    expect(thread.some((t) => /gave up|by hand/.test(t))).toBe(false);
    expect(w.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    expect((await bot.bot.requests.get(id))?.state).toBe('succeeded');
  }, 90_000);

  it('on a click: the person is told Slack could not say who they are and that nothing was changed', async () => {
    world = await startWorld();
    const w = world;
    const { id } = await openRequest(w, 'create web Click In Outage');
    w.slack.failNext('users.info', 'internal_error');
    const answer = await w.bot.click('ivs_approve', id, APPROVER);
    expect(await answer.reply()).toMatch(/Slack could not tell ivs-bot who you are.*nothing was changed/);
    expect((await w.bot.bot.requests.get(id))?.approvals).toEqual([]);
  }, 30_000);
});
