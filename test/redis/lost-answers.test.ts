import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors';
import type { RequestStore } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { connectRedis } from '../../src/redis/connection';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { createAuditChain, createRedisAuditLog } from '../../src/redis/audit-log';
import { eventItems } from '../../src/slack/slack-outbox';
import { isReadableEntry } from '../../src/core/ports';
import pino from 'pino';
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

  it('a transition that recorded its event with it is read back as told, so the caller does not tell it twice', async () => {
    const keyPrefix = uniquePrefix();
    const logger = pino({ enabled: false });
    const store = createRedisRequestStore(direct, { keyPrefix });
    const lossy = createRedisRequestStore(viaProxy, { keyPrefix, tellWith: { chain: createAuditChain(logger), render: eventItems } });
    const audit = createRedisAuditLog(direct, { keyPrefix, logger });
    const typesOf = async (id: string) => (await audit.history(id)).entries.map((e) => (isReadableEntry(e) ? e.type : e.storedType));

    const request = newRequest();
    await store.create({ request, maxOpenPerRequester: 5 });
    await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint);
    await store.claim(request.id, 'replica-1', 15_000, T0 + 2);
    const detail = { outcome: 'all done', state: 'succeeded', action: 'create', step: 'create' } as const;
    const lostFinish = proxy.loseAnswerTo(request.id, 'all done');
    const finished = await lossy.finish(request.id, 'replica-1', { state: 'succeeded', outcome: 'all done' }, T0 + 3, {
      request: { ...request, outcome: 'all done' },
      event: { type: 'succeeded', at: T0 + 3, detail },
      ifState: 'succeeded',
    });
    await lostFinish;
    expect(finished).toMatchObject({ kind: 'ok', told: true, request: { state: 'succeeded' } });
    expect(await typesOf(request.id)).toEqual(['succeeded']);

    const rejecting = newRequest();
    await store.create({ request: rejecting, maxOpenPerRequester: 5 });
    const lostReject = proxy.loseAnswerTo(rejecting.id, 'not now');
    const event = { type: 'rejected', actor: 'U_APP', at: T0 + 1, detail: { reason: 'not now' } } as const;
    const rejected = await lossy.reject(rejecting.id, 'U_APP', 'not now', T0 + 1, undefined, { request: rejecting, event });
    await lostReject;
    expect(rejected).toMatchObject({ kind: 'ok', told: true, request: { state: 'rejected' } });
    expect(await typesOf(rejecting.id)).toEqual(['rejected']);
  });

  /**
   * This replica's answer to a transition that recorded its event is lost; before it reads back,
   * another replica records the event of a later transition of the same request with it. The read
   * back still finds this replica's own event, so the caller does not tell it a second time.
   */
  describe('read back as told when another transition of the request recorded its own event meanwhile', () => {
    function replicas() {
      const keyPrefix = uniquePrefix();
      const logger = pino({ enabled: false });
      const otherChain = createAuditChain(logger);
      return {
        keyPrefix,
        store: createRedisRequestStore(direct, { keyPrefix }),
        lossy: createRedisRequestStore(viaProxy, { keyPrefix, tellWith: { chain: createAuditChain(logger), render: eventItems } }),
        other: createRedisRequestStore(direct, { keyPrefix, tellWith: { chain: otherChain, render: eventItems } }),
        // The other replica has seen the entry the lost transition appended (else it would decline).
        otherSeesHead: async () => otherChain.headIs((await direct.get(`${keyPrefix}audit:head`)) ?? ''),
        typesOf: async (id: string) =>
          (await createRedisAuditLog(direct, { keyPrefix, logger }).history(id)).entries.map((e) => (isReadableEntry(e) ? e.type : e.storedType)),
      };
    }

    /** Runs `lost` with its answer lost, and `meanwhile` after the lost one ran and before it reads back. */
    async function losing<T>(markers: string[], lost: () => Promise<T>, meanwhile: () => Promise<void>): Promise<T> {
      await viaProxy.ping();
      const release = proxy.holdNewConnections();
      const cut = proxy.loseAnswerTo(...markers);
      const answer = lost();
      // Settled either way before it is awaited below.
      answer.catch(() => undefined);
      await cut;
      try {
        await meanwhile();
      } finally {
        release();
      }
      return answer;
    }

    it('a withdrawal, then an approval by someone else', async () => {
      const { store, lossy, other, otherSeesHead, typesOf } = replicas();
      const request = newRequest({ approvalsRequired: 2 });
      await store.create({ request, maxOpenPerRequester: 5 });
      await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint);
      const withdrawn = { type: 'withdrawn', actor: 'U_APP', at: T0 + 2, detail: { approvals: 0, required: 2 } } as const;
      const result = await losing(
        [request.id, 'withdrawn'],
        () => lossy.withdraw(request.id, 'U_APP', T0 + 2, undefined, { request, event: withdrawn, ifApprovals: 0 }),
        async () => {
          await otherSeesHead();
          const approved = { type: 'approved', actor: 'U_APP2', at: T0 + 3, detail: { approvals: 1, required: 2 } } as const;
          expect(await other.approve(request.id, 'U_APP2', T0 + 3, request.fingerprint, { request, event: approved, ifApprovals: 1 })).toMatchObject({
            kind: 'recorded',
            told: true,
          });
        },
      );
      expect(result).toMatchObject({ kind: 'ok', told: true });
      expect(await typesOf(request.id)).toEqual(['withdrawn', 'approved']);
    });

    it('an approval, then a cancel', async () => {
      const { store, lossy, other, otherSeesHead, typesOf } = replicas();
      const request = newRequest({ approvalsRequired: 2 });
      await store.create({ request, maxOpenPerRequester: 5 });
      const approved = { type: 'approved', actor: 'U_APP', at: T0 + 1, detail: { approvals: 1, required: 2 } } as const;
      const result = await losing(
        [request.id, 'approved'],
        () => lossy.approve(request.id, 'U_APP', T0 + 1, request.fingerprint, { request, event: approved, ifApprovals: 1 }),
        async () => {
          await otherSeesHead();
          const cancelled = { type: 'cancelled', actor: 'U_REQ', at: T0 + 2, detail: {} } as const;
          expect(await other.cancel(request.id, 'U_REQ', T0 + 2, { request, event: cancelled })).toMatchObject({ kind: 'ok', told: true });
        },
      );
      expect(result).toMatchObject({ told: true });
      expect(await typesOf(request.id)).toEqual(['approved', 'cancelled']);
    });

    it("a rotation's first step finished (waiting to finish), then a cancel", async () => {
      const { store, lossy, other, otherSeesHead, typesOf } = replicas();
      const request = rotationRequest('104');
      await store.create({ request, maxOpenPerRequester: 5, rotationOf: '104' });
      await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint);
      await store.claim(request.id, 'replica-1', 15_000, T0 + 2);
      const outcome = 'successor 205 created';
      const detail = { outcome, state: 'awaiting_finish', action: 'rotate', step: 'successor' } as const;
      const result = await losing(
        [request.id, outcome],
        () =>
          lossy.finish(request.id, 'replica-1', { state: 'awaiting_finish', outcome, rotation: { step: 'successor' } }, T0 + 3, {
            request: { ...request, outcome },
            event: { type: 'succeeded', at: T0 + 3, detail },
            ifState: 'awaiting_finish',
          }),
        async () => {
          await otherSeesHead();
          const cancelled = { type: 'cancelled', actor: 'U_REQ', at: T0 + 4, detail: {} } as const;
          expect(await other.cancel(request.id, 'U_REQ', T0 + 4, { request, event: cancelled })).toMatchObject({ kind: 'ok', told: true });
        },
      );
      expect(result).toMatchObject({ kind: 'ok', told: true });
      expect(await typesOf(request.id)).toEqual(['succeeded', 'cancelled']);
    });

    it('finish rotation (the retire step starts), then an approval of the retire step', async () => {
      const { store, lossy, other, otherSeesHead, typesOf } = replicas();
      const request = await awaitingFinish(store, '105');
      const finishRequested = { type: 'finish_requested', actor: 'U_FIN', at: T0 + HOUR, detail: { secretId: '105' } } as const;
      const result = await losing(
        [request.id, 'finish_requested'],
        () =>
          lossy.startRetireStep(
            request.id,
            'U_FIN',
            T0 + 2 * HOUR,
            T0 + HOUR,
            { seen: request.fingerprint, retire: 'aaaa-bbbb' },
            { request, event: finishRequested },
          ),
        async () => {
          await otherSeesHead();
          const approved = { type: 'approved', actor: 'U_APP', at: T0 + HOUR + 1, detail: { approvals: 1, required: 1 } } as const;
          expect(await other.approve(request.id, 'U_APP', T0 + HOUR + 1, 'aaaa-bbbb', { request, event: approved, ifApprovals: 1 })).toMatchObject({
            kind: 'approved',
            told: true,
          });
        },
      );
      expect(result).toMatchObject({ kind: 'ok', told: true });
      expect(await typesOf(request.id)).toEqual(['finish_requested', 'approved']);
    });
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
