import { describe, expect, it } from 'vitest';
import { Journal } from '../../../src/core/journal';
import { StoreUnavailableError } from '../../../src/core/errors';
import type { CardPosting } from '../../../src/core/ports';
import { Policy } from '../../../src/core/policy';
import { stepFingerprint } from '../../../src/core/request-id';
import type { RequestId, SecretInfo } from '../../../src/core/types';
import { requestUseCases, openOrphanDelete, type UseCaseDeps } from '../../../src/core/use-cases';
import type { Workspace } from '../../../src/core/workspace';
import { fastClock } from '../../support/fast-clock';
import { deferred } from '../../support/fast-world';
import { MemoryAuditLog, MemoryDirectory, MemoryIntercom, MemoryOutbox, MemoryVault, memoryLog } from '../../support/memory-ports';
import { createMemoryRequestStore, type ToldEventSink } from '../../support/memory-request-store';
import { HOUR } from '../../support/request-fixtures';

/** An outbox whose first card post goes as `posting` says. */
class CardOutbox extends MemoryOutbox {
  readonly waitedFor: RequestId[] = [];
  constructor(private readonly posting: CardPosting = { kind: 'posted' }) {
    super();
  }
  override async cardPosting(id?: RequestId): Promise<CardPosting> {
    if (id) this.waitedFor.push(id);
    return this.posting;
  }
}

const SECRET: SecretInfo = { id: '102', name: 'Production Web', platforms: ['web'], createdAt: 0 };

/**
 * The use cases over in-memory ports, with an executor that only notes what it was asked to run.
 * `telling`: the store records the events its transitions are given (TellWith), as the bot's does.
 */
function world(posting?: CardPosting, opts: { telling?: boolean; approvalsRequired?: number } = {}) {
  const clock = fastClock();
  const outbox = new CardOutbox(posting);
  const log = memoryLog();
  const audit = new MemoryAuditLog();
  const toldByStore: string[] = [];
  const told: ToldEventSink = {
    recordTold: (request, event) => {
      toldByStore.push(event.type);
      audit.events.push(event);
      outbox.recorded.push(
        { requestId: request.id, channel: request.channel, notice: { kind: 'card' } },
        { requestId: request.id, channel: request.channel, notice: { kind: 'reply', event } },
      );
    },
  };
  const store = createMemoryRequestStore({ outbox, ...(opts.telling ? { tellWith: told } : {}) });
  const policy = new Policy({ requesters: ['U_REQ'], approvers: ['U_APP', 'U_APP2'], approvalsRequired: opts.approvalsRequired ?? 1 }, new MemoryDirectory());
  const intercom = new MemoryIntercom([SECRET]);
  const workspace: Workspace = { name: 'default', intercom, vault: new MemoryVault(), policy, requestTtlMs: HOUR, minOverlapMs: HOUR, log };
  const deps: UseCaseDeps = {
    store,
    journal: new Journal(audit, outbox, log),
    outbox,
    workspaces: new Map([['default', workspace]]),
    clock,
    log,
  };
  const executed: (RequestId | undefined)[] = [];
  const executor = { execute: async (id: RequestId) => void executed.push(id) };
  return { deps, store, outbox, audit, toldByStore, clock, executed, requests: requestUseCases({ ...deps, executor, maxOpenPerRequester: 5 }) };
}

const requester = { userId: 'U_REQ', teamId: 'T1' };
const approver = { userId: 'U_APP', teamId: 'T1' };

async function opened(w: ReturnType<typeof world>): Promise<RequestId> {
  const outcome = await w.requests.open(requester, 'C_OPS', 'default', { action: 'create', name: 'Web 2027', platforms: ['web'], reason: 'yearly' });
  if (outcome.kind !== 'opened') throw new Error(`expected opened, got ${outcome.kind}`);
  return outcome.id;
}

describe('the use cases', () => {
  it('opening a request says which it is and how many approvals it needs, once its card is posted', async () => {
    const w = world();
    const outcome = await w.requests.open(requester, 'C_OPS', 'default', { action: 'create', name: 'Web 2027', platforms: ['web'], reason: 'yearly' });
    expect(outcome).toMatchObject({ kind: 'opened', approvalsRequired: 1, card: 'posted' });
    expect(w.outbox.waitedFor).toHaveLength(1);
  });

  it('a card Slack refuses cancels the request it was opened for', async () => {
    const w = world({ kind: 'refused', error: 'not_in_channel' });
    const outcome = await w.requests.open(requester, 'C_OPS', 'default', { action: 'create', name: 'Web 2027', platforms: ['web'], reason: 'yearly' });
    if (outcome.kind !== 'card_refused') throw new Error(`expected card_refused, got ${outcome.kind}`);
    expect(outcome.error).toBe('not_in_channel');
    expect((await w.store.get(outcome.id))?.state).toBe('cancelled');
  });

  it('the requester approving their own request is refused by the policy, as their own request, and nothing is counted', async () => {
    const w = world();
    const id = await opened(w);
    const request = await w.store.get(id);
    const outcome = await w.requests.approve(requester, id, stepFingerprint(request ?? never()));
    expect(outcome).toEqual({ kind: 'not_allowed', reason: 'you cannot approve or reject your own request', ownRequest: true, workspace: 'default' });
    expect((await w.store.get(id))?.approvals).toEqual([]);
  });

  it('the decisive approval is counted and starts the execution', async () => {
    const w = world();
    const id = await opened(w);
    const request = await w.store.get(id);
    const outcome = await w.requests.approve(approver, id, stepFingerprint(request ?? never()));
    expect(outcome).toEqual({ kind: 'approved', id, approvals: 1, required: 1, workspace: 'default' });
    expect(w.executed).toEqual([id]);
  });

  it('a click from a card that showed another step counts nothing, carries no workspace label, and refreshes the card', async () => {
    const w = world();
    const id = await opened(w);
    const before = w.outbox.recorded.length;
    const outcome = await w.requests.approve(approver, id, '0000-0000');
    const request = await w.store.get(id);
    expect(outcome).toEqual({ kind: 'card_changed', id, fingerprint: stepFingerprint(request ?? never()), nothing: 'counted' });
    expect(w.outbox.recorded.slice(before)).toEqual([{ requestId: id, channel: 'C_OPS', notice: { kind: 'card' } }]);
    expect(w.executed).toEqual([]);
  });

  it('an orphan delete is opened in the name of the request that left it, as its orphan, without waiting for its card', async () => {
    const w = world();
    const origin = await w.store.get(await opened(w));
    const id = await openOrphanDelete(w.deps, origin ?? never(), SECRET, 'the create was interrupted');
    const orphan = await w.store.get(id ?? '');
    expect(orphan).toMatchObject({
      requester: 'U_REQ',
      channel: 'C_OPS',
      operation: { action: 'delete', secretId: '102', force: true },
      orphanOf: origin?.id,
      reason: `orphan of ${origin?.id}: the create was interrupted; its material is not in Vault, so nobody can sign with it`,
    });
    expect(w.outbox.waitedFor).not.toContain(id);
  });

  it("opened again after an orphan's delete failed: the orphan of the same create, in the same requester's name", async () => {
    const w = world();
    const origin = (await w.store.get(await opened(w))) ?? never();
    const first = (await w.store.get((await openOrphanDelete(w.deps, origin, SECRET, 'the create was interrupted')) ?? '')) ?? never();
    const again = await openOrphanDelete(w.deps, first, SECRET, `its delete request ${first.id} failed`);
    expect(await w.store.get(again ?? '')).toMatchObject({
      requester: 'U_REQ',
      orphanOf: origin.id,
      operation: { action: 'delete', secretId: '102', force: true },
      reason: `orphan of ${origin.id}: its delete request ${first.id} failed; its material is not in Vault, so nobody can sign with it`,
    });
  });
});

function never(): never {
  throw new Error('the request is not in the store');
}

describe('events recorded with their transition (SPEC §8)', () => {
  /** What the thread gets of a request: each event's card update, then its reply. */
  const threadOf = (w: ReturnType<typeof world>, id: RequestId) =>
    w.outbox.recorded.flatMap((r) => ('notice' in r && r.requestId === id ? [r.notice.kind === 'card' ? 'card' : r.notice.event.type] : []));

  it('a rejection, a cancel, a withdrawal and an expiry record their event in their own step while the Journal records nothing for the request', async () => {
    const w = world(undefined, { telling: true, approvalsRequired: 2 });
    const rejected = await opened(w);
    expect(await w.requests.reject(approver, rejected, 'not now')).toMatchObject({ kind: 'rejected' });
    const cancelled = await opened(w);
    expect(await w.requests.cancel(requester, cancelled)).toMatchObject({ kind: 'cancelled' });
    const withdrawn = await opened(w);
    await w.requests.approve(approver, withdrawn, stepFingerprint((await w.store.get(withdrawn)) ?? never()));
    expect(await w.requests.withdraw(approver, withdrawn)).toMatchObject({ kind: 'withdrawn' });
    await w.clock.advance(HOUR);
    expect(await w.requests.expireDue()).toBe(1);
    expect(w.toldByStore).toEqual(['rejected', 'cancelled', 'approved', 'withdrawn', 'expired']);
    expect(w.audit.typesOf(rejected)).toEqual(['requested', 'rejected']);
    expect(w.audit.typesOf(withdrawn)).toEqual(['requested', 'approved', 'withdrawn', 'expired']);
    expect(w.audit.events.find((e) => e.type === 'withdrawn')?.detail).toEqual({ approvals: 0, required: 2 });
    expect(threadOf(w, cancelled)).toEqual(['requested', 'card', 'cancelled']);
  });

  it('never overtakes an event the Journal is still recording: the rejection is then told through the Journal, after it', async () => {
    const w = world(undefined, { telling: true });
    const id = await opened(w);
    const release = w.audit.hold();
    const reminding = w.deps.journal.tell((await w.store.get(id)) ?? never(), { type: 'approval_reminder', at: w.clock.now(), detail: { approvers: 'U_APP' } });
    // Released once the rejection itself is stored: the reminder is still being recorded until then.
    const reject = w.store.reject.bind(w.store);
    let stored: (tell: unknown) => void = () => undefined;
    const rejectedWith = new Promise<unknown>((resolve) => {
      stored = resolve;
    });
    w.store.reject = async (...args) => {
      const result = await reject(...args);
      stored(args[5]);
      return result;
    };
    const rejecting = w.requests.reject(approver, id, 'not now');
    expect(await rejectedWith).toBeUndefined();
    release();
    await reminding;
    expect(await rejecting).toMatchObject({ kind: 'rejected' });
    expect(w.toldByStore).toEqual([]);
    expect(w.audit.typesOf(id)).toEqual(['requested', 'approval_reminder', 'rejected']);
    expect(threadOf(w, id)).toEqual(['requested', 'card', 'approval_reminder', 'card', 'rejected']);
  });

  it('a transition sent while an earlier one of the request is still in its store call records its event after that one, in the order the store applied them', async () => {
    const w = world(undefined, { telling: true, approvalsRequired: 2 });
    const id = await opened(w);
    await w.requests.approve(approver, id, stepFingerprint((await w.store.get(id)) ?? never()));
    // The withdrawal applies at once, but its answer is held and declines its event (another
    // replica's entry came first, say): the Journal is to tell it once the answer arrives.
    const withdraw = w.store.withdraw.bind(w.store);
    const withdrawApplied = deferred();
    const answer = deferred();
    w.store.withdraw = async (rid, user, now, seenStep) => {
      const result = await withdraw(rid, user, now, seenStep);
      withdrawApplied.resolve();
      await answer.promise;
      return result;
    };
    const cancel = w.store.cancel.bind(w.store);
    const cancelApplied = deferred<unknown>();
    w.store.cancel = async (...args) => {
      const result = await cancel(...args);
      cancelApplied.resolve(args[3]);
      return result;
    };
    const withdrawing = w.requests.withdraw(approver, id);
    await withdrawApplied.promise;
    const cancelling = w.requests.cancel(requester, id);
    // Sent while the withdrawal's event was still on its way: the cancel gets none to record itself.
    expect(await cancelApplied.promise).toBeUndefined();
    answer.resolve();
    expect(await withdrawing).toMatchObject({ kind: 'withdrawn' });
    expect(await cancelling).toMatchObject({ kind: 'cancelled' });
    expect(w.toldByStore).toEqual(['approved']);
    expect(w.audit.typesOf(id)).toEqual(['requested', 'approved', 'withdrawn', 'cancelled']);
    expect(threadOf(w, id)).toEqual(['requested', 'card', 'approved', 'card', 'withdrawn', 'card', 'cancelled']);
  });

  it('a store call that fails leaves the request to the next transition, which records its event in its own step', async () => {
    const w = world(undefined, { telling: true });
    const id = await opened(w);
    const reject = w.store.reject.bind(w.store);
    w.store.reject = async () => {
      throw new StoreUnavailableError('Redis is down');
    };
    await expect(w.requests.reject(approver, id, 'not now')).rejects.toBeInstanceOf(StoreUnavailableError);
    w.store.reject = reject;
    expect(await w.requests.reject(approver, id, 'not now')).toMatchObject({ kind: 'rejected' });
    expect(w.toldByStore).toEqual(['rejected']);
    expect(w.audit.typesOf(id)).toEqual(['requested', 'rejected']);
  });

  it('a store that declines (not wired) leaves every event to the Journal, told exactly as before', async () => {
    const w = world(undefined, { approvalsRequired: 2 });
    const id = await opened(w);
    await w.requests.reject(approver, id, 'not now');
    expect(w.toldByStore).toEqual([]);
    expect(w.audit.typesOf(id)).toEqual(['requested', 'rejected']);
    expect(threadOf(w, id)).toEqual(['requested', 'card', 'rejected']);
  });
});
