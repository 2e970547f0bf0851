import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkboxesValue, plainTextValue, staticSelectValue } from '../../emulators/slack-payloads';
import type { IntercomDouble } from '../../emulators/intercom';
import type { SlackMessage } from '../../emulators/slack-api';
import { findLeaks, materialForms } from '../support/leak-canary';
import { APPROVER, APPROVER_2, CHANNEL, OUTSIDER, REQUESTER, startWorld, threadReply, type World } from '../support/bot-harness';

/**
 * SPEC §9 end to end: one bot, two Intercom workspaces (`us` and `eu`, each its own Intercom double
 * and token), served together in #ops (C111) and `eu` alone in C222. U222 approves only in `us`,
 * U333 only in `eu`; U111 may request in both.
 */
const EU_ONLY = 'C222';
const US_BASE = 'secret/intercom/identity-verification/us';
const EU_BASE = 'secret/intercom/identity-verification/eu';

describe('several Intercom workspaces in one bot', () => {
  let world: World;
  let us: IntercomDouble;
  let eu: IntercomDouble;

  beforeAll(async () => {
    world = await startWorld({
      workspaces: [
        { name: 'us', yaml: `channels: [${CHANNEL}]\nrequesters: [${REQUESTER}]\napprovers: [${REQUESTER}, ${APPROVER}]` },
        { name: 'eu', yaml: `channels: [${CHANNEL}, ${EU_ONLY}]\nrequesters: [${REQUESTER}]\napprovers: [${REQUESTER}, ${APPROVER_2}]\nmin_overlap: 1s` },
      ],
      // A stalled create must stay a stalled create (not a timeout) for the one-at-a-time test.
      bot: { intercomTimeoutMs: 30_000 },
    });
    us = world.intercoms.get('us') as IntercomDouble;
    eu = world.intercoms.get('eu') as IntercomDouble;
  });
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => {
    // Both doubles mint ids from 100 again, so "the same id" exists in both; Vault starts empty too.
    us.reset();
    eu.reset();
    world.vault.reset();
  });

  /** Opens a request with `/ivs <text>` in `channel` and returns its id and card. */
  async function open(text: string, channel = CHANNEL, user = REQUESTER): Promise<{ id: string; card: SlackMessage }> {
    const reply = await (await world.bot.command(text, user, { channel })).reply();
    const id = /Request (R-[0-9A-Z]{6}) opened/.exec(reply)?.[1];
    if (!id) throw new Error(`request not opened: ${reply}`);
    const call = await world.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes(id));
    const card = world.slack.message(channel, String((call.response as { ts?: unknown } | null)?.ts ?? ''));
    if (!card) throw new Error(`no card for ${id}`);
    return { id, card };
  }

  const headerOf = (card: SlackMessage) => {
    const current = world.slack.message(card.channel, card.ts);
    const blocks = (current?.blocks ?? []) as Array<{ text?: { text?: string } }>;
    return blocks[0]?.text?.text ?? '';
  };

  it('/ivs list in a channel of two workspaces lists each in turn, each from its own Intercom', async () => {
    us.seed({ name: 'US Web', platforms: ['web'] });
    eu.seed({ name: 'EU Web', platforms: ['web'] });
    eu.seed({ name: 'EU iOS', platforms: ['ios'] });
    const ack = await world.bot.command('list');
    expect(ack.status).toBe(200);
    await world.slack.waitForResponse((p) => p.id === ack.responseUrlId && JSON.stringify(p.body).includes('EU iOS'));
    const lists = world.slack.responses.filter((p) => p.id === ack.responseUrlId).map((p) => JSON.stringify(p.body));
    expect(lists).toHaveLength(2);
    expect(lists[0]).toContain('Identity verification secrets · us');
    expect(lists[0]).toContain('US Web');
    expect(lists[0]).not.toContain('EU Web');
    expect(lists[1]).toContain('Identity verification secrets · eu');
    expect(lists[1]).toContain('EU Web');
    expect(lists[1]).not.toContain('US Web');
    // The workspace word narrows it to one.
    const one = await world.bot.command('eu list');
    const text = one.text.includes('EU Web') ? one.text : await one.reply();
    expect(text).toContain('EU Web');
    expect(text).not.toContain('US Web');
  });

  it('a command without the workspace word in a channel of two is refused, naming the choices', async () => {
    for (const text of ['create web Web 2027', 'delete 100', 'rotate 100', 'plan delete 100', 'requests']) {
      const ack = await world.bot.command(text);
      expect(ack.text).toContain('several Intercom workspaces: `us`, `eu`');
      expect(ack.text).toContain('/ivs us ');
    }
    expect(us.calls).toHaveLength(0);
    expect(eu.calls).toHaveLength(0);
    const wrong = await world.bot.command('eu create web Web 2027', REQUESTER, { channel: 'C999' });
    expect(wrong.text).toMatch(/works only in/);
    const notHere = await world.bot.command('us list', REQUESTER, { channel: EU_ONLY });
    expect(notHere.text).toContain('does not serve workspace `us`; it serves `eu`');
  });

  it('/ivs help shows the workspaces of the channel', async () => {
    expect((await world.bot.command('help')).text).toContain('workspaces `us`, `eu`');
    expect((await world.bot.command('help', REQUESTER, { channel: EU_ONLY })).text).toContain('workspace `eu`');
  });

  it('an eu create approved by an eu approver reaches only the eu Intercom and lands under …/eu/secrets/<id>; a us-only approver is refused', async () => {
    const { id, card } = await open('eu create web Web 2027');
    expect(headerOf(card)).toBe(`${id} · Create secret · eu`);
    expect(await threadReply(world, card, /requested/)).toMatch(/^`eu` · /);

    const refused = await (await world.bot.click('ivs_approve', id, APPROVER, { messageTs: card.ts })).reply();
    expect(refused).toContain('not in the approvers of workspace eu');
    expect(eu.callsTo('create')).toHaveLength(0);

    await world.bot.click('ivs_approve', id, APPROVER_2, { messageTs: card.ts });
    await threadReply(world, card, /Succeeded/);
    expect(us.calls).toHaveLength(0);
    const secret = eu.secrets().find((s) => s.name === `Web 2027 [${id}]`);
    expect(secret).toBeDefined();
    expect(world.vault.read(`${EU_BASE}/secrets/${secret?.id}`)?.['secret']).toBe(secret?.material);
    expect(world.vault.read(`${EU_BASE}/current/web`)?.['intercom_secret_id']).toBe(secret?.id);
    expect(world.vault.read(`${US_BASE}/secrets/${secret?.id}`)).toBeUndefined();
    expect(await threadReply(world, card, /Created Intercom secret/)).toContain(`${EU_BASE.replace('secret/', 'secret/data/')}/secrets/`);

    // The audit answer names the workspace too.
    const audit = await (await world.bot.command(`audit ${id}`)).reply();
    expect(audit).toContain(`Audit trail · ${id} · eu`);
    expect(audit).toContain('workspace=eu');
    // A request id is global: status needs no workspace word, but a wrong one is refused.
    expect(await (await world.bot.command(`us status ${id}`)).reply()).toContain(`${id} belongs to workspace \`eu\`, not \`us\``);
    const forms = materialForms([...eu.issuedMaterial(), ...us.issuedMaterial()]);
    expect(findLeaks(forms, { answers: world.answers(), slack: JSON.stringify(world.slack.calls), logs: world.logs.text() })).toEqual([]);
  });

  it('in a channel of one workspace the word may be left out', async () => {
    const { id, card } = await open('create ios App 2027', EU_ONLY);
    expect(headerOf(card)).toContain('· eu');
    await world.bot.command(`cancel ${id}`, REQUESTER, { channel: EU_ONLY });
    await threadReply(world, card, /Cancelled/);
  });

  it('the same secret id in both workspaces is never confused: plan, delete and rotate act on the named one', async () => {
    const usId = us.seed({ name: 'US Web', platforms: ['web'] });
    const euId = eu.seed({ name: 'EU Web', platforms: ['web'] });
    eu.seed({ name: 'EU Web 2', platforms: ['web'] });
    expect(usId).toBe(euId);
    for (const [base, name] of [
      [US_BASE, 'US Web'],
      [EU_BASE, 'EU Web'],
    ] as const) {
      world.vault.seed(`${base}/secrets/${usId}`, { secret: `seeded-${name}`, intercom_secret_id: usId, name });
    }

    const plan = await (await world.bot.command(`eu plan delete ${euId}`)).reply();
    expect(plan).toContain('workspace `eu`');
    expect(plan).toContain('web: 2 → 1');
    const usPlan = await (await world.bot.command(`us plan delete ${usId}`)).reply();
    expect(usPlan).toContain('web: 1 → 0');

    // Rotations of "the same" id in two workspaces are two secrets: both may be open at once.
    const usRotation = await open(`us rotate ${usId} yearly`);
    const euRotation = await open(`eu rotate ${euId} yearly`);
    expect(headerOf(usRotation.card)).toContain('· us');
    expect(headerOf(euRotation.card)).toContain('· eu');
    expect(await (await world.bot.command(`eu rotate ${euId}`)).reply()).toContain(`already has an open rotation: ${euRotation.id}`);
    for (const r of [usRotation, euRotation]) {
      await world.bot.command(`cancel ${r.id}`);
      await threadReply(world, r.card, /Cancelled/);
    }

    const { id, card } = await open(`eu delete ${euId} -- retired`);
    expect(JSON.stringify(world.slack.message(card.channel, card.ts)?.blocks)).toContain('EU Web');
    await world.bot.click('ivs_approve', id, APPROVER_2, { messageTs: card.ts });
    await threadReply(world, card, /Succeeded/);
    expect(eu.callsTo('delete')).toHaveLength(1);
    expect(us.callsTo('delete')).toHaveLength(0);
    expect(us.secrets().find((s) => s.id === usId)?.deleted ?? false).toBe(false);
    expect(world.vault.metadata(`${EU_BASE}/secrets/${euId}`)?.custom_metadata?.['intercom_deleted_at']).toBeDefined();
    expect(world.vault.metadata(`${US_BASE}/secrets/${usId}`)?.custom_metadata?.['intercom_deleted_at']).toBeUndefined();
  });

  it('one create or delete at a time per workspace: an eu create does not wait for a stalled us create', async () => {
    us.failNext('create', { kind: 'apply-then-stall', ms: 6_000 });
    const slow = await open('us create web Slow US');
    await world.bot.click('ivs_approve', slow.id, APPROVER, { messageTs: slow.card.ts });
    await us.waitFor('create');

    // The rule still holds inside us: a second us create waits for the first.
    const queued = await open('us create web Queued US');
    await world.bot.click('ivs_approve', queued.id, APPROVER, { messageTs: queued.card.ts });
    await threadReply(world, queued.card, /waiting/);

    const fast = await open('eu create web Fast EU');
    await world.bot.click('ivs_approve', fast.id, APPROVER_2, { messageTs: fast.card.ts });
    await threadReply(world, fast.card, /Succeeded/);
    expect((await world.bot.bot.requests.get(slow.id))?.state).toBe('executing');

    await threadReply(world, slow.card, /Succeeded/, 20_000);
    await threadReply(world, queued.card, /Succeeded/, 20_000);
  });

  it('the create form offers the workspaces of the channel and creates in the one chosen', async () => {
    await world.bot.command('create');
    const opened = await world.slack.waitFor('views.open', (c) => JSON.stringify(c.args['view']).includes('static_select'));
    const view = JSON.stringify(opened.args['view']);
    expect(view).toContain('"value":"us"');
    expect(view).toContain('"value":"eu"');

    const values = {
      workspace: { workspace: staticSelectValue('eu') },
      name: { name: plainTextValue('Modal EU') },
      platforms: { platforms: checkboxesValue(['android']) },
      reason: { reason: plainTextValue('') },
    };
    const res = await world.bot.submitView('ivs_create_modal', REQUESTER, CHANNEL, values);
    expect(res.status).toBe(200);
    const call = await world.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes('Modal EU'));
    const card = world.slack.message(CHANNEL, String((call.response as { ts?: unknown } | null)?.ts ?? ''));
    expect(card && headerOf(card)).toContain('· eu');

    // Without a choice in a channel of two, the form says so and nothing is opened.
    const { workspace: _none, ...withoutChoice } = values;
    const refused = await world.bot.submitView('ivs_create_modal', REQUESTER, CHANNEL, withoutChoice);
    expect(refused.text).toContain('Choose one of the workspaces of this channel: us, eu');
    // A workspace this channel does not serve is refused the same way.
    const outside = await world.bot.submitView('ivs_create_modal', OUTSIDER, EU_ONLY, { ...values, workspace: { workspace: staticSelectValue('us') } });
    expect(outside.text).toContain('Choose one of the workspaces of this channel: eu');
  });

  it('metrics and log lines name the workspace', async () => {
    const res = await fetch(`${world.bot.url}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/ivs_upstream_request_duration_seconds_count\{service="intercom",operation="createSecret",workspace="eu"\}/);
    expect(text).toMatch(/ivs_commands_total\{subcommand="create",outcome="accepted",workspace="eu"\}/);
    const audited = world.logs.records().filter((r) => r['audit'] === true && r['type'] === 'requested');
    expect(audited.some((r) => r['workspace'] === 'eu')).toBe(true);
    expect(world.logs.records().some((r) => r['workspace'] === 'us' && r['component'] === 'intercom')).toBe(true);
  });
});
