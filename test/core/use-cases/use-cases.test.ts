import { describe, expect, it } from 'vitest';
import { Journal } from '../../../src/core/journal';
import type { CardPosting } from '../../../src/core/ports';
import { Policy } from '../../../src/core/policy';
import { stepFingerprint } from '../../../src/core/request-id';
import type { RequestId, SecretInfo } from '../../../src/core/types';
import { requestUseCases, openOrphanDelete, type UseCaseDeps } from '../../../src/core/use-cases';
import type { Workspace } from '../../../src/core/workspace';
import { fastClock } from '../../support/fast-clock';
import { MemoryAuditLog, MemoryDirectory, MemoryIntercom, MemoryOutbox, MemoryVault, memoryLog } from '../../support/memory-ports';
import { createMemoryRequestStore } from '../../support/memory-request-store';
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

/** The use cases over in-memory ports, with an executor that only notes what it was asked to run. */
function world(posting?: CardPosting) {
  const clock = fastClock();
  const outbox = new CardOutbox(posting);
  const log = memoryLog();
  const store = createMemoryRequestStore({ outbox });
  const policy = new Policy({ requesters: ['U_REQ'], approvers: ['U_APP', 'U_APP2'], approvalsRequired: 1 }, new MemoryDirectory());
  const intercom = new MemoryIntercom([SECRET]);
  const workspace: Workspace = { name: 'default', intercom, vault: new MemoryVault(), policy, requestTtlMs: HOUR, minOverlapMs: HOUR, log };
  const deps: UseCaseDeps = {
    store,
    journal: new Journal(new MemoryAuditLog(), outbox, log),
    outbox,
    workspaces: new Map([['default', workspace]]),
    clock,
    log,
  };
  const executed: (RequestId | undefined)[] = [];
  const executor = { execute: async (id: RequestId) => void executed.push(id) };
  return { deps, store, outbox, executed, requests: requestUseCases({ ...deps, executor, maxOpenPerRequester: 5 }) };
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
});

function never(): never {
  throw new Error('the request is not in the store');
}
