import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type AuditChain, createAuditChain, createRedisAuditLog } from '../../src/redis/audit-log';
import { createRedisOutboxQueue } from '../../src/redis/outbox-queue';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { TOLD_KEPT } from '../../src/redis/request-scripts';
import { eventItems, noticeItems } from '../../src/slack/slack-outbox';
import { created, GRACE, LEASE, requestStoreContract, seen, TELLING_CASES, type StoresUnderTest } from '../support/request-store-contract';
import { newRequest, T0, uniquePrefix, useTwoConnections } from './fixtures';
import { isReadableEntry } from '../../src/core/ports';
import { auditEvent, SAMPLE_DETAILS } from '../support/audit-events';

const redis = useTwoConnections();

/** Stores under their own key prefix; `other` sees them through a second connection (another replica). */
function stores(opts: { unqualifiedWorkspace?: string } = {}): StoresUnderTest {
  const prefix = uniquePrefix();
  const nullIfEmpty = (value: string | null) => value || null;
  const logger = pino({ enabled: false });
  // The audit log and the telling store share one view of the chain's head, as the bot wires them.
  const chain = createAuditChain(logger);
  const audit = createRedisAuditLog(redis.a, { keyPrefix: prefix, logger, chain });
  const outbox = createRedisOutboxQueue(redis.a, { keyPrefix: prefix });
  return {
    telling: createRedisRequestStore(redis.a, { keyPrefix: prefix, claimGraceMs: GRACE, ...opts, tellWith: { chain, render: eventItems } }),
    told: {
      auditTypes: async (id) => (await audit.history(id)).entries.map((e) => (isReadableEntry(e) ? e.type : e.storedType)),
      outboxKinds: async (channel) => (await outbox.peek(channel, 100)).map((i) => i.kind),
    },
    store: createRedisRequestStore(redis.a, { keyPrefix: prefix, claimGraceMs: GRACE, ...opts }),
    other: createRedisRequestStore(redis.b, { keyPrefix: prefix, claimGraceMs: GRACE, ...opts }),
    replica: (replicaOpts) => createRedisRequestStore(redis.b, { keyPrefix: prefix, claimGraceMs: GRACE, ...replicaOpts }),
    peek: {
      async cardPosts(channel) {
        // The card post is on the channel's outbox list, and the channel is due for delivery.
        if ((await redis.a.zscore(`${prefix}outbox:due`, channel)) === null) return [];
        const items = (await redis.a.lrange(`${prefix}outbox:${channel}`, 0, -1)).map((raw) => JSON.parse(raw) as { r: string; k: string });
        return items.filter((item) => item.k === 'card').map((item) => item.r);
      },
      slotHolder: async (workspace) => nullIfEmpty(await redis.a.get(`${prefix}inflight:${workspace}`)),
      rotationHolder: async (key) => nullIfEmpty(await redis.a.get(`${prefix}rotation:${key}`)),
      openOf: async (requester) => (await redis.a.smembers(`${prefix}requester:${requester}`)).sort(),
      keptForMs: (id) => redis.a.pttl(`${prefix}req:${id}`),
    },
  };
}

describe('the Redis request store', () => {
  requestStoreContract(stores);
});

describe('the breadcrumb before a POST', () => {
  it('is recorded at once on a Redis without replicas (WAIT is asked for only where replicas exist)', async () => {
    const { store } = stores();
    const request = newRequest();
    const created = await store.create({ request, maxOpenPerRequester: 5 });
    expect(created.kind).toBe('created');
    await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint);
    expect((await store.claim(request.id, 'replica-1', LEASE, T0 + 2)).kind).toBe('claimed');
    const started = Date.now();
    expect(await store.recordProgress(request.id, 'replica-1', { phase: 'posting' }, T0 + 3, { replicated: true })).toBe(true);
    expect(Date.now() - started).toBeLessThan(400);
    expect((await store.get(request.id))?.progress['phase']).toBe('posting');
  });
});

describe('events told with their transition (SPEC §8: the audit entry and the Slack notices in the same step)', () => {
  /** A store that records TellWith events, its audit log sharing one chain view, and the outbox, as the bot wires them. */
  function telling(connection = redis.a, prefix = uniquePrefix()) {
    const logger = pino({ enabled: false });
    const chain = createAuditChain(logger);
    const kicked: string[] = [];
    const store = createRedisRequestStore(connection, {
      keyPrefix: prefix,
      claimGraceMs: GRACE,
      tellWith: { chain, render: eventItems, recorded: (channel) => kicked.push(channel) },
    });
    const audit = createRedisAuditLog(connection, { keyPrefix: prefix, logger, chain });
    return { store, audit, outbox: createRedisOutboxQueue(connection, { keyPrefix: prefix }), kicked, prefix };
  }
  const approvedEvent = (approvals: number) => ({ type: 'approved', actor: 'U_APP', at: T0 + 1, detail: { approvals, required: 1 } }) as const;

  it('a decisive approval and its claim record their entries, chained and verifiable, and the card update and reply, in their own steps', async () => {
    const { store, audit, outbox, kicked } = telling();
    const request = await created(store, newRequest());
    await audit.append(auditEvent(request.id, 'requested', T0, { actor: 'U_REQ' }));
    const approved = await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
    expect(approved).toMatchObject({ kind: 'approved', told: true });
    const claim = await store.claim(request.id, 'replica-1', LEASE, T0 + 2, {
      request,
      event: { type: 'executing', at: T0 + 2, detail: { step: 'create' } },
      ifRecovering: false,
    });
    expect(claim).toMatchObject({ kind: 'claimed', recovering: false, told: true });
    // An entry appended afterwards by the audit log itself chains on them.
    await audit.append(auditEvent(request.id, 'succeeded', T0 + 3, { detail: { ...SAMPLE_DETAILS.succeeded, outcome: 'ok' } }));
    const history = await audit.history(request.id);
    expect(history.chain).toEqual({ ok: true });
    expect(history.entries.map((e) => [isReadableEntry(e) && e.type, e.actor, e.detail])).toEqual([
      ['requested', 'U_REQ', SAMPLE_DETAILS.requested],
      ['approved', 'U_APP', { approvals: 1, required: 1 }],
      ['executing', undefined, { step: 'create' }],
      ['succeeded', undefined, { ...SAMPLE_DETAILS.succeeded, outcome: 'ok' }],
    ]);
    const items = await outbox.peek('C_OPS', 10);
    expect(items.map((i) => [i.kind, /Approved by|Executing/.exec(i.text)?.[0] ?? ''])).toEqual([
      ['card', ''], // the card post recorded by create
      ['card', ''],
      ['reply', 'Approved by'],
      ['card', ''],
      ['reply', 'Executing'],
    ]);
    expect(kicked).toEqual(['C_OPS', 'C_OPS']);
  });

  it(`remembers only the last ${TOLD_KEPT} entries it recorded (what a lost-answer read-back looks for), however often people click`, async () => {
    const { store, audit, prefix } = telling();
    const request = await created(store, newRequest({ approvalsRequired: 2 }));
    for (let i = 0; i < TOLD_KEPT; i++) {
      const at = T0 + 10 * i;
      const approved = await store.approve(request.id, 'U_APP', at + 1, await seen(store, request.id), {
        request,
        event: { type: 'approved', actor: 'U_APP', at: at + 1, detail: { approvals: 1, required: 2 } },
        ifApprovals: 1,
      });
      expect(approved).toMatchObject({ kind: 'recorded', told: true });
      const left = { ...request, approvals: [] };
      const withdrawn = await store.withdraw(request.id, 'U_APP', at + 2, undefined, {
        request: left,
        event: { type: 'withdrawn', actor: 'U_APP', at: at + 2, detail: { approvals: 0, required: 2 } },
        ifApprovals: 0,
      });
      expect(withdrawn).toMatchObject({ kind: 'ok', told: true });
    }
    const hashes = (await audit.history(request.id)).entries.map((e) => e.hash);
    expect(hashes).toHaveLength(2 * TOLD_KEPT);
    const fields = await redis.a.hgetall(`${prefix}req:${request.id}`);
    expect(fields['told_recent']?.split(' ')).toEqual(hashes.slice(-TOLD_KEPT));
    expect(Object.keys(fields).filter((k) => k.startsWith('told'))).toEqual(['told_recent']);
  });

  it('declines when the count moved meanwhile: the approval still counts, nothing of the event is recorded', async () => {
    const { store, audit, outbox } = telling();
    const request = await created(store, newRequest({ approvalsRequired: 2 }));
    expect((await store.approve(request.id, 'U_OTHER', T0 + 1, await seen(store, request.id))).kind).toBe('recorded');
    // The caller read the request before that approval: it expects to be the first.
    const result = await store.approve(request.id, 'U_APP', T0 + 2, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
    expect(result).toMatchObject({ kind: 'approved', told: false });
    expect((await audit.history(request.id)).entries).toEqual([]);
    expect((await outbox.peek('C_OPS', 10)).map((i) => i.kind)).toEqual(['card']);
  });

  it("declines when another replica appended first, and the next entry chains onto that replica's", async () => {
    const prefix = uniquePrefix();
    const here = telling(redis.a, prefix);
    const elsewhere = telling(redis.b, prefix);
    const request = await created(here.store, newRequest());
    await elsewhere.audit.append(auditEvent(request.id, 'requested', T0, { actor: 'U_REQ' }));
    const result = await here.store.approve(request.id, 'U_APP', T0 + 1, await seen(here.store, request.id), {
      request,
      event: approvedEvent(1),
      ifApprovals: 1,
    });
    expect(result).toMatchObject({ kind: 'approved', told: false });
    // The caller tells it itself (Journal.tell), chained on the head it has just learned.
    await here.audit.append({ ...approvedEvent(1), requestId: request.id });
    const history = await here.audit.history(request.id);
    expect(history.chain).toEqual({ ok: true });
    expect(history.entries.map((e) => isReadableEntry(e) && e.type)).toEqual(['requested', 'approved']);
  });

  it('a claim that turns out to be a takeover does not record the "executing" it was given', async () => {
    const { store, audit } = telling();
    const request = await created(store, newRequest());
    await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id));
    // Past the claim grace nobody claimed it: a claim now is a takeover.
    const claim = await store.claim(request.id, 'replica-2', LEASE, T0 + 1 + GRACE, {
      request,
      event: { type: 'executing', at: T0 + 1 + GRACE, detail: { step: 'create' } },
      ifRecovering: false,
    });
    expect(claim).toMatchObject({ kind: 'claimed', recovering: true, told: false });
    expect((await audit.history(request.id)).entries).toEqual([]);
  });

  for (const [n, c] of TELLING_CASES.entries()) {
    it(`${c.name}: a replica killed right after the transition (it never reaches the Journal) leaves the final event recorded, chained, with the words the Journal would have written`, async () => {
      const prefix = uniquePrefix();
      const here = telling(redis.a, prefix);
      const { request, tell, run } = await c.setUp(here.store, n);
      await here.audit.append(auditEvent(request.id, 'requested', T0, { actor: 'U_REQ' }));
      const queued = (await here.outbox.peek(request.channel, 100)).length;
      const result = await run(tell);
      expect(result).toMatchObject({ kind: 'ok', told: true });
      if (result.kind !== 'ok') return;
      // Read as another replica would after this one died: nothing else ran in between.
      const elsewhere = telling(redis.b, prefix);
      const history = await elsewhere.audit.history(request.id);
      expect(history.chain).toEqual({ ok: true });
      const last = history.entries.at(-1);
      expect(last && isReadableEntry(last) && { type: last.type, actor: last.actor, at: last.at, detail: last.detail }).toEqual({
        type: tell.event.type,
        actor: tell.event.actor,
        at: tell.event.at,
        detail: tell.event.detail,
      });
      // Byte for byte what Journal.tell records from the request the transition left: the card update, then the reply.
      const full = { ...tell.event, requestId: request.id, workspace: request.operation.workspace };
      const items = (await elsewhere.outbox.peek(request.channel, 100)).slice(queued);
      expect(items.map(({ requestId, kind, text }) => ({ requestId, kind, text }))).toEqual(
        noticeItems(result.request, [{ kind: 'card' }, { kind: 'reply', event: full }]),
      );
      expect(here.kicked).toEqual([request.channel]);
    });
  }

  it("a transition declines its event when another replica appended first, and the caller's own telling chains onto that replica's", async () => {
    const prefix = uniquePrefix();
    const here = telling(redis.a, prefix);
    const elsewhere = telling(redis.b, prefix);
    const request = await created(here.store, newRequest());
    await here.audit.append(auditEvent(request.id, 'requested', T0, { actor: 'U_REQ' }));
    await elsewhere.audit.append(auditEvent(request.id, 'approval_reminder', T0 + 1));
    const event = { type: 'rejected', actor: 'U_APP', at: T0 + 2, detail: { reason: 'no' } } as const;
    const result = await here.store.reject(request.id, 'U_APP', 'no', T0 + 2, undefined, { request, event });
    expect(result).toMatchObject({ kind: 'ok', told: false, request: { state: 'rejected' } });
    expect((await here.audit.history(request.id)).entries.map((e) => isReadableEntry(e) && e.type)).toEqual(['requested', 'approval_reminder']);
    expect((await here.outbox.peek('C_OPS', 10)).map((i) => i.kind)).toEqual(['card']);
    expect(here.kicked).toEqual([]);
    await here.audit.append({ ...event, requestId: request.id });
    const history = await here.audit.history(request.id);
    expect(history.chain).toEqual({ ok: true });
    expect(history.entries.map((e) => isReadableEntry(e) && e.type)).toEqual(['requested', 'approval_reminder', 'rejected']);
  });

  it('an event a transition recorded is delivered and is the chain head even when the request it left cannot be read', async () => {
    const prefix = uniquePrefix();
    const logger = pino({ enabled: false });
    const shared = createAuditChain(logger);
    const appended: string[] = [];
    const chain: AuditChain = {
      draft: (event) => shared.draft(event),
      appended: (draft, entryId) => {
        appended.push(draft.stored.type);
        shared.appended(draft, entryId);
      },
      headIs: (head) => shared.headIs(head),
    };
    const kicked: string[] = [];
    const store = createRedisRequestStore(redis.a, {
      keyPrefix: prefix,
      claimGraceMs: GRACE,
      tellWith: { chain, render: eventItems, recorded: (channel) => kicked.push(channel) },
    });
    const request = await created(store, newRequest());
    // The scripts read only the fingerprint of the body; the request as a whole no longer decodes.
    const key = `${prefix}req:${request.id}`;
    const body = JSON.parse((await redis.a.hget(key, 'body')) ?? '{}') as Record<string, unknown>;
    await redis.a.hset(key, 'body', JSON.stringify({ ...body, operation: 'unreadable' }));
    await expect(store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint, { request, event: approvedEvent(1), ifApprovals: 1 })).rejects.toThrow(
      /unreadable/,
    );
    await expect(
      store.claim(request.id, 'replica-1', LEASE, T0 + 2, {
        request,
        event: { type: 'executing', at: T0 + 2, detail: { step: 'create' } },
        ifRecovering: false,
      }),
    ).rejects.toThrow(/unreadable/);
    const detail = { outcome: 'done', state: 'succeeded', action: 'create', step: 'create' } as const;
    await expect(
      store.finish(request.id, 'replica-1', { state: 'succeeded', outcome: 'done' }, T0 + 3, {
        request: { ...request, outcome: 'done' },
        event: { type: 'succeeded', at: T0 + 3, detail },
        ifState: 'succeeded',
      }),
    ).rejects.toThrow(/unreadable/);
    expect(kicked).toEqual(['C_OPS', 'C_OPS', 'C_OPS']);
    expect(appended).toEqual(['approved', 'executing', 'succeeded']);
    // The next entry chains onto the last one without having to learn the head first.
    expect(shared.draft({ ...approvedEvent(1), requestId: request.id }).expectedHead).toBe(await redis.a.get(`${prefix}audit:head`));
  });

  it('a store not wired to record events declines every one (the caller tells it)', async () => {
    const { store } = stores();
    const request = await created(store, newRequest());
    const result = await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
    expect(result.kind).toBe('approved');
    expect('told' in result && result.told).toBeFalsy();
  });
});
