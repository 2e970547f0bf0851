import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVER,
  APPROVER_2,
  CHANNEL,
  OUTSIDER,
  REQUESTER,
  buttonsOf,
  cardOf,
  cardText,
  openRequest,
  startWorld,
  threadReply,
  type World,
} from '../support/bot-harness';
import { checkboxesValue, plainTextValue } from '../../emulators/slack-payloads';

describe('the two-person rule, end to end', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => {
    world.intercom.reset();
  });

  it('a create reaches Intercom only after a second person approves, and the material lands in Vault', async () => {
    const { id, card } = await openRequest(world, 'create web,ios Production Web -- yearly rotation');
    expect(buttonsOf(world, card)).toEqual(['ivs_approve', 'ivs_reject']);
    await threadReply(world, card, /requested/);
    expect(world.intercom.callsTo('create')).toHaveLength(0);

    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Approved by <@U222>/);
    await threadReply(world, card, /Succeeded/);

    const creates = world.intercom.callsTo('create');
    expect(creates).toHaveLength(1);
    const secret = world.intercom.secrets().find((s) => s.name === `Production Web [${id}]`);
    expect(secret).toBeDefined();
    const stored = world.vault.read(`secret/intercom/identity-verification/default/secrets/${secret!.id}`);
    expect(stored?.['secret']).toBe(secret!.material);
    expect(world.vault.read('secret/intercom/identity-verification/default/current/web')?.['intercom_secret_id']).toBe(secret!.id);
    expect(world.vault.metadata(`secret/intercom/identity-verification/default/secrets/${secret!.id}`)?.custom_metadata).toMatchObject({ request_id: id });

    expect(buttonsOf(world, card)).toEqual([]);
    expect(cardText(world, card)).toMatch(/Succeeded/);
    expect(await threadReply(world, card, /Created Intercom secret/)).toContain('secrets/');
  });

  it('the requester cannot approve their own request', async () => {
    const { id, card } = await openRequest(world, 'create web Self Approved');
    expect(await (await world.bot.click('ivs_approve', id, REQUESTER)).reply()).toMatch(/own request/);
    expect(cardText(world, card)).toContain('0/1');
    expect(world.intercom.callsTo('create')).toHaveLength(0);
    await world.bot.command(`cancel ${id}`);
    await threadReply(world, card, /Cancelled/);
  });

  it('a non-approver, a bot, a deactivated user and a user of another team do not count', async () => {
    world.slack.setUser({ id: 'UBOTX', isBot: true });
    world.slack.setUser({ id: 'UGONE', deleted: true });
    const { id, card } = await openRequest(world, 'create web Outsiders');
    const cases: Array<[string, RegExp, { userTeamId?: string }]> = [
      [OUTSIDER, /not in IVS_APPROVERS/, {}],
      ['UBOTX', /bots/, {}],
      ['UGONE', /deactivated/, {}],
      [APPROVER, /another Slack workspace/, { userTeamId: 'T999' }],
    ];
    for (const [user, expected, opts] of cases) {
      expect(await (await world.bot.click('ivs_approve', id, user, opts)).reply()).toMatch(expected);
    }
    expect(cardText(world, card)).toContain('0/1');
    await world.bot.command(`cancel ${id}`);
    await threadReply(world, card, /Cancelled/);
  });

  it('a click on a final request is refused and changes nothing', async () => {
    const { id, card } = await openRequest(world, 'create web Final One');
    await world.bot.command(`cancel ${id}`);
    await threadReply(world, card, /Cancelled/);
    expect(await (await world.bot.click('ivs_approve', id, APPROVER)).reply()).toMatch(/cancelled: it cannot be approved/);
    expect(world.intercom.callsTo('create')).toHaveLength(0);
    expect(buttonsOf(world, card)).toEqual([]);
  });

  it('reject asks for a reason in a modal and the reason shows, escaped, in the thread', async () => {
    const { id, card } = await openRequest(world, 'create web Rejected One');
    await world.bot.click('ivs_reject', id, APPROVER);
    const opened = await world.slack.waitFor('views.open', (c) => JSON.stringify(c.args['view']).includes(id));
    expect((opened.args['view'] as { callback_id: string }).callback_id).toBe('ivs_reject_modal');
    const res = await world.bot.submitView('ivs_reject_modal', APPROVER, id, { reason: { reason: plainTextValue('not now <!channel> <http://evil|bank>') } });
    expect(res.status).toBe(200);
    const reply = await threadReply(world, card, /Rejected by <@U222>/);
    expect(reply).toContain('&lt;!channel&gt;');
    expect(reply).not.toContain('<!channel>');
    expect(buttonsOf(world, card)).toEqual([]);
    expect(world.intercom.callsTo('create')).toHaveLength(0);
  });

  it('an empty reject reason is refused inside the modal', async () => {
    const res = await world.bot.submitView('ivs_reject_modal', APPROVER, 'R-AAAAAA', { reason: { reason: plainTextValue('  ') } });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ response_action: 'errors' });
  });

  it('a reject submitted for an unknown request, or one in a channel this replica does not serve, is refused inside the modal and rejects nothing', async () => {
    const unknown = await world.bot.submitView('ivs_reject_modal', APPROVER, 'R-ZZZZZZ', { reason: { reason: plainTextValue('no') } });
    expect(unknown.json()).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringMatching(/does not exist/) } });

    const { id, card } = await openRequest(world, 'create web Elsewhere Rejected');
    // A replica whose IVS_CHANNELS no longer include the request's channel (narrowed, or mid-rollout).
    const narrowed = await world.startReplica({}, { IVS_CHANNELS: 'C222' });
    const res = await narrowed.submitView('ivs_reject_modal', APPROVER, id, { reason: { reason: plainTextValue('sneaky') } });
    expect(res.json()).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringMatching(/does not work in/) } });
    expect((await world.bot.bot.requests.get(id))?.state).toBe('pending');
    expect(world.slack.threadReplies(card.channel, card.ts).some((m) => /Rejected by/.test(m.text ?? ''))).toBe(false);
    await narrowed.stop();
    await world.bot.command(`cancel ${id}`);
  });

  it('a create form submitted for a channel outside IVS_CHANNELS is refused inside the modal', async () => {
    const res = await world.bot.submitView('ivs_create_modal', REQUESTER, 'C999', {
      name: { name: plainTextValue('Wrong Channel') },
      platforms: { platforms: checkboxesValue(['web']) },
      reason: { reason: plainTextValue('') },
    });
    expect(res.json()).toMatchObject({ response_action: 'errors', errors: { name: expect.stringMatching(/does not work in this channel/) } });
  });

  it('an approver may withdraw their approval while the request is pending', async () => {
    const world2 = await startWorld({ env: { IVS_APPROVALS_REQUIRED: '2' } });
    try {
      const { id, card } = await openRequest(world2, 'create web Withdrawn');
      await world2.bot.click('ivs_approve', id, APPROVER);
      await threadReply(world2, card, /Approved by <@U222> \(1\/2\)/);
      expect(buttonsOf(world2, card)).toContain('ivs_withdraw');
      await world2.bot.command(`withdraw ${id}`, APPROVER);
      await threadReply(world2, card, /withdrew/);
      expect(cardText(world2, card)).toContain('0/2');
    } finally {
      await world2.close();
    }
  });

  it('/ivs create with no arguments opens a modal whose submission opens the same kind of request', async () => {
    const ack = await world.bot.command('create');
    expect(ack.status).toBe(200);
    const opened = await world.slack.waitFor('views.open', (c) => (c.args['view'] as { callback_id?: string }).callback_id === 'ivs_create_modal');
    const view = opened.args['view'] as { private_metadata: string };
    expect(view.private_metadata).toBe(CHANNEL);

    const invalid = await world.bot.submitView('ivs_create_modal', REQUESTER, CHANNEL, {
      name: { name: plainTextValue('Modal Secret') },
      platforms: { platforms: checkboxesValue([]) },
      reason: { reason: plainTextValue('') },
    });
    expect(invalid.json()).toMatchObject({ response_action: 'errors', errors: { platforms: expect.any(String) } });

    const ok = await world.bot.submitView('ivs_create_modal', REQUESTER, CHANNEL, {
      name: { name: plainTextValue('Modal Secret') },
      platforms: { platforms: checkboxesValue(['web', 'android']) },
      reason: { reason: plainTextValue('from the modal') },
    });
    expect(ok.status).toBe(200);
    const confirmation = await world.slack.waitFor('chat.postEphemeral', (c) => /Request R-[0-9A-Z]{6} opened/.test(String(c.args['text'])));
    const id = /R-[0-9A-Z]{6}/.exec(String(confirmation.args['text']))![0];
    const card = await cardOf(world, id);
    expect(cardText(world, card)).toContain('Modal Secret');
    expect(cardText(world, card)).toContain('android');
    await world.bot.command(`cancel ${id}`);
    await threadReply(world, card, /Cancelled/);
  });

  it("the Withdraw button takes the clicker's approval back", async () => {
    const world2 = await startWorld({ env: { IVS_APPROVALS_REQUIRED: '2' } });
    try {
      const { id, card } = await openRequest(world2, 'create web Withdraw Button');
      await world2.bot.click('ivs_approve', id, APPROVER);
      await threadReply(world2, card, /Approved by <@U222>/);
      expect(await (await world2.bot.click('ivs_withdraw', id, APPROVER_2)).reply()).toMatch(/have not approved/);
      await world2.bot.click('ivs_withdraw', id, APPROVER);
      await threadReply(world2, card, /withdrew/);
      expect(cardText(world2, card)).toContain('0/2');
    } finally {
      await world2.close();
    }
  });

  it('unknown request ids and malformed commands get a clear ephemeral error', async () => {
    const unknown = await world.bot.command('status R-ZZZZZZ');
    expect(unknown.status).toBe(200);
    expect(await (await world.bot.command('cancel R-ZZZZZZ')).reply()).toMatch(/no request R-ZZZZZZ/);

    const bad = (await world.bot.command('create webb Foo')).json() as { text: string };
    expect(bad.text).toMatch(/webb/);
    const long = (await world.bot.command(`create web ${'x'.repeat(1200)}`)).json() as { text: string };
    expect(long.text).toMatch(/limit is 1000/);
    const noId = (await world.bot.command('status nope')).json() as { text: string };
    expect(noId.text).toMatch(/request id/i);
  });

  it('a delete of an unknown secret id is refused ephemerally', async () => {
    expect(await (await world.bot.command('delete 4242 cleanup')).reply()).toMatch(/no secret with id `4242`/);
  });

  it('/ivs requests lists open requests and /ivs status shows one', async () => {
    const { id, card } = await openRequest(world, 'create android Listed One');
    expect(await (await world.bot.command('requests')).reply()).toContain(id);
    const status = await (await world.bot.command(`status ${id}`)).reply();
    expect(status).toMatch(/pending/i);
    expect(status).toMatch(/History/);
    expect(status).toMatch(/requested/);
    await world.bot.command(`cancel ${id}`);
    await threadReply(world, card, /Cancelled/);
  });

  it('a requester can hold only a few open requests at once', async () => {
    const opened = [];
    for (let i = 0; i < 3; i++) opened.push(await openRequest(world, `create web Flood ${i}`, APPROVER_2));
    expect(await (await world.bot.command('create web Flood 4', APPROVER_2)).reply()).toMatch(/already have 3 open requests/);
    for (const { id } of opened) await world.bot.command(`cancel ${id}`, APPROVER_2);
  });

  it('a request nobody else could approve is refused when opened', async () => {
    const solo = await startWorld({ env: { IVS_APPROVERS: REQUESTER } });
    try {
      expect(await (await solo.bot.command('create web Lonely')).reply()).toMatch(/could never be approved/);
      expect(solo.slack.callsTo('chat.postMessage').filter((c) => c.args['channel'] === CHANNEL)).toHaveLength(0);
    } finally {
      await solo.close();
    }
  });
});
