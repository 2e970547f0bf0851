import { stepFingerprint } from '../../src/core/request-id';
import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../src/core/request';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { newRequest, rotationRequest, uniquePrefix, useTwoConnections } from './fixtures';

const redis = useTwoConnections();

const inWorkspace = (request: ApprovalRequest, workspace: string): ApprovalRequest => ({ ...request, operation: { ...request.operation, workspace } });
const rotationIn = (workspace: string, secretId: string) => inWorkspace(rotationRequest(secretId), workspace);

describe('Redis keys per workspace (SPEC §9)', () => {
  it('secret ids repeat across workspaces: one open rotation per secret of each workspace', async () => {
    const prefix = uniquePrefix();
    const store = createRedisRequestStore(redis.a, { keyPrefix: prefix });
    const us = await store.create({ request: rotationIn('us', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
    const eu = await store.create({ request: rotationIn('eu', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
    expect([us.kind, eu.kind]).toEqual(['created', 'created']);
    const again = await store.create({ request: rotationIn('eu', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
    expect(again).toEqual({ kind: 'duplicate_rotation', existing: eu.kind === 'created' ? eu.request.id : '' });
    expect(await redis.a.get(`${prefix}rotation:us:102`)).toBe(us.kind === 'created' ? us.request.id : '');
    expect(await redis.a.get(`${prefix}rotation:102`)).toBeNull();
  });

  it("the environment's one workspace keeps the first release's key rotation:<id>", async () => {
    const prefix = uniquePrefix();
    const store = createRedisRequestStore(redis.a, { keyPrefix: prefix, unqualifiedWorkspace: 'default' });
    const created = await store.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
    expect(await redis.a.get(`${prefix}rotation:102`)).toBe(created.kind === 'created' ? created.request.id : '');
    expect(await redis.a.keys(`${prefix}rotation:*`)).toEqual([`${prefix}rotation:102`]);
  });

  it('after moving from the environment to IVS_CONFIG, a rotation opened before still blocks its secret in its workspace only', async () => {
    const prefix = uniquePrefix();
    const before = createRedisRequestStore(redis.a, { keyPrefix: prefix, unqualifiedWorkspace: 'default' });
    const after = createRedisRequestStore(redis.b, { keyPrefix: prefix });
    const old = await before.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
    if (old.kind !== 'created') throw new Error('not created');

    expect(await after.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' })).toEqual({
      kind: 'duplicate_rotation',
      existing: old.request.id,
    });
    expect((await after.create({ request: rotationIn('eu', '102'), maxOpenPerRequester: 9, rotationOf: '102' })).kind).toBe('created');

    // Once the old one closes, its key goes and the new layout takes over.
    await after.cancel(old.request.id, old.request.requester, Date.now());
    expect(await redis.a.get(`${prefix}rotation:102`)).toBeNull();
    expect((await after.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' })).kind).toBe('created');
  });

  it('the one-at-a-time slot is per workspace', async () => {
    const prefix = uniquePrefix();
    const store = createRedisRequestStore(redis.a, { keyPrefix: prefix });
    const now = Date.now();
    const approved = async (workspace: string) => {
      const created = await store.create({
        request: inWorkspace(newRequest({ createdAt: now, expiresAt: now + 60_000, updatedAt: now }), workspace),
        maxOpenPerRequester: 9,
      });
      if (created.kind !== 'created') throw new Error('not created');
      await store.approve(created.request.id, 'U_APPROVER', now, stepFingerprint(created.request));
      return created.request.id;
    };
    const us1 = await approved('us');
    const us2 = await approved('us');
    const eu1 = await approved('eu');
    expect((await store.claim(us1, 'replica-a', 15_000, now)).kind).toBe('claimed');
    expect((await store.claim(us2, 'replica-a', 15_000, now)).kind).toBe('busy');
    expect((await store.claim(eu1, 'replica-a', 15_000, now)).kind).toBe('claimed');
  });
});
