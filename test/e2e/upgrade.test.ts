import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { APPROVER, CHANNEL, REQUESTER, VAULT_BASE, startWorld, threadReply, type World } from '../support/bot-harness';

/**
 * SPEC §9: without IVS_CONFIG nothing has to be migrated. The keys below are written exactly as the
 * first release's store wrote them (hash fields, indexes, the rotation lock `rotation:<secret id>`,
 * the fingerprint it computed), literally, not through today's code: a pending create and an open
 * rotation left behind by the old version must carry on under the new one.
 */
const CREATE_ID = 'R-AAAA01';
const ROTATION_ID = 'R-AAAA02';
/** What the first release showed on these cards (sha256 of the operation with workspace `default`). */
const CREATE_FINGERPRINT = 'f119-b4b5';
const ROTATION_FINGERPRINT = 'caa1-58e3';

describe('an existing single-workspace Redis from the first release', () => {
  let world: World;
  let redis: Redis;
  let legacySecret: string;

  async function postCard(text: string): Promise<string> {
    const res = await fetch(`${world.slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${world.slack.token}` },
      body: JSON.stringify({ channel: CHANNEL, text }),
    });
    return String(((await res.json()) as { ts?: unknown }).ts);
  }

  beforeAll(async () => {
    world = await startWorld();
    redis = connectRedis(world.redis.url);
    const P = world.env['REDIS_KEY_PREFIX'] ?? '';
    const now = Date.now();
    legacySecret = world.intercom.seed({ name: 'Legacy Web', platforms: ['web'], createdAt: Math.floor(now / 1000) - 86_400 });
    world.vault.seed(`${VAULT_BASE}/secrets/${legacySecret}`, { secret: 'seeded-legacy-material', intercom_secret_id: legacySecret, name: 'Legacy Web' });

    const common = (id: string, createdAt: number, cardTs: string) => ({
      state: 'pending',
      requester: REQUESTER,
      approvals: '',
      approvals_required: '1',
      created_at: String(createdAt),
      expires_at: String(createdAt + 3_600_000),
      updated_at: String(createdAt),
      workspace: 'default',
      lease_owner: '',
      lease_until: '0',
      card_channel: CHANNEL,
      card_ts: cardTs,
      id,
    });
    const createTs = await postCard(`${CREATE_ID}: create secret "Old Web" (web) (pending, 0/1 approvals)`);
    const { id: _c, ...create } = common(CREATE_ID, now, createTs);
    await redis.hset(`${P}req:${CREATE_ID}`, {
      ...create,
      action: 'create',
      rotation_of: '',
      body: JSON.stringify({
        operation: { action: 'create', workspace: 'default', name: 'Old Web', platforms: ['web'] },
        fingerprint: CREATE_FINGERPRINT,
        teamId: 'T111',
        channel: CHANNEL,
        reason: 'before the upgrade',
        impact: [],
        createdAt: now,
      }),
    });
    const rotationTs = await postCard(`${ROTATION_ID}: rotate secret ${legacySecret} "Legacy Web" (web) (pending, 0/1 approvals)`);
    const { id: _r, ...rotation } = common(ROTATION_ID, now + 1, rotationTs);
    await redis.hset(`${P}req:${ROTATION_ID}`, {
      ...rotation,
      action: 'rotate',
      rotation_of: legacySecret,
      rotation: JSON.stringify({ step: 'successor' }),
      body: JSON.stringify({
        operation: { action: 'rotate', workspace: 'default', secretId: legacySecret, secretName: 'Legacy Web', platforms: ['web'] },
        fingerprint: ROTATION_FINGERPRINT,
        teamId: 'T111',
        channel: CHANNEL,
        reason: 'yearly',
        impact: [],
        createdAt: now + 1,
      }),
    });
    await redis.zadd(`${P}open`, now, CREATE_ID, now + 1, ROTATION_ID);
    await redis.zadd(`${P}pending`, now + 3_600_000, CREATE_ID, now + 3_600_001, ROTATION_ID);
    await redis.sadd(`${P}requester:${REQUESTER}`, CREATE_ID, ROTATION_ID);
    await redis.set(`${P}rotation:${legacySecret}`, ROTATION_ID);
  });
  afterAll(async () => {
    redis?.disconnect();
    await world?.close();
  });

  it('shows the old requests with the fingerprints people saw before', async () => {
    const status = await (await world.bot.command(`status ${ROTATION_ID}`)).reply();
    expect(status).toContain(ROTATION_FINGERPRINT);
    expect(status).toContain('Rotate secret · default');
    const open = await (await world.bot.command('requests')).reply();
    expect(open).toContain(CREATE_ID);
    expect(open).toContain(ROTATION_ID);
  });

  it('the old rotation lock still holds: a second rotation of that secret is refused', async () => {
    const reply = await (await world.bot.command(`rotate ${legacySecret}`)).reply();
    expect(reply).toContain(`already has an open rotation: ${ROTATION_ID}`);
  });

  it('a pending create of the old version is approved and executes into the same Vault path, with the same keys', async () => {
    const P = world.env['REDIS_KEY_PREFIX'] ?? '';
    const card = world.slack.message(CHANNEL, String(await redis.hget(`${P}req:${CREATE_ID}`, 'card_ts')));
    if (!card) throw new Error('the old card is not in the Slack double');
    await world.bot.click('ivs_approve', CREATE_ID, APPROVER, { messageTs: card.ts });
    await threadReply(world, card, /Succeeded/);
    const secret = world.intercom.secrets().find((s) => s.name === `Old Web [${CREATE_ID}]`);
    expect(secret).toBeDefined();
    expect(world.vault.read(`${VAULT_BASE}/secrets/${secret?.id}`)?.['secret']).toBe(secret?.material);
    expect(world.vault.read(`${VAULT_BASE}/current/web`)?.['intercom_secret_id']).toBe(secret?.id);

    // Only the first release's key layout: no workspace-qualified keys appeared.
    const keys = await redis.keys(`${P}*`);
    expect(keys.filter((k) => k.includes('default:'))).toEqual([]);
    expect(keys).toContain(`${P}rotation:${legacySecret}`);
    expect(await redis.hget(`${P}req:${CREATE_ID}`, 'state')).toBe('succeeded');
  });

  it('cancelling the old rotation releases its lock, and a new rotation takes the same key', async () => {
    const P = world.env['REDIS_KEY_PREFIX'] ?? '';
    expect(await (await world.bot.command(`cancel ${ROTATION_ID}`)).reply()).toContain(`You cancelled ${ROTATION_ID}`);
    expect(await redis.get(`${P}rotation:${legacySecret}`)).toBeNull();
    const reply = await (await world.bot.command(`rotate ${legacySecret}`)).reply();
    const id = /Request (R-[0-9A-Z]{6}) opened/.exec(reply)?.[1];
    expect(id).toBeDefined();
    expect(await redis.get(`${P}rotation:${legacySecret}`)).toBe(id);
    await world.bot.command(`cancel ${id}`);
  });
});
