import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/core/request-id';
import type { Operation } from '../../src/core/request';
import { connectRedis } from '../../src/redis/connection';
import { dumpRedis, findLeaks, materialForms } from '../support/leak-canary';
import {
  APPROVER,
  APPROVER_2,
  REQUESTER,
  VAULT_BASE,
  buttonsOf,
  cardText,
  openRequest,
  seedSecretWithMaterial,
  startWorld,
  threadReply,
  type World,
} from '../support/bot-harness';

/** The Approve button's confirm dialog text on the card's current version. */
function approveDialog(world: World, card: { channel: string; ts: string }): string {
  const blocks = (world.slack.message(card.channel, card.ts)?.blocks ?? []) as Array<{
    type: string;
    elements?: Array<{ action_id?: string; confirm?: { text?: { text?: string } } }>;
  }>;
  const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'ivs_approve');
  return approve?.confirm?.text?.text ?? '';
}

describe('rotate --compromised: a leaked secret is replaced without waiting for the overlap', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ env: { IVS_MIN_OVERLAP: '1h' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('needs a reason, said clearly and only to the person who typed it; nothing is opened', async () => {
    const old = seedSecretWithMaterial(world, 'Leaky Web', ['web'], 30, { current: true });
    const answer = await world.bot.command(`rotate ${old} --compromised`);
    expect(answer.text).toMatch(/A compromised rotation needs a reason/);
    expect(answer.text).toContain('"response_type":"ephemeral"');
    expect(await world.bot.bot.requests.listOpen()).toEqual([]);
  });

  it('/ivs plan rotate <id> --compromised shows that the overlap is skipped and what breaks', async () => {
    const old = seedSecretWithMaterial(world, 'Plan Web', ['web'], 30);
    const plan = await (await world.bot.command(`plan rotate ${old} --compromised`)).reply();
    expect(plan).toMatch(/COMPROMISED/);
    expect(plan).toMatch(/no 1h overlap wait/);
    expect(plan).toMatch(/every session signed with it breaks at once/);
    const normal = await (await world.bot.command(`plan rotate ${old}`)).reply();
    expect(normal).not.toMatch(/COMPROMISED/);
    expect(normal).toMatch(/finishing is allowed after 1h/);
  });

  it('end to end: flagged on card and thread, Finish allowed right after step 1, the old secret deleted after the second approval, the successor and current/web intact', async () => {
    const old = seedSecretWithMaterial(world, 'Production Web', ['web'], 400, { current: true });
    const { id, card } = await openRequest(world, `rotate ${old} --compromised signing secret pasted in a public gist`);

    expect(cardText(world, card)).toMatch(/COMPROMISED: secret `\d+` is treated as leaked/);
    expect(cardText(world, card)).toContain('Rotate COMPROMISED secret');
    expect(await threadReply(world, card, /requested/)).toMatch(/^`default` · :rotating_light: \*COMPROMISED/);

    // Stored on the request in Redis, and covered by the fingerprint.
    const stored = await world.bot.bot.requests.get(id);
    expect(stored?.operation).toMatchObject({ action: 'rotate', secretId: old, compromised: true });
    expect(stored?.reason).toBe('signing secret pasted in a public gist');
    const redis = connectRedis(world.redis.url);
    try {
      const body = JSON.parse((await redis.hget(`${world.env['REDIS_KEY_PREFIX']}req:${id}`, 'body')) ?? '{}') as { operation?: Operation };
      expect(body.operation).toMatchObject({ compromised: true });
    } finally {
      redis.disconnect();
    }
    const { compromised: _flag, ...ordinary } = stored!.operation as Extract<Operation, { action: 'rotate' }>;
    expect(stored!.fingerprint).toBe(fingerprint(id, stored!.operation));
    expect(stored!.fingerprint).not.toBe(fingerprint(id, ordinary));
    expect(cardText(world, card)).toContain(stored!.fingerprint);

    // Step 1 still needs its approval.
    expect(await (await world.bot.click('ivs_approve', id, REQUESTER)).reply()).toMatch(/own request/);
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Step 1 done/)).toMatch(/compromised/);
    const successor = world.intercom.secrets().find((s) => s.name === `Production Web [${id}]` && !s.deleted)!;
    expect(successor).toBeDefined();
    expect(cardText(world, card)).toMatch(/Finishing is allowed now/);

    // No IVS_MIN_OVERLAP: Finish right away (the clock has not moved).
    await world.bot.click('ivs_finish', id, REQUESTER);
    await threadReply(world, card, /asked to finish/);
    expect(buttonsOf(world, card)).toEqual(['ivs_approve', 'ivs_reject']);
    expect(approveDialog(world, card)).toMatch(/COMPROMISED: every session signed with it breaks at once/);
    expect(approveDialog(world, card).length).toBeLessThanOrEqual(300);

    // The delete step still needs its own approval, from someone other than who asked to finish.
    expect(await (await world.bot.click('ivs_approve', id, REQUESTER)).reply()).toMatch(/own request|asked to finish/);
    expect(world.intercom.callsTo('delete')).toHaveLength(0);
    await world.bot.click('ivs_approve', id, APPROVER_2);
    expect(await threadReply(world, card, /Succeeded/)).toMatch(/rotation finished/);

    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(true);
    expect(world.vault.metadata(`${VAULT_BASE}/secrets/${old}`)?.custom_metadata?.['intercom_deleted_at']).toBeTruthy();
    expect(world.intercom.secrets().find((s) => s.id === successor.id)?.deleted).toBe(false);
    expect(world.vault.read(`${VAULT_BASE}/secrets/${successor.id}`)?.['secret']).toBe(successor.material);
    expect(world.vault.read(`${VAULT_BASE}/current/web`)?.['intercom_secret_id']).toBe(successor.id);
    expect(world.vault.read(`${VAULT_BASE}/current/web`)?.['secret']).toBe(successor.material);
    expect(cardText(world, card)).toMatch(/COMPROMISED/);
  }, 60_000);

  it('a normal rotation still refuses an early Finish', async () => {
    const old = seedSecretWithMaterial(world, 'Normal Web', ['web'], 400, { current: true });
    const { id, card } = await openRequest(world, `rotate ${old} yearly`);
    expect(cardText(world, card)).not.toMatch(/COMPROMISED/);
    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Step 1 done/);
    expect(await (await world.bot.click('ivs_finish', id, REQUESTER)).reply()).toMatch(/Too early: both secrets must coexist for 1h; .* left/);
    expect(buttonsOf(world, card)).toEqual(['ivs_finish', 'ivs_abandon']);
    expect(world.intercom.secrets().find((s) => s.id === old)?.deleted).toBe(false);
  });

  it('canary: no issued material reached Slack, the answers, the logs or Redis', async () => {
    const forms = materialForms(world.intercom.issuedMaterial());
    expect(forms.length).toBeGreaterThan(0);
    const redis = connectRedis(world.redis.url);
    try {
      expect(findLeaks(forms, { slack: world.slack.everything(), answers: world.answers(), logs: world.logs.text(), redis: await dumpRedis(redis) })).toEqual(
        [],
      );
    } finally {
      redis.disconnect();
    }
  });
});
