import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors';
import type { RequestStore } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { connectRedis } from '../../src/redis/connection';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { startRedis, type TestRedis } from '../../emulators/redis-server';
import { startRedisProxy, type RedisProxy } from '../support/redis-proxy';
import { HOUR, T0, newRequest, rotationRequest, uniquePrefix } from './fixtures';

/*
 * A decision whose answer is lost after Redis ran it is read back by the store (never resent): the
 * caller gets the transition's result, so the audit entry, the card and the person's answer follow.
 */
describe('decisions whose Redis answer was lost', () => {
  let server: TestRedis;
  let proxy: RedisProxy;
  let direct: Redis;
  let viaProxy: Redis;
  beforeAll(async () => {
    server = await startRedis();
    proxy = await startRedisProxy(server.port);
    direct = connectRedis(server.url);
    viaProxy = connectRedis(proxy.url, { commandTimeoutMs: 1_000 });
  });
  afterAll(async () => {
    direct?.disconnect();
    viaProxy?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  function stores(): { store: RequestStore; lossy: RequestStore } {
    const keyPrefix = uniquePrefix();
    return { store: createRedisRequestStore(direct, { keyPrefix }), lossy: createRedisRequestStore(viaProxy, { keyPrefix }) };
  }

  async function awaitingFinish(store: RequestStore, secretId: string): Promise<ApprovalRequest> {
    const request = rotationRequest(secretId);
    expect((await store.create({ request, maxOpenPerRequester: 5, rotationOf: secretId })).kind).toBe('created');
    await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint);
    await store.claim(request.id, 'replica-1', 15_000, T0 + 2);
    await store.finish(request.id, 'replica-1', { state: 'awaiting_finish', outcome: 'successor created', rotation: { step: 'successor' } }, T0 + 3);
    return request;
  }

  it('finish rotation (the retire step starts) and abandon are read back', async () => {
    const { store, lossy } = stores();
    const first = await awaitingFinish(store, '102');
    const lost = proxy.loseAnswerTo(first.id, 'U_FIN');
    const retire = await lossy.startRetireStep(first.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, { seen: first.fingerprint, retire: 'aaaa-bbbb' });
    await lost;
    expect(retire.kind === 'ok' && retire.request).toMatchObject({ state: 'pending', rotation: { step: 'retire', finishRequestedBy: 'U_FIN' } });

    const second = await awaitingFinish(store, '103');
    const lostAbandon = proxy.loseAnswerTo(second.id, 'U_REQ');
    const abandoned = await lossy.abandon(second.id, 'U_REQ', 'rotation abandoned: both secrets kept', T0 + 4, second.fingerprint);
    await lostAbandon;
    expect(abandoned.kind === 'ok' && abandoned.request).toMatchObject({ state: 'succeeded', outcome: 'rotation abandoned: both secrets kept' });
  });

  it('expiry is read back', async () => {
    const { store, lossy } = stores();
    const request = newRequest({ expiresAt: T0 + 10 });
    await store.create({ request, maxOpenPerRequester: 5 });
    const lost = proxy.loseAnswerTo(request.id, String(T0 + 20));
    const expired = await lossy.expire(request.id, T0 + 20);
    await lost;
    expect(expired.kind === 'ok' && expired.request.state).toBe('expired');
  });

  it('a lost answer to a decision that did not apply still says the store could not answer', async () => {
    const { store, lossy } = stores();
    const request = newRequest();
    await store.create({ request, maxOpenPerRequester: 5 });
    // Only the requester may cancel: the script refuses, stamps nothing, and its answer is lost.
    const lost = proxy.loseAnswerTo(request.id, 'U_SOMEONE');
    await expect(lossy.cancel(request.id, 'U_SOMEONE', T0 + 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    await lost;
    expect((await store.get(request.id))?.state).toBe('pending');
  });
});
