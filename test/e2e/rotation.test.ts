import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS } from '../../src/tuning';
import { connectRedis } from '../../src/redis/connection';
import { plainTextValue } from '../../emulators/slack-payloads';
import {
  APPROVER,
  APPROVER_2,
  REQUESTER,
  buttonsOf,
  cardText,
  openRequest,
  startWorld,
  threadReply,
  seedSecretWithMaterial,
  type World,
  VAULT_BASE,
} from '../support/bot-harness';

const BASE = VAULT_BASE;
const HOUR = 3_600_000;

describe('rotation: one request, two separately approved steps', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  /** A rotation of a fresh secret: step 1 done, the overlap passed, Finish clicked; its delete step waits for approval. */
  async function rotationAtDeleteStep(name: string, platform: 'web' | 'ios' | 'android') {
    const old = seedSecretWithMaterial(world, name, [platform], 400, { current: true });
    const { id, card } = await openRequest(world, `rotate ${old}`);
    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Step 1 done/);
    world.clock.advance(HOUR + 1_000);
    await world.bot.click('ivs_finish', id, REQUESTER);
    await threadReply(world, card, /asked to finish/);
    return { old, id, card };
  }

  it('creates the successor, waits for the overlap, then deletes the old secret with a second approval', async () => {
    const old = seedSecretWithMaterial(world, 'Production Web', ['web'], 400, { current: true });
    const { id, card } = await openRequest(world, `rotate ${old} yearly rotation`);

    // A second rotation of the same secret points to the open one.
    expect(await (await world.bot.command(`rotate ${old} again`, APPROVER)).reply()).toContain(id);

    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Step 1 done/);
    const successor = world.intercom.secrets().find((s) => s.name === `Production Web [${id}]` && !s.deleted);
    expect(successor).toBeDefined();
    expect(world.vault.read(`${BASE}/secrets/${successor!.id}`)?.['secret']).toBe(successor!.material);
    expect(world.vault.read(`${BASE}/current/web`)?.['intercom_secret_id']).toBe(successor!.id);
    expect(buttonsOf(world, card)).toEqual(['ivs_finish', 'ivs_abandon']);
    expect(cardText(world, card)).toMatch(/roll/i);

    // Too early: refused with the time left.
    expect(await (await world.bot.click('ivs_finish', id, REQUESTER)).reply()).toMatch(/Too early: .* left/);

    world.clock.advance(HOUR + 1_000);
    await world.bot.click('ivs_finish', id, APPROVER);
    await threadReply(world, card, /asked to finish/);
    expect(buttonsOf(world, card)).toEqual(['ivs_approve', 'ivs_reject']);

    // Neither whoever asked to finish nor the requester may approve the delete.
    expect(await (await world.bot.click('ivs_approve', id, APPROVER)).reply()).toMatch(/asked to finish/);
    expect(await (await world.bot.click('ivs_approve', id, REQUESTER)).reply()).toMatch(/own request/);
    expect(world.intercom.callsTo('delete')).toHaveLength(0);

    await world.bot.click('ivs_approve', id, APPROVER_2);
    expect(await threadReply(world, card, /Succeeded/)).toMatch(/rotation finished/);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(true);
    expect(world.intercom.secrets().find((s) => s.id === successor!.id)?.deleted).toBe(false);
    expect(world.vault.metadata(`${BASE}/secrets/${old}`)?.custom_metadata?.['intercom_deleted_at']).toBeTruthy();
    expect(world.vault.read(`${BASE}/current/web`)?.['intercom_secret_id']).toBe(successor!.id);
    expect(buttonsOf(world, card)).toEqual([]);

    // The audit trail from the stream: every event of both steps, in order, chain verified.
    const audit = await (await world.bot.command(`audit ${id}`)).reply();
    const order = ['requested', 'approved', 'executing', 'created', 'succeeded', 'finish_requested', 'approved', 'executing', 'deleted', 'succeeded'];
    let at = -1;
    for (const type of order) {
      const next = audit.indexOf(type, at + 1);
      expect(next, `${type} after position ${at}`).toBeGreaterThan(at);
      at = next;
    }
    expect(audit).toMatch(/verified/i);
  });

  it('a delete step that fails (Intercom down) deletes nothing and goes back to waiting; finishing again then succeeds', async () => {
    const { old, id, card } = await rotationAtDeleteStep('Android app', 'android');
    for (let i = 0; i < 3; i++) world.intercom.failNext('list', { status: 503 });
    await world.bot.click('ivs_approve', id, APPROVER_2);
    expect(await threadReply(world, card, /Failed/)).toMatch(
      /could not check the successor \([^)]*\): nothing was deleted\. Finish rotation again, or Abandon <@U111>$/,
    );
    expect(buttonsOf(world, card)).toEqual(['ivs_finish', 'ivs_abandon']);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(false);

    // A second rotation of the secret is still refused: this one is still open.
    expect(await (await world.bot.command(`rotate ${old} again`, APPROVER)).reply()).toContain(id);
    await world.bot.click('ivs_finish', id, REQUESTER);
    const askedTwice = () => world.slack.threadReplies(card.channel, card.ts).filter((m) => /asked to finish/.test(m.text ?? '')).length === 2;
    await world.slack.waitFor('chat.postMessage', () => askedTwice());
    await world.bot.click('ivs_approve', id, APPROVER_2);
    expect(await threadReply(world, card, /Succeeded/)).toMatch(/rotation finished/);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(true);
  });

  it('a delete step taken over after its DELETE was sent is not reported as "nothing was deleted" when Intercom cannot be listed', async () => {
    const victim = await world.startReplica({ intercomTimeoutMs: 120_000 });
    const { old, id, card } = await rotationAtDeleteStep('Web widget', 'web');
    // Intercom carries the DELETE out but holds its answer; the replica that sent it dies.
    world.intercom.failNext('delete', { kind: 'apply-then-stall', ms: 120_000 });
    await victim.click('ivs_approve', id, APPROVER_2);
    await world.intercom.waitFor('delete', (c) => c.path.endsWith(`/${old}`));
    await victim.kill();

    for (let i = 0; i < 3; i++) world.intercom.failNext('list', { status: 503 });
    world.clock.advance(LEASE_MS + 1);
    await world.bot.bot.sweep();
    expect(await threadReply(world, card, /Not finished yet/)).toMatch(/whether the delete happened/);
    expect(world.slack.threadReplies(card.channel, card.ts).some((m) => /Nothing was deleted/.test(m.text ?? ''))).toBe(false);

    // The next takeover can list: the secret is gone, and the rotation ends as finished.
    world.clock.advance(LEASE_MS + 1);
    await world.bot.bot.sweep();
    expect(await threadReply(world, card, /Succeeded/)).toMatch(/rotation finished/);
    expect(world.vault.metadata(`${BASE}/secrets/${old}`)?.custom_metadata?.['intercom_deleted_at']).toBeTruthy();
  });

  it('a rejected delete step goes back to waiting; the rotation can then be abandoned and both secrets stay', async () => {
    const { old, id, card } = await rotationAtDeleteStep('Mobile', 'ios');
    await world.bot.submitView('ivs_reject_modal', APPROVER_2, id, { reason: { reason: plainTextValue('web signers not rolled out yet') } });
    await threadReply(world, card, /Rejected by <@U333>/);
    expect(buttonsOf(world, card)).toEqual(['ivs_finish', 'ivs_abandon']);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(false);

    await world.bot.click('ivs_abandon', id, REQUESTER);
    await threadReply(world, card, /abandoned/);
    expect(buttonsOf(world, card)).toEqual([]);
    const live = world.intercom.secrets().filter((s) => !s.deleted && s.supports_ios);
    expect(live.map((s) => s.id)).toContain(old);
    expect(live).toHaveLength(2);
  });

  it('a replica killed between the steps loses nothing: another finishes the rotation', async () => {
    const old = seedSecretWithMaterial(world, 'Android', ['android'], 400, { current: true });
    const replica = await world.startReplica();
    const { id, card } = await openRequest(world, `rotate ${old}`, REQUESTER, replica);
    await replica.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Step 1 done/);
    await replica.kill();

    world.clock.advance(HOUR + 1_000);
    await world.bot.click('ivs_finish', id, REQUESTER);
    await threadReply(world, card, /asked to finish/);
    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /rotation finished/);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(true);
  });

  it('plan shows before/after and guards and writes nothing anywhere', async () => {
    const only = seedSecretWithMaterial(world, 'Plan target', ['web'], 400, { current: true });
    const intercomWrites = () => world.intercom.calls.filter((c) => c.method !== 'GET').length;
    const vaultWrites = () => world.vault.calls.filter((c) => c.method !== 'GET').length;
    const [iw, vw, posts] = [intercomWrites(), vaultWrites(), world.slack.callCount('chat.postMessage')];
    const plan = await (await world.bot.command(`plan delete ${only}`)).reply();
    expect(plan).toMatch(/Dry run of delete/);
    expect(plan).toMatch(/web: \d+ → \d+/);
    expect(await (await world.bot.command('plan rotate 99999')).reply()).toMatch(/no secret with id 99999/);
    expect(await (await world.bot.command('plan create web,ios New One')).reply()).toMatch(/ios: \d+ → \d+/);
    expect(intercomWrites()).toBe(iw);
    expect(vaultWrites()).toBe(vw);
    expect(world.slack.callCount('chat.postMessage')).toBe(posts);
  });

  it('audit detects a tampered entry loudly', async () => {
    const { id, card } = await openRequest(world, 'create web Tamper Target');
    await world.bot.command(`cancel ${id}`);
    await threadReply(world, card, /Cancelled/);
    const redis = connectRedis(world.redis.url);
    try {
      const stream = `${world.env['REDIS_KEY_PREFIX']}audit`;
      const entries = await redis.xrange(stream, '-', '+');
      const victim = entries.find(([, fields]) => fields.includes(id) && fields.includes('requested'));
      expect(victim).toBeDefined();
      await redis.xdel(stream, victim![0]);
    } finally {
      redis.disconnect();
    }
    expect(await (await world.bot.command(`audit ${id}`)).reply()).toMatch(/broken/i);
  });
});
