import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainTextValue } from '../../emulators/slack-payloads';
import { APPROVER, APPROVER_2, REQUESTER, buttonsOf, openRequest, seedSecretWithMaterial, startWorld, threadReply, type World } from '../support/bot-harness';

const HOUR = 3_600_000;

/** The value and confirm text of one button on the card's current version, as a client showing it has them. */
function buttonOnCard(world: World, card: { channel: string; ts: string }, actionId: string): { value: string; confirm: string } {
  const blocks = (world.slack.message(card.channel, card.ts)?.blocks ?? []) as Array<{
    elements?: Array<{ action_id?: string; value?: string; confirm?: { text?: { text?: string } } }>;
  }>;
  for (const b of blocks) for (const e of b.elements ?? []) if (e.action_id === actionId) return { value: e.value ?? '', confirm: e.confirm?.text?.text ?? '' };
  throw new Error(`no ${actionId} on the card`);
}

describe('an approval counts only for the step the approver saw', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('Approve confirmed on the step-1 version of a rotation card does not approve its delete step; the approver is told the card changed', async () => {
    const old = seedSecretWithMaterial(world, 'Stale Web', ['web'], 400, { current: true });
    const { id, card } = await openRequest(world, `rotate ${old} yearly`);
    const step1 = buttonOnCard(world, card, 'ivs_approve');
    const step1Reject = buttonOnCard(world, card, 'ivs_reject');
    expect(step1.confirm).toMatch(/You approve: rotate secret/);

    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Step 1 done/);
    world.clock.advance(HOUR + 1_000);
    await world.bot.click('ivs_finish', id, REQUESTER);
    await threadReply(world, card, /asked to finish/);
    const step2 = buttonOnCard(world, card, 'ivs_approve');
    expect(step2.confirm).toMatch(/You approve: delete rotated secret/);
    expect(step2.value).not.toBe(step1.value);

    // APPROVER_2 still has the step-1 card on screen and confirms its dialog.
    const answer = await world.bot.click('ivs_approve', step1.value, APPROVER_2, { messageTs: card.ts });
    expect(await answer.reply()).toMatch(/card of R-[0-9A-Z]{6} changed since you saw it.*nothing was counted/);
    // Their Reject form from that card rejects nothing either.
    await world.bot.submitView('ivs_reject_modal', APPROVER_2, step1Reject.value, { reason: { reason: plainTextValue('stale form') } });
    await world.slack.waitFor('chat.postEphemeral', (c) => c.args['user'] === APPROVER_2 && /nothing was rejected/.test(String(c.args['text'])));

    const stored = await world.bot.bot.requests.get(id);
    expect({ state: stored?.state, step: stored?.rotation?.step, approvals: stored?.approvals }).toEqual({ state: 'pending', step: 'retire', approvals: [] });
    expect(world.intercom.callsTo('delete')).toHaveLength(0);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(false);

    // The card as it is now still works.
    await world.bot.click('ivs_approve', step2.value, APPROVER_2);
    await threadReply(world, card, /Succeeded/);
    expect(world.intercom.callsTo('delete')).toHaveLength(1);
  }, 60_000);

  it('a button carrying only the request id (a card rendered before steps were bound) decides nothing', async () => {
    const { id, card } = await openRequest(world, 'create web Old Card Shape');
    const createsBefore = world.intercom.callsTo('create').length;
    for (const action of ['ivs_approve', 'ivs_reject', 'ivs_withdraw']) {
      const answer = await world.bot.click(action, id, APPROVER, { asIs: true, messageTs: card.ts });
      expect(await answer.reply()).toMatch(/older version of the card/);
    }
    await world.bot.submitView('ivs_reject_modal', APPROVER, id, { reason: { reason: plainTextValue('old form') } }, { asIs: true });
    expect((await world.bot.bot.requests.get(id))?.state).toBe('pending');
    expect(buttonsOf(world, card)).toEqual(['ivs_approve', 'ivs_reject']);
    expect(world.intercom.callsTo('create')).toHaveLength(createsBefore);
  }, 30_000);

  it('every decision button names the request and the step it shows', async () => {
    const { id, card } = await openRequest(world, 'create web Buttons Named');
    const stored = await world.bot.bot.requests.get(id);
    expect(['ivs_approve', 'ivs_reject'].map((a) => buttonOnCard(world, card, a).value)).toEqual([
      `${id}/${stored?.fingerprint}`,
      `${id}/${stored?.fingerprint}`,
    ]);
  }, 30_000);
});
