import { describe, expect, it } from 'vitest';
import type { RequestStore, TellWith, TransitionResult } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { stepFingerprint } from '../../src/core/request-id';
import { HOUR, T0, newRequest, rotationRequest } from './request-fixtures';

/**
 * The RequestStore's contract, run against every implementation (test/redis/request-store.test.ts
 * on a real redis-server, test/support/memory-request-store.test.ts in memory), so the in-memory
 * store the fast tests use is shown to decide exactly as the Redis one.
 */

export const LEASE = 15_000;
export const GRACE = 5_000;

/** What a test sees of a store besides its methods: the indexes and records the scripts keep. */
export interface StorePeek {
  /** Requests whose card post is queued in `channel`'s outbox, in order. */
  cardPosts(channel: string): Promise<string[]>;
  /** The request holding the workspace's one-at-a-time slot, if any. */
  slotHolder(workspace: string): Promise<string | null>;
  /** The open rotation held under `key` (`102`, or `eu:102` for a named workspace), if any. */
  rotationHolder(key: string): Promise<string | null>;
  /** The requester's open requests (the flood limit's count). */
  openOf(requester: string): Promise<string[]>;
  /** How much longer the request stays readable (a final one expires), in ms; -1 forever, -2 gone. */
  keptForMs(id: string): Promise<number>;
}

export interface StoresUnderTest {
  /** A store over fresh, empty data (claim grace GRACE). */
  readonly store: RequestStore;
  /** The same data through a second connection: another replica. */
  readonly other: RequestStore;
  /** Another replica over the same data, configured otherwise (a replica with IVS_CONFIG). */
  replica(opts: { unqualifiedWorkspace?: string }): RequestStore;
  readonly peek: StorePeek;
  /** A store over the same data wired to record the events its transitions are given (TellWith), as the bot wires it. */
  readonly telling: RequestStore;
  /** What transitions recorded of their events: audit entries of a request (types, in order), and a channel's outbox items (kinds). */
  readonly told: {
    auditTypes(id: string): Promise<string[]>;
    outboxKinds(channel: string): Promise<string[]>;
  };
}

/** Opens fresh stores for one test; `unqualifiedWorkspace` configures `store` and `other`. */
export type OpenStores = (opts?: { unqualifiedWorkspace?: string }) => StoresUnderTest;

/** The step fingerprint a card of the request shows now: what an approver's button carries. */
export async function seen(store: RequestStore, id: string): Promise<string> {
  const request = await store.get(id);
  return request ? stepFingerprint(request) : 'no-such-request';
}

/** What finishRotation passes: the fingerprint the retire step's buttons will carry. */
async function retireOf(store: RequestStore, id: string): Promise<{ retire: string }> {
  const request = await store.get(id);
  return { retire: request ? stepFingerprint({ fingerprint: request.fingerprint, rotation: { ...request.rotation, step: 'retire' } }) : 'none' };
}

/** The delete request the bot opens for an orphan left by R-ORIGIN. */
function orphanDeleteRequest(): ApprovalRequest {
  return newRequest({
    operation: { action: 'delete', workspace: 'default', secretId: '200', secretName: 'Production Web [R-ORIGIN]', platforms: ['web'], force: true },
    reason: 'orphan of R-ORIGIN: its material is not in Vault',
    orphanOf: 'R-ORIGIN',
  });
}

export async function created(store: RequestStore, request: ApprovalRequest, rotationOf?: string): Promise<ApprovalRequest> {
  const result = await store.create({ request, maxOpenPerRequester: 5, ...(rotationOf ? { rotationOf } : {}) });
  if (result.kind !== 'created') throw new Error(`expected created, got ${result.kind}`);
  return result.request;
}

async function approvedRequest(store: RequestStore, overrides: Partial<ApprovalRequest> = {}): Promise<ApprovalRequest> {
  const request = await created(store, newRequest(overrides));
  const result = await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id));
  if (result.kind !== 'approved') throw new Error(`expected approved, got ${result.kind}`);
  return result.request;
}

async function executingRequest(store: RequestStore, owner: string, overrides: Partial<ApprovalRequest> = {}): Promise<ApprovalRequest> {
  const request = await approvedRequest(store, overrides);
  const claim = await store.claim(request.id, owner, LEASE, T0 + 2);
  if (claim.kind !== 'claimed') throw new Error(`expected claimed, got ${claim.kind}`);
  return claim.request;
}

async function awaitingFinish(store: RequestStore, secretId: string): Promise<ApprovalRequest> {
  const rotation = await created(store, rotationRequest(secretId), secretId);
  await store.approve(rotation.id, 'U_APP', T0 + 1, await seen(store, rotation.id));
  await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
  const waiting = await store.finish(
    rotation.id,
    'replica-1',
    { state: 'awaiting_finish', outcome: 'successor created', rotation: { step: 'successor' } },
    T0 + 3,
  );
  if (waiting.kind !== 'ok') throw new Error(`expected ok, got ${waiting.kind}`);
  return waiting.request;
}

async function retireStep(store: RequestStore, secretId: string): Promise<ApprovalRequest> {
  const waiting = await awaitingFinish(store, secretId);
  const retire = await store.startRetireStep(waiting.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, await retireOf(store, waiting.id));
  if (retire.kind !== 'ok') throw new Error(`expected ok, got ${retire.kind}`);
  return retire.request;
}

/**
 * One transition that tells an event, set up on a store: the request as its caller reads it before,
 * the TellWith its caller gives, and the call itself (with or without that TellWith).
 */
export interface TellingCase {
  readonly name: string;
  /** The state the transition leaves the request in. */
  readonly state: ApprovalRequest['state'];
  /** `n` makes the secret ids of a rotation unique among the cases one test sets up. */
  setUp(store: RequestStore, n: number): Promise<{ request: ApprovalRequest; tell: TellWith; run: (tell?: TellWith) => Promise<TransitionResult> }>;
}

/** The transitions besides approve and claim, each with the TellWith its caller (core/) builds for it. */
export const TELLING_CASES: readonly TellingCase[] = [
  {
    name: 'reject',
    state: 'rejected',
    async setUp(store) {
      const request = await created(store, newRequest());
      const event = { type: 'rejected', actor: 'U_APP', at: T0 + 1, detail: { reason: 'not now' } } as const;
      return { request, tell: { request, event }, run: (tell) => store.reject(request.id, 'U_APP', 'not now', T0 + 1, undefined, tell) };
    },
  },
  {
    name: 'cancel',
    state: 'cancelled',
    async setUp(store) {
      const request = await created(store, newRequest());
      const event = { type: 'cancelled', actor: 'U_REQ', at: T0 + 1, detail: {} } as const;
      return { request, tell: { request, event }, run: (tell) => store.cancel(request.id, 'U_REQ', T0 + 1, tell) };
    },
  },
  {
    name: 'expire',
    state: 'expired',
    async setUp(store) {
      const request = await created(store, newRequest());
      const event = { type: 'expired', at: T0 + HOUR, detail: {} } as const;
      return { request, tell: { request, event, ifApprovals: 0, ifState: 'expired' }, run: (tell) => store.expire(request.id, T0 + HOUR, tell) };
    },
  },
  {
    name: 'withdraw',
    state: 'pending',
    async setUp(store) {
      const opened = await created(store, newRequest({ approvalsRequired: 2 }));
      await store.approve(opened.id, 'U_APP', T0 + 1, await seen(store, opened.id));
      const left = { ...opened, approvals: [] };
      const event = { type: 'withdrawn', actor: 'U_APP', at: T0 + 2, detail: { approvals: 0, required: 2 } } as const;
      return { request: left, tell: { request: left, event, ifApprovals: 0 }, run: (tell) => store.withdraw(opened.id, 'U_APP', T0 + 2, undefined, tell) };
    },
  },
  {
    name: 'finish (succeeded)',
    state: 'succeeded',
    async setUp(store) {
      const executing = await executingRequest(store, 'replica-1');
      const request = { ...executing, outcome: 'created 205' };
      const event = { type: 'succeeded', at: T0 + 3, detail: { outcome: 'created 205', state: 'succeeded', action: 'create', step: 'create' } } as const;
      return {
        request,
        tell: { request, event, ifState: 'succeeded' },
        run: (tell) => store.finish(request.id, 'replica-1', { state: 'succeeded', outcome: 'created 205' }, T0 + 3, tell),
      };
    },
  },
  {
    name: 'finish (failed)',
    state: 'failed',
    async setUp(store) {
      const executing = await executingRequest(store, 'replica-1');
      const request = { ...executing, outcome: 'Intercom refused it' };
      const event = { type: 'failed', at: T0 + 3, detail: { outcome: 'Intercom refused it', state: 'failed', action: 'create', step: 'create' } } as const;
      return {
        request,
        tell: { request, event, ifState: 'failed' },
        run: (tell) => store.finish(request.id, 'replica-1', { state: 'failed', outcome: 'Intercom refused it' }, T0 + 3, tell),
      };
    },
  },
  {
    name: 'finish (a rotation waits to finish)',
    state: 'awaiting_finish',
    async setUp(store, n) {
      const rotation = await created(store, rotationRequest(String(300 + n)), String(300 + n));
      await store.approve(rotation.id, 'U_APP', T0 + 1, await seen(store, rotation.id));
      await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
      const request = { ...rotation, outcome: 'successor created' };
      const detail = { outcome: 'successor created', state: 'awaiting_finish', action: 'rotate', step: 'successor' } as const;
      return {
        request,
        tell: { request, event: { type: 'succeeded', at: T0 + 3, detail }, ifState: 'awaiting_finish' },
        run: (tell) =>
          store.finish(request.id, 'replica-1', { state: 'awaiting_finish', outcome: 'successor created', rotation: { step: 'successor' } }, T0 + 3, tell),
      };
    },
  },
  {
    name: 'finish (a failed retire step goes back to waiting)',
    state: 'awaiting_finish',
    async setUp(store, n) {
      const retiring = await retireStep(store, String(400 + n));
      await store.approve(retiring.id, 'U_APP', T0 + HOUR + 1, await seen(store, retiring.id));
      await store.claim(retiring.id, 'replica-2', LEASE, T0 + HOUR + 2);
      const request = { ...retiring, outcome: 'Intercom refused the delete' };
      const outcome = 'Intercom refused the delete. Finish rotation again, or Abandon';
      const detail = { outcome, state: 'awaiting_finish', action: 'rotate', step: 'retire' } as const;
      return {
        request,
        tell: { request, event: { type: 'failed', at: T0 + HOUR + 3, detail }, ifState: 'awaiting_finish' },
        run: (tell) => store.finish(request.id, 'replica-2', { state: 'failed', outcome: 'Intercom refused the delete' }, T0 + HOUR + 3, tell),
      };
    },
  },
  {
    name: 'startRetireStep',
    state: 'pending',
    async setUp(store, n) {
      const request = await awaitingFinish(store, String(500 + n));
      const event = { type: 'finish_requested', actor: 'U_FIN', at: T0 + HOUR, detail: { secretId: String(500 + n) } } as const;
      const step = await retireOf(store, request.id);
      return { request, tell: { request, event }, run: (tell) => store.startRetireStep(request.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, step, tell) };
    },
  },
  {
    name: 'reject (a retire step goes back to waiting)',
    state: 'awaiting_finish',
    async setUp(store, n) {
      const request = await retireStep(store, String(600 + n));
      const event = { type: 'rejected', actor: 'U_APP', at: T0 + HOUR + 1, detail: { reason: 'signers not ready' } } as const;
      return { request, tell: { request, event }, run: (tell) => store.reject(request.id, 'U_APP', 'signers not ready', T0 + HOUR + 1, undefined, tell) };
    },
  },
  {
    name: 'expire (a retire step goes back to waiting)',
    state: 'awaiting_finish',
    async setUp(store, n) {
      const retiring = await retireStep(store, String(700 + n));
      const request = { ...retiring, approvals: [] };
      const event = { type: 'expired', at: T0 + 2 * HOUR, detail: {} } as const;
      return {
        request,
        tell: { request, event, ifApprovals: 0, ifState: 'awaiting_finish' },
        run: (tell) => store.expire(request.id, T0 + 2 * HOUR, tell),
      };
    },
  },
  {
    name: 'abandon',
    state: 'succeeded',
    async setUp(store, n) {
      const request = await awaitingFinish(store, String(800 + n));
      const event = { type: 'abandoned', actor: 'U_REQ', at: T0 + 4, detail: {} } as const;
      return {
        request,
        tell: { request, event },
        run: (tell) => store.abandon(request.id, 'U_REQ', 'rotation abandoned: both secrets kept', T0 + 4, undefined, tell),
      };
    },
  },
];

/** What a transition's result says of the request, leaving out what differs between two requests (their ids, a rotation's secret). */
function outcomeOf(result: TransitionResult): unknown {
  if (result.kind === 'not_found') return result;
  const { kind, request } = result;
  const { id: _id, operation: _operation, ...rest } = request;
  return { kind, request: rest };
}

export function requestStoreContract(openStores: OpenStores): void {
  const stores = openStores;

  describe('creating and reading requests', () => {
    it('reads a created request back exactly as it was stored', async () => {
      const { store } = stores();
      const request = newRequest({
        operation: { action: 'delete', workspace: 'eu', secretId: '102', secretName: 'Old <Web>', platforms: ['web', 'ios'], force: true },
        impact: ['ios'],
        reason: 'leaked in a screenshot; "urgent" & <!channel>',
        approvalsRequired: 2,
        card: { channel: 'C_OPS', ts: '1700000000.000100' },
      });
      const result = await store.create({ request, maxOpenPerRequester: 3 });
      expect(result).toEqual({ kind: 'created', request });
      expect(await store.get(request.id)).toEqual(request);
    });

    it('refuses to create a request that is not pending: a programming error, thrown', async () => {
      const { store } = stores();
      await expect(store.create({ request: newRequest({ state: 'approved' }), maxOpenPerRequester: 5 })).rejects.toBeInstanceOf(TypeError);
    });

    it('answers null for a request that does not exist', async () => {
      const { store } = stores();
      expect(await store.get('R-NOPE00')).toBeNull();
    });

    it('refuses a second request with an id that is already taken', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      expect(await store.create({ request, maxOpenPerRequester: 5 })).toEqual({ kind: 'id_taken' });
    });

    it("records the new request's card post in the Slack outbox in the same step", async () => {
      const { store, peek } = stores();
      const request = await created(store, newRequest());
      expect(await peek.cardPosts(request.channel)).toEqual([request.id]);
    });

    it('lists requests opened in the same millisecond in the order of their ids, as a sorted set does', async () => {
      const { store } = stores();
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await created(store, newRequest({ createdAt: T0 + 7 }))).id);
      expect((await store.listOpen()).map((r) => r.id)).toEqual([...ids].sort());
    });

    it('lists open requests oldest first and leaves closed ones out', async () => {
      const { store } = stores();
      const late = await created(store, newRequest({ createdAt: T0 + 2000 }));
      const early = await created(store, newRequest({ createdAt: T0 + 1000 }));
      const closed = await created(store, newRequest({ createdAt: T0 }));
      await store.cancel(closed.id, 'U_REQ', T0 + 3000);
      expect((await store.listOpen()).map((r) => r.id)).toEqual([early.id, late.id]);
    });
  });

  describe('limits', () => {
    it('refuses a requester who already holds the maximum of open requests, naming them', async () => {
      const { store } = stores();
      const first = await created(store, newRequest());
      const second = await created(store, newRequest());
      const third = await store.create({ request: newRequest(), maxOpenPerRequester: 2 });
      expect(third).toEqual({ kind: 'limit', open: [first.id, second.id].sort() });
    });

    it("does not count an orphan's delete request (the bot opened it) against its requester's limit", async () => {
      const { store } = stores();
      const orphanDelete = await created(store, orphanDeleteRequest());
      const own = await store.create({ request: newRequest(), maxOpenPerRequester: 1 });
      expect(own.kind).toBe('created');
      const next = await store.create({ request: newRequest(), maxOpenPerRequester: 1 });
      expect(next.kind === 'limit' && next.open).toEqual([own.kind === 'created' ? own.request.id : '']);
      // Closing it later leaves the requester's count alone too.
      expect((await store.cancel(orphanDelete.id, 'U_REQ', T0 + 1)).kind).toBe('ok');
      expect((await store.create({ request: newRequest(), maxOpenPerRequester: 1 })).kind).toBe('limit');
    });

    it('lets the requester open a new request once one of theirs is closed', async () => {
      const { store } = stores();
      const first = await created(store, newRequest());
      await store.cancel(first.id, 'U_REQ', T0 + 1);
      const next = await store.create({ request: newRequest(), maxOpenPerRequester: 1 });
      expect(next.kind).toBe('created');
    });

    it('refuses a second open rotation of the same secret and names the open one', async () => {
      const { store } = stores();
      const open = await created(store, rotationRequest('102'), '102');
      const again = await store.create({ request: rotationRequest('102', { requester: 'U_OTHER' }), maxOpenPerRequester: 5, rotationOf: '102' });
      expect(again).toEqual({ kind: 'duplicate_rotation', existing: open.id });
      const otherSecret = await store.create({ request: rotationRequest('103'), maxOpenPerRequester: 5, rotationOf: '103' });
      expect(otherSecret.kind).toBe('created');
    });

    it('allows a new rotation of a secret once the previous one is closed', async () => {
      const { store } = stores();
      const open = await created(store, rotationRequest('102'), '102');
      await store.reject(open.id, 'U_APP', 'not now', T0 + 1);
      const again = await store.create({ request: rotationRequest('102'), maxOpenPerRequester: 5, rotationOf: '102' });
      expect(again.kind).toBe('created');
    });
  });

  describe('approving', () => {
    it('refuses the requester approving their own request', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      const result = await store.approve(request.id, 'U_REQ', T0 + 1, await seen(store, request.id));
      expect(result.kind).toBe('self');
      expect((await store.get(request.id))?.approvals).toEqual([]);
    });

    it('counts one person once: a second approval by the same user is refused', async () => {
      const { store } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      expect((await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id))).kind).toBe('recorded');
      const again = await store.approve(request.id, 'U_APP', T0 + 2, await seen(store, request.id));
      expect(again.kind).toBe('already_approved');
      expect(again.kind !== 'not_found' && again.request.approvals).toEqual(['U_APP']);
      expect(again.kind !== 'not_found' && again.request.state).toBe('pending');
    });

    it('with two approvals required, records the first and approves on the second', async () => {
      const { store } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      const first = await store.approve(request.id, 'U_A', T0 + 1, await seen(store, request.id));
      expect(first.kind).toBe('recorded');
      const second = await store.approve(request.id, 'U_B', T0 + 2, await seen(store, request.id));
      expect(second.kind).toBe('approved');
      expect(second.kind === 'approved' && second.request).toMatchObject({ state: 'approved', approvals: ['U_A', 'U_B'], updatedAt: T0 + 2 });
    });

    it('refuses an approval after the request expired, even before the sweep ran', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      const result = await store.approve(request.id, 'U_APP', T0 + HOUR, await seen(store, request.id));
      expect(result.kind).toBe('expired');
      expect((await store.get(request.id))?.state).toBe('pending');
    });

    it('refuses an approval of a request that is no longer pending', async () => {
      const { store } = stores();
      const request = await approvedRequest(store);
      expect((await store.approve(request.id, 'U_LATE', T0 + 3, await seen(store, request.id))).kind).toBe('not_pending');
    });

    it('answers not_found for an unknown request', async () => {
      const { store } = stores();
      expect(await store.approve('R-NOPE00', 'U_APP', T0, await seen(store, 'R-NOPE00'))).toEqual({ kind: 'not_found' });
    });

    it('ten approvers on two connections at once produce exactly one approval, and ten claims one execution', async () => {
      const { store, other } = stores();
      const request = await created(store, newRequest());
      const approvals = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).approve(request.id, `U_APP${i}`, T0 + 1, request.fingerprint)),
      );
      expect(approvals.filter((r) => r.kind === 'approved')).toHaveLength(1);
      expect(approvals.filter((r) => r.kind === 'not_pending')).toHaveLength(9);
      expect((await store.get(request.id))?.approvals).toHaveLength(1);

      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).claim(request.id, `replica-${i}`, LEASE, T0 + 2)));
      const winners = claims.filter((c) => c.kind === 'claimed');
      expect(winners).toHaveLength(1);
      expect(claims.filter((c) => c.kind === 'not_claimable')).toHaveLength(9);
      const winner = winners[0];
      expect(winner?.kind === 'claimed' && winner.recovering).toBe(false);
      expect((await store.get(request.id))?.state).toBe('executing');
    });

    it('with two approvals required, concurrent approvers still reach exactly one approval', async () => {
      const { store, other } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).approve(request.id, `U_APP${i}`, T0 + 1, request.fingerprint)),
      );
      expect(results.filter((r) => r.kind === 'approved')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'recorded')).toHaveLength(1);
      expect((await store.get(request.id))?.approvals).toHaveLength(2);
    });
  });

  describe('withdraw, reject, cancel and expire', () => {
    it('lets an approver withdraw their approval while pending', async () => {
      const { store } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      await store.approve(request.id, 'U_A', T0 + 1, await seen(store, request.id));
      const result = await store.withdraw(request.id, 'U_A', T0 + 2);
      expect(result.kind === 'ok' && result.request.approvals).toEqual([]);
    });

    it('refuses a withdrawal by someone who has not approved', async () => {
      const { store } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      await store.approve(request.id, 'U_A', T0 + 1, await seen(store, request.id));
      const result = await store.withdraw(request.id, 'U_B', T0 + 2);
      expect(result.kind).toBe('refused');
      expect((await store.get(request.id))?.approvals).toEqual(['U_A']);
    });

    it('refuses a withdrawal once the request is approved', async () => {
      const { store } = stores();
      const request = await approvedRequest(store);
      expect((await store.withdraw(request.id, 'U_APP', T0 + 2)).kind).toBe('refused');
    });

    it('rejects a pending request and keeps who rejected it and why', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      const result = await store.reject(request.id, 'U_APP', 'wrong secret', T0 + 5);
      expect(result.kind === 'ok' && result.request).toMatchObject({
        state: 'rejected',
        rejection: { by: 'U_APP', reason: 'wrong secret' },
        updatedAt: T0 + 5,
      });
      expect((await store.reject(request.id, 'U_OTHER', 'again', T0 + 6)).kind).toBe('refused');
    });

    it('lets only the requester cancel', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      const byOther = await store.cancel(request.id, 'U_APP', T0 + 1);
      expect(byOther.kind).toBe('refused');
      expect((await store.get(request.id))?.state).toBe('pending');
      const byRequester = await store.cancel(request.id, 'U_REQ', T0 + 2);
      expect(byRequester.kind === 'ok' && byRequester.request).toMatchObject({ state: 'cancelled', cancelledBy: 'U_REQ' });
    });

    it('lets the requester cancel an approved request that has not started (one waiting for the workspace), and then nobody can claim it', async () => {
      const { store, peek } = stores();
      const first = await executingRequest(store, 'replica-1');
      const waiting = await approvedRequest(store);
      expect((await store.claim(waiting.id, 'replica-2', LEASE, T0 + 3)).kind).toBe('busy');
      const cancelled = await store.cancel(waiting.id, 'U_REQ', T0 + 4);
      expect(cancelled.kind === 'ok' && cancelled.request.state).toBe('cancelled');
      expect(await store.staleLeases(T0 + 10 * LEASE)).not.toContain(waiting.id);
      await store.finish(first.id, 'replica-1', { state: 'succeeded', outcome: 'done' }, T0 + 5);
      expect((await store.claim(waiting.id, 'replica-2', LEASE, T0 + 6)).kind).toBe('not_claimable');
      expect(await peek.slotHolder('default')).toBeNull();
    });

    it('refuses to cancel a request that is already executing', async () => {
      const { store } = stores();
      const request = await executingRequest(store, 'replica-1');
      expect((await store.cancel(request.id, 'U_REQ', T0 + 3)).kind).toBe('refused');
    });

    it('expires a pending request only once its expiry has passed, and lists it as due until then', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      expect(await store.dueForExpiry(T0 + HOUR - 1)).toEqual([]);
      expect((await store.expire(request.id, T0 + HOUR - 1)).kind).toBe('refused');
      expect(await store.dueForExpiry(T0 + HOUR)).toEqual([request.id]);
      const result = await store.expire(request.id, T0 + HOUR);
      expect(result.kind === 'ok' && result.request.state).toBe('expired');
      expect(await store.dueForExpiry(T0 + 2 * HOUR)).toEqual([]);
    });

    it("never expires an orphan's delete request: not due, refused by expire, approvable long after its TTL", async () => {
      const { store, other } = stores();
      const orphanDelete = await created(store, orphanDeleteRequest());
      expect(orphanDelete.orphanOf).toBe('R-ORIGIN');
      expect(await store.dueForExpiry(T0 + 100 * HOUR)).toEqual([]);
      const expire = await other.expire(orphanDelete.id, T0 + 100 * HOUR);
      expect(expire.kind === 'refused' && expire.why).toBe('the delete request of an orphan does not expire');
      expect((await store.get(orphanDelete.id))?.state).toBe('pending');
      const approved = await other.approve(orphanDelete.id, 'U_APP', T0 + 100 * HOUR, await seen(store, orphanDelete.id));
      expect(approved.kind === 'approved' && approved.request).toMatchObject({ state: 'approved', orphanOf: 'R-ORIGIN' });
    });

    it("an orphan's delete request is still rejected or cancelled as any other, and an ordinary one beside it still expires", async () => {
      const { store } = stores();
      const rejected = await created(store, orphanDeleteRequest());
      const cancelled = await created(store, orphanDeleteRequest());
      const ordinary = await created(store, newRequest());
      expect(await store.dueForExpiry(T0 + 2 * HOUR)).toEqual([ordinary.id]);
      expect((await store.expire(ordinary.id, T0 + 2 * HOUR)).kind).toBe('ok');
      const rejection = await store.reject(rejected.id, 'U_APP', 'kept on purpose', T0 + 2 * HOUR);
      expect(rejection.kind === 'ok' && rejection.request.state).toBe('rejected');
      const cancel = await store.cancel(cancelled.id, 'U_REQ', T0 + 2 * HOUR);
      expect(cancel.kind === 'ok' && cancel.request.state).toBe('cancelled');
      expect(await store.listOpen()).toEqual([]);
    });

    it('does not expire a request that was approved in time', async () => {
      const { store } = stores();
      const request = await approvedRequest(store);
      expect(await store.dueForExpiry(T0 + 2 * HOUR)).not.toContain(request.id);
      expect((await store.expire(request.id, T0 + 2 * HOUR)).kind).toBe('refused');
    });

    it('removes a request in a final state from every open index and lets its hash expire', async () => {
      const { store, peek } = stores();
      const rejected = await created(store, rotationRequest('102'), '102');
      expect(await peek.rotationHolder('default:102')).toBe(rejected.id);
      await store.reject(rejected.id, 'U_APP', 'no', T0 + 1);
      const done = await executingRequest(store, 'replica-1');
      await store.finish(done.id, 'replica-1', { state: 'succeeded', outcome: 'created 200' }, T0 + 3);

      expect(await store.listOpen()).toEqual([]);
      expect(await store.dueForExpiry(T0 + 10 * HOUR)).toEqual([]);
      expect(await store.staleLeases(T0 + 10 * HOUR)).toEqual([]);
      expect(await peek.openOf('U_REQ')).toEqual([]);
      expect(await peek.rotationHolder('default:102')).toBeNull();
      expect(await peek.slotHolder('default')).toBeNull();
      for (const id of [rejected.id, done.id]) {
        const ttl = await peek.keptForMs(id);
        expect(ttl).toBeGreaterThan(29 * 24 * HOUR);
      }
      // Still readable for /ivs status until then.
      expect((await store.get(done.id))?.outcome).toBe('created 200');
    });
  });

  describe('claiming and leases', () => {
    it('refuses to claim a pending request', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      expect((await store.claim(request.id, 'replica-1', LEASE, T0 + 1)).kind).toBe('not_claimable');
    });

    it('holds the workspace for one create/delete at a time and frees it when the execution finishes', async () => {
      const { store } = stores();
      const first = await executingRequest(store, 'replica-1');
      const second = await approvedRequest(store);
      const elsewhere = await approvedRequest(store, {
        operation: { action: 'create', workspace: 'eu', name: 'EU Web', platforms: ['web'] },
      });

      expect(await store.claim(second.id, 'replica-2', LEASE, T0 + 3)).toEqual({ kind: 'busy', holder: first.id, firstWait: true });
      expect((await store.get(second.id))?.state).toBe('approved');
      expect((await store.claim(elsewhere.id, 'replica-2', LEASE, T0 + 3)).kind).toBe('claimed');

      await store.finish(first.id, 'replica-1', { state: 'failed', outcome: 'vault sealed' }, T0 + 4);
      expect((await store.claim(second.id, 'replica-2', LEASE, T0 + 5)).kind).toBe('claimed');
    });

    it('a request waiting for the workspace is told once per holder, due for every sweep at once, and not "recovered" when it runs', async () => {
      const { store } = stores();
      const first = await executingRequest(store, 'replica-1');
      const second = await approvedRequest(store);

      expect(await store.claim(second.id, 'replica-2', LEASE, T0 + 3)).toMatchObject({ kind: 'busy', firstWait: true });
      expect(await store.claim(second.id, 'replica-3', LEASE, T0 + 4)).toMatchObject({ kind: 'busy', firstWait: false });
      // Due now, not only after the approval's grace ran out.
      expect(await store.staleLeases(T0 + 4)).toContain(second.id);

      // Whoever frees the slot learns that someone waits for it, so it can start them at once.
      expect(await store.finish(first.id, 'replica-1', { state: 'succeeded', outcome: 'done' }, T0 + 5)).toMatchObject({ kind: 'ok', someoneWaits: true });
      const claimed = await store.claim(second.id, 'replica-2', LEASE, T0 + 6);
      expect(claimed).toMatchObject({ kind: 'claimed', recovering: false });
      const last = await store.finish(second.id, 'replica-2', { state: 'succeeded', outcome: 'done' }, T0 + 7);
      expect(last.kind).toBe('ok');
      expect(last).not.toHaveProperty('someoneWaits');
    });

    it('lets another replica take over an execution whose lease ran out, marked as recovering', async () => {
      const { store, other } = stores();
      const request = await executingRequest(store, 'replica-1');
      expect((await other.claim(request.id, 'replica-2', LEASE, T0 + 2 + LEASE - 1)).kind).toBe('not_claimable');
      expect(await other.staleLeases(T0 + 2 + LEASE - 1)).toEqual([]);
      expect(await other.staleLeases(T0 + 2 + LEASE)).toEqual([request.id]);

      const takeover = await other.claim(request.id, 'replica-2', LEASE, T0 + 2 + LEASE);
      expect(takeover.kind === 'claimed' && takeover.recovering).toBe(true);
      // The replica that lost its lease can no longer act on the request.
      expect(await store.renewLease(request.id, 'replica-1', LEASE, T0 + 2 + LEASE + 1)).toBe(false);
      expect(await store.recordProgress(request.id, 'replica-1', { step: 'posted' }, T0 + 2 + LEASE + 1)).toBe(false);
      expect((await store.finish(request.id, 'replica-1', { state: 'succeeded', outcome: 'x' }, T0 + 20_000)).kind).toBe('refused');
      expect((await other.finish(request.id, 'replica-2', { state: 'succeeded', outcome: 'ok' }, T0 + 20_000)).kind).toBe('ok');
    });

    it('renews the lease only for its owner', async () => {
      const { store } = stores();
      const request = await executingRequest(store, 'replica-1');
      expect(await store.renewLease(request.id, 'replica-2', LEASE, T0 + 10_000)).toBe(false);
      expect(await store.renewLease(request.id, 'replica-1', LEASE, T0 + 10_000)).toBe(true);
      // Renewed to T0 + 25 000: no longer stale at the original deadline.
      expect(await store.staleLeases(T0 + 2 + LEASE)).toEqual([]);
      expect((await store.claim(request.id, 'replica-2', LEASE, T0 + 2 + LEASE)).kind).toBe('not_claimable');
    });

    it('reports an approved request nobody claimed within the grace, and its claim is a recovery', async () => {
      const { store } = stores();
      const request = await approvedRequest(store);
      expect(await store.staleLeases(T0 + GRACE)).toEqual([]);
      expect(await store.staleLeases(T0 + 1 + GRACE)).toEqual([request.id]);
      const claim = await store.claim(request.id, 'replica-2', LEASE, T0 + 1 + GRACE);
      expect(claim.kind === 'claimed' && claim.recovering).toBe(true);
    });

    it('merges progress breadcrumbs for the lease owner only', async () => {
      const { store } = stores();
      const request = await executingRequest(store, 'replica-1');
      expect(await store.recordProgress(request.id, 'replica-1', { intercom: 'posting' }, T0 + 3)).toBe(true);
      expect(await store.recordProgress(request.id, 'replica-1', { intercom: 'created', intercomId: '205' }, T0 + 4)).toBe(true);
      expect(await store.recordProgress(request.id, 'replica-9', { intercom: 'forged' }, T0 + 4)).toBe(false);
      // Past its lease the holder itself is refused too: another replica may be recovering the request.
      expect(await store.recordProgress(request.id, 'replica-1', { intercom: 'late' }, T0 + 2 + LEASE + 1)).toBe(false);
      expect(await store.renewLease(request.id, 'replica-1', LEASE, T0 + 2 + LEASE + 1)).toBe(false);
      expect((await store.get(request.id))?.progress).toEqual({ intercom: 'created', intercomId: '205' });
    });
    it('counts every takeover in the progress (takeovers), per step, so recovery can give up in time', async () => {
      const { store, other } = stores();
      const request = await executingRequest(store, 'replica-1');
      expect((await store.get(request.id))?.progress).toEqual({});
      const first = await other.claim(request.id, 'replica-2', LEASE, T0 + 2 + LEASE);
      expect(first.kind === 'claimed' && first.request.progress['takeovers']).toBe('1');
      const second = await store.claim(request.id, 'replica-3', LEASE, T0 + 2 + 2 * LEASE);
      expect(second.kind === 'claimed' && second.recovering && second.request.progress['takeovers']).toBe('2');
      // A request that waited for the workspace slot was never started: its claim is no takeover.
      const waiter = await approvedRequest(store);
      expect((await store.claim(waiter.id, 'replica-2', LEASE, T0 + 3)).kind).toBe('busy');
      await store.finish(request.id, 'replica-3', { state: 'succeeded', outcome: 'done' }, T0 + 2 + 2 * LEASE + 1);
      const late = await store.claim(waiter.id, 'replica-2', LEASE, T0 + 10 * GRACE);
      expect(late.kind === 'claimed' && [late.recovering, late.request.progress['takeovers']]).toEqual([false, undefined]);
    });
  });

  describe('rotations', () => {
    it('waits to finish after the successor, then runs the retire step under a fresh approval', async () => {
      const { store, peek } = stores();
      const rotation = await created(store, rotationRequest('102'), '102');
      await store.approve(rotation.id, 'U_APP', T0 + 1, await seen(store, rotation.id));
      await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
      await store.recordProgress(rotation.id, 'replica-1', { phase: 'stored', vaultPath: 'secrets/205' }, T0 + 3);
      const successor = { id: '205', name: 'Production Web [R-X]', createdAt: T0 + 3 };
      const waiting = await store.finish(
        rotation.id,
        'replica-1',
        { state: 'awaiting_finish', outcome: 'successor 205 created', rotation: { step: 'successor', successor, successorCreatedAt: T0 + 3 } },
        T0 + 3,
      );
      expect(waiting.kind === 'ok' && waiting.request.state).toBe('awaiting_finish');
      expect((await store.listOpen()).map((r) => r.id)).toEqual([rotation.id]);
      expect(await peek.slotHolder('default')).toBeNull();
      expect(await store.staleLeases(T0 + 10 * HOUR)).toEqual([]);

      const retire = await store.startRetireStep(rotation.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, await retireOf(store, rotation.id));
      expect(retire.kind === 'ok' && retire.request).toMatchObject({
        state: 'pending',
        approvals: [],
        expiresAt: T0 + 2 * HOUR,
        rotation: { step: 'retire', successor, successorCreatedAt: T0 + 3, finishRequestedBy: 'U_FIN' },
      });
      // The successor step's breadcrumbs are gone: a recovery of the retire step starts from nothing.
      expect(retire.kind === 'ok' && retire.request.progress).toEqual({});
      expect(await store.dueForExpiry(T0 + 2 * HOUR)).toEqual([rotation.id]);
      expect((await store.approve(rotation.id, 'U_FIN', T0 + HOUR + 1, await seen(store, rotation.id))).kind).toBe('self');
      expect((await store.approve(rotation.id, 'U_REQ', T0 + HOUR + 1, await seen(store, rotation.id))).kind).toBe('self');
      expect((await store.approve(rotation.id, 'U_APP', T0 + HOUR + 1, await seen(store, rotation.id))).kind).toBe('approved');
      expect((await store.claim(rotation.id, 'replica-2', LEASE, T0 + HOUR + 2)).kind).toBe('claimed');
      const done = await store.finish(rotation.id, 'replica-2', { state: 'succeeded', outcome: '102 deleted' }, T0 + HOUR + 3);
      expect(done.kind === 'ok' && done.request.state).toBe('succeeded');
      expect(await peek.rotationHolder('default:102')).toBeNull();
    });

    it('a rejected or expired retire step goes back to waiting to finish; the rotation stays open', async () => {
      const { store } = stores();
      const rotation = await created(store, rotationRequest('102'), '102');
      await store.approve(rotation.id, 'U_APP', T0 + 1, await seen(store, rotation.id));
      await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
      await store.finish(rotation.id, 'replica-1', { state: 'awaiting_finish', outcome: 'successor created', rotation: { step: 'successor' } }, T0 + 3);

      await store.startRetireStep(rotation.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, await retireOf(store, rotation.id));
      const rejected = await store.reject(rotation.id, 'U_APP', 'signers not ready', T0 + HOUR + 1);
      expect(rejected.kind === 'ok' && rejected.request).toMatchObject({ state: 'awaiting_finish', approvals: [], rotation: { step: 'successor' } });
      expect(rejected.kind === 'ok' && rejected.request.rotation?.finishRequestedBy).toBeUndefined();

      await store.startRetireStep(rotation.id, 'U_FIN', T0 + 3 * HOUR, T0 + 2 * HOUR, await retireOf(store, rotation.id));
      expect(await store.dueForExpiry(T0 + 3 * HOUR)).toEqual([rotation.id]);
      const expired = await store.expire(rotation.id, T0 + 3 * HOUR);
      expect(expired.kind === 'ok' && expired.request.state).toBe('awaiting_finish');
      expect(await store.dueForExpiry(T0 + 4 * HOUR)).toEqual([]);
      expect((await store.listOpen()).map((r) => r.id)).toEqual([rotation.id]);
    });

    it('abandons a rotation waiting to finish, keeping both secrets', async () => {
      const { store } = stores();
      const rotation = await created(store, rotationRequest('102'), '102');
      await store.approve(rotation.id, 'U_APP', T0 + 1, await seen(store, rotation.id));
      await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
      await store.finish(rotation.id, 'replica-1', { state: 'awaiting_finish', outcome: 'successor created' }, T0 + 3);
      const result = await store.abandon(rotation.id, 'U_REQ', 'abandoned: both secrets kept', T0 + 4);
      expect(result.kind === 'ok' && result.request).toMatchObject({ state: 'succeeded', outcome: 'abandoned: both secrets kept' });
      expect(await store.listOpen()).toEqual([]);
      expect((await store.create({ request: rotationRequest('102'), maxOpenPerRequester: 5, rotationOf: '102' })).kind).toBe('created');
    });

    it('a failed retire step goes back to waiting to finish, its approvals cleared, the successor kept', async () => {
      const { store, peek } = stores();
      const rotation = await created(store, rotationRequest('102'), '102');
      await store.approve(rotation.id, 'U_APP', T0 + 1, await seen(store, rotation.id));
      await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
      const successor = { id: '205', name: 'Production Web [R-X]', createdAt: T0 + 3 };
      await store.finish(
        rotation.id,
        'replica-1',
        { state: 'awaiting_finish', outcome: 'successor created', rotation: { step: 'successor', successor } },
        T0 + 3,
      );
      await store.startRetireStep(rotation.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, await retireOf(store, rotation.id));
      await store.approve(rotation.id, 'U_APP', T0 + HOUR + 1, await seen(store, rotation.id));
      await store.claim(rotation.id, 'replica-2', LEASE, T0 + HOUR + 2);
      const failed = await store.finish(rotation.id, 'replica-2', { state: 'failed', outcome: 'Intercom refused the delete' }, T0 + HOUR + 3);
      expect(failed.kind === 'ok' && failed.request).toMatchObject({
        state: 'awaiting_finish',
        approvals: [],
        outcome: 'Intercom refused the delete',
        rotation: { step: 'successor', successor },
      });
      expect(failed.kind === 'ok' && failed.request.rotation?.finishRequestedBy).toBeUndefined();
      expect(await peek.slotHolder('default')).toBeNull();
      expect(await peek.rotationHolder('default:102')).toBe(rotation.id);
      expect(await store.staleLeases(T0 + 10 * HOUR)).toEqual([]);
      // Still the requester's to call off.
      const cancelled = await store.cancel(rotation.id, 'U_REQ', T0 + HOUR + 4);
      expect(cancelled.kind === 'ok' && cancelled.request.state).toBe('cancelled');
      expect(await peek.rotationHolder('default:102')).toBeNull();
    });

    it('refuses to park a request that is not a rotation in awaiting_finish', async () => {
      const { store } = stores();
      const request = await executingRequest(store, 'replica-1');
      const result = await store.finish(request.id, 'replica-1', { state: 'awaiting_finish', outcome: 'x' }, T0 + 3);
      expect(result.kind).toBe('refused');
      expect((await store.get(request.id))?.state).toBe('executing');
    });

    it('refuses to start the retire step of a rotation that is not waiting to finish', async () => {
      const { store } = stores();
      const rotation = await created(store, rotationRequest('102'), '102');
      expect((await store.startRetireStep(rotation.id, 'U_FIN', T0 + HOUR, T0 + 1, await retireOf(store, rotation.id))).kind).toBe('refused');
    });
  });

  describe('decisions bound to the step the card showed', () => {
    it('a decision naming another step than the current one changes nothing, inside the same transition', async () => {
      const { store } = stores();
      const request = await created(store, newRequest());
      expect((await store.approve(request.id, 'U_APP', T0 + 1, 'ffff-0000')).kind).toBe('changed');
      // An approval always names the step it was given for.
      expect((await store.approve(request.id, 'U_APP', T0 + 1, '')).kind).toBe('changed');
      expect((await store.reject(request.id, 'U_APP', 'no', T0 + 1, 'ffff-0000')).kind).toBe('changed');
      expect(await store.get(request.id)).toMatchObject({ state: 'pending', approvals: [] });
      expect((await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint)).kind).toBe('approved');
    });

    it("a rotation's delete step has its own fingerprint: the first step's buttons no longer count", async () => {
      const { store } = stores();
      const rotation = await created(store, rotationRequest('102'), '102');
      const step1 = rotation.fingerprint;
      await store.approve(rotation.id, 'U_APP', T0 + 1, step1);
      await store.claim(rotation.id, 'replica-1', LEASE, T0 + 2);
      await store.finish(rotation.id, 'replica-1', { state: 'awaiting_finish', outcome: 'successor created', rotation: { step: 'successor' } }, T0 + 3);
      expect((await store.abandon(rotation.id, 'U_REQ', 'x', T0 + 4, 'ffff-0000')).kind).toBe('changed');
      expect((await store.startRetireStep(rotation.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, { seen: 'ffff-0000', retire: 'aaaa-bbbb' })).kind).toBe('changed');
      expect((await store.startRetireStep(rotation.id, 'U_FIN', T0 + 2 * HOUR, T0 + HOUR, { seen: step1, retire: 'aaaa-bbbb' })).kind).toBe('ok');
      expect((await store.approve(rotation.id, 'U_APP', T0 + HOUR + 1, step1)).kind).toBe('changed');
      expect((await store.withdraw(rotation.id, 'U_APP', T0 + HOUR + 1, step1)).kind).toBe('changed');
      expect((await store.reject(rotation.id, 'U_APP', 'x', T0 + HOUR + 1, step1)).kind).toBe('changed');
      expect((await store.get(rotation.id))?.state).toBe('pending');
      expect((await store.approve(rotation.id, 'U_APP', T0 + HOUR + 1, 'aaaa-bbbb')).kind).toBe('approved');
    });
  });

  describe('events told with their transition (TellWith, SPEC §8)', () => {
    const approvedEvent = (approvals: number) => ({ type: 'approved', actor: 'U_APP', at: T0 + 1, detail: { approvals, required: 1 } }) as const;
    const executingEvent = (at: number) => ({ type: 'executing', at, detail: { step: 'create' } }) as const;

    it('a decisive approval and its claim record their audit entries, card updates and replies in their own steps', async () => {
      const { telling: store, told } = stores();
      const request = await created(store, newRequest());
      const approved = await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
      expect(approved).toMatchObject({ kind: 'approved', told: true });
      const claim = await store.claim(request.id, 'replica-1', LEASE, T0 + 2, { request, event: executingEvent(T0 + 2), ifRecovering: false });
      expect(claim).toMatchObject({ kind: 'claimed', recovering: false, told: true });
      expect(await told.auditTypes(request.id)).toEqual(['approved', 'executing']);
      // After the card post create recorded: each event's card update, then its reply.
      expect(await told.outboxKinds(request.channel)).toEqual(['card', 'card', 'reply', 'card', 'reply']);
    });

    it('an approval that counts but does not decide records its event too, when the count is the one expected', async () => {
      const { telling: store, told } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      const first = await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
      expect(first).toMatchObject({ kind: 'recorded', told: true });
      expect(await told.auditTypes(request.id)).toEqual(['approved']);
    });

    it('declines when the count moved meanwhile: the approval still counts, nothing of the event is recorded', async () => {
      const { telling: store, told } = stores();
      const request = await created(store, newRequest({ approvalsRequired: 2 }));
      expect((await store.approve(request.id, 'U_OTHER', T0 + 1, await seen(store, request.id))).kind).toBe('recorded');
      const result = await store.approve(request.id, 'U_APP', T0 + 2, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
      expect(result).toMatchObject({ kind: 'approved', told: false });
      expect(await told.auditTypes(request.id)).toEqual([]);
      expect(await told.outboxKinds(request.channel)).toEqual(['card']);
    });

    it('a claim that turns out to be a takeover does not record the "executing" it was given', async () => {
      const { telling: store, told } = stores();
      const request = await created(store, newRequest());
      await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id));
      const claim = await store.claim(request.id, 'replica-2', LEASE, T0 + 1 + GRACE, { request, event: executingEvent(T0 + 1 + GRACE), ifRecovering: false });
      expect(claim).toMatchObject({ kind: 'claimed', recovering: true, told: false });
      expect(await told.auditTypes(request.id)).toEqual([]);
    });

    for (const [n, c] of TELLING_CASES.entries()) {
      it(`${c.name} records its event, card update and reply in its own step; its result is the one it has without a tell`, async () => {
        const { telling: store, told } = stores();
        const { request, tell, run } = await c.setUp(store, 2 * n);
        const before = (await told.outboxKinds(request.channel)).length;
        const typesBefore = await told.auditTypes(request.id);
        const result = await run(tell);
        expect(result).toMatchObject({ kind: 'ok', told: true, request: { state: c.state } });
        expect(await told.auditTypes(request.id)).toEqual([...typesBefore, tell.event.type]);
        expect((await told.outboxKinds(request.channel)).slice(before)).toEqual(['card', 'reply']);

        const plain = await c.setUp(store, 2 * n + 1);
        const without = await plain.run();
        expect(without).not.toHaveProperty('told');
        const { told: _told, ...withTell } = result as Extract<TransitionResult, { kind: 'ok' }>;
        expect(outcomeOf(withTell)).toEqual(outcomeOf(without));
      });
    }

    it('a transition that does not apply records nothing of its event', async () => {
      const { telling: store, told } = stores();
      const request = await created(store, newRequest());
      await store.cancel(request.id, 'U_REQ', T0 + 1);
      const event = { type: 'rejected', actor: 'U_APP', at: T0 + 2, detail: { reason: 'late' } } as const;
      expect((await store.reject(request.id, 'U_APP', 'late', T0 + 2, undefined, { request, event })).kind).toBe('refused');
      expect((await store.expire(request.id, T0 + HOUR, { request, event: { type: 'expired', at: T0 + HOUR, detail: {} } })).kind).toBe('refused');
      expect(await told.auditTypes(request.id)).toEqual([]);
      expect(await told.outboxKinds(request.channel)).toEqual(['card']);
    });

    it('declines when the state or the count the caller expected does not hold: the transition still applies', async () => {
      const { telling: store, told } = stores();
      const retiring = await retireStep(store, '102');
      await store.approve(retiring.id, 'U_APP', T0 + HOUR + 1, await seen(store, retiring.id));
      await store.claim(retiring.id, 'replica-2', LEASE, T0 + HOUR + 2);
      // The caller expected a plain failure; the store puts the failed retire step back to waiting.
      const detail = { outcome: 'refused', state: 'failed', action: 'rotate', step: 'retire' } as const;
      const failed = await store.finish(retiring.id, 'replica-2', { state: 'failed', outcome: 'refused' }, T0 + HOUR + 3, {
        request: retiring,
        event: { type: 'failed', at: T0 + HOUR + 3, detail },
        ifState: 'failed',
      });
      expect(failed).toMatchObject({ kind: 'ok', told: false, request: { state: 'awaiting_finish' } });

      const pending = await created(store, newRequest());
      await store.approve(pending.id, 'U_APP', T0 + 1, await seen(store, pending.id));
      const late = await store.expire(pending.id, T0 + HOUR, { request: pending, event: { type: 'expired', at: T0 + HOUR, detail: {} }, ifApprovals: 1 });
      expect(late.kind).toBe('refused');
      const counted = await created(store, newRequest({ approvalsRequired: 2 }));
      await store.approve(counted.id, 'U_APP', T0 + 1, await seen(store, counted.id));
      const expired = await store.expire(counted.id, T0 + HOUR, { request: counted, event: { type: 'expired', at: T0 + HOUR, detail: {} }, ifApprovals: 0 });
      expect(expired).toMatchObject({ kind: 'ok', told: false, request: { state: 'expired' } });
      expect(await told.auditTypes(retiring.id)).toEqual([]);
      expect(await told.auditTypes(counted.id)).toEqual([]);
    });

    it('a store not wired to record events declines every one (the caller tells it)', async () => {
      const { store, told } = stores();
      const request = await created(store, newRequest());
      const approved = await store.approve(request.id, 'U_APP', T0 + 1, await seen(store, request.id), { request, event: approvedEvent(1), ifApprovals: 1 });
      expect(approved).toMatchObject({ kind: 'approved', told: false });
      const claim = await store.claim(request.id, 'replica-1', LEASE, T0 + 2, { request, event: executingEvent(T0 + 2), ifRecovering: false });
      expect(claim).toMatchObject({ kind: 'claimed', told: false });
      const finished = await store.finish(request.id, 'replica-1', { state: 'succeeded', outcome: 'done' }, T0 + 3, {
        request,
        event: { type: 'succeeded', at: T0 + 3, detail: { outcome: 'done', state: 'succeeded', action: 'create', step: 'create' } },
      });
      expect(finished).toMatchObject({ kind: 'ok', told: false });
      expect(await told.auditTypes(request.id)).toEqual([]);
      expect(await told.outboxKinds(request.channel)).toEqual(['card']);
    });
  });

  describe('keys per workspace (SPEC §9)', () => {
    const inWorkspace = (request: ApprovalRequest, workspace: string): ApprovalRequest => ({ ...request, operation: { ...request.operation, workspace } });
    const rotationIn = (workspace: string, secretId: string) => inWorkspace(rotationRequest(secretId), workspace);

    it('secret ids repeat across workspaces: one open rotation per secret of each workspace', async () => {
      const { store, peek } = stores();
      const us = await store.create({ request: rotationIn('us', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
      const eu = await store.create({ request: rotationIn('eu', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
      expect([us.kind, eu.kind]).toEqual(['created', 'created']);
      const again = await store.create({ request: rotationIn('eu', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
      expect(again).toEqual({ kind: 'duplicate_rotation', existing: eu.kind === 'created' ? eu.request.id : '' });
      expect(await peek.rotationHolder('us:102')).toBe(us.kind === 'created' ? us.request.id : '');
      expect(await peek.rotationHolder('102')).toBeNull();
    });

    it("the environment's one workspace keeps the first release's key rotation:<id>", async () => {
      const { store, peek } = stores({ unqualifiedWorkspace: 'default' });
      const created = await store.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
      expect(await peek.rotationHolder('102')).toBe(created.kind === 'created' ? created.request.id : '');
      expect(await peek.rotationHolder('default:102')).toBeNull();
    });

    it('after moving from the environment to IVS_CONFIG, a rotation opened before still blocks its secret in its workspace only', async () => {
      const { store: before, replica, peek } = stores({ unqualifiedWorkspace: 'default' });
      const after = replica({});
      const old = await before.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' });
      if (old.kind !== 'created') throw new Error('not created');

      expect(await after.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' })).toEqual({
        kind: 'duplicate_rotation',
        existing: old.request.id,
      });
      expect((await after.create({ request: rotationIn('eu', '102'), maxOpenPerRequester: 9, rotationOf: '102' })).kind).toBe('created');

      // Once the old one closes, its key goes and the new layout takes over.
      await after.cancel(old.request.id, old.request.requester, T0 + 1);
      expect(await peek.rotationHolder('102')).toBeNull();
      expect((await after.create({ request: rotationIn('default', '102'), maxOpenPerRequester: 9, rotationOf: '102' })).kind).toBe('created');
    });

    it('the one-at-a-time slot is per workspace', async () => {
      const { store, peek } = stores();
      const approved = async (workspace: string) => {
        const created = await store.create({ request: inWorkspace(newRequest(), workspace), maxOpenPerRequester: 9 });
        if (created.kind !== 'created') throw new Error('not created');
        await store.approve(created.request.id, 'U_APPROVER', T0 + 1, stepFingerprint(created.request));
        return created.request.id;
      };
      const us1 = await approved('us');
      const us2 = await approved('us');
      const eu1 = await approved('eu');
      expect((await store.claim(us1, 'replica-a', LEASE, T0 + 2)).kind).toBe('claimed');
      expect((await store.claim(us2, 'replica-a', LEASE, T0 + 2)).kind).toBe('busy');
      expect((await store.claim(eu1, 'replica-a', LEASE, T0 + 2)).kind).toBe('claimed');
      expect([await peek.slotHolder('us'), await peek.slotHolder('eu')]).toEqual([us1, eu1]);
    });
  });
}
