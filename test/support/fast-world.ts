import { Executor } from '../../src/core/executor';
import { Journal } from '../../src/core/journal';
import { Policy } from '../../src/core/policy';
import type { Clock, RequestStore } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { stepFingerprint } from '../../src/core/request-id';
import type { RequestId, SecretInfo } from '../../src/core/types';
import type { Workspace } from '../../src/core/workspace';
import { type FastClock, fastClock } from './fast-clock';
import { MemoryAuditLog, MemoryDirectory, MemoryIntercom, MemoryOutbox, MemoryVault, memoryLog } from './memory-ports';
import { createMemoryRequestStore, MemoryStoreData, type ToldEventSink } from './memory-request-store';
import { HOUR, newRequest } from './request-fixtures';

/** As production: 15 s leases, renewed every 5 s. */
export const LEASE_MS = 15_000;
/** How long a fenced-off executor may still be writing (production derives about 30 s). */
export const HOLDER_WINDOW_MS = 30_000;

/** One replica of the bot's core: its own store connection, executor and timers, over the shared world. */
export interface FastReplica {
  readonly owner: string;
  readonly store: RequestStore;
  readonly executor: Executor;
  /** The Journal its executor tells through. */
  readonly journal: Journal;
  /** The replica stops running its timers (its lease renewals), as a process that hangs or died. */
  freeze(): void;
  thaw(): void;
}

/** An orphan delete the executor asked for (production opens a delete request). */
export interface OrphanDelete {
  readonly requestId: RequestId;
  readonly secret: Pick<SecretInfo, 'id' | 'name' | 'platforms'>;
  readonly why: string;
}

/**
 * The executor and the workflows over in-memory ports and a fast-forward clock: two replicas, one
 * Intercom, one Vault, one audit stream and outbox, in one process, deciding in milliseconds.
 */
export function fastWorld(
  opts: {
    secrets?: readonly SecretInfo[];
    /** What a replica's store connection does instead (an answer lost on the way back, say). */
    storeOf?: (store: RequestStore, owner: string) => RequestStore;
  } = {},
) {
  const clock: FastClock = fastClock();
  const data = new MemoryStoreData(() => clock.now());
  const outbox = new MemoryOutbox();
  const audit = new MemoryAuditLog();
  const log = memoryLog();
  const intercom = new MemoryIntercom(opts.secrets);
  const vault = new MemoryVault();
  const directory = new MemoryDirectory();
  const policy = new Policy({ requesters: ['U_REQ'], approvers: ['U_APP', 'U_APP2'], approvalsRequired: 1 }, directory);
  const workspace: Workspace = { name: 'default', intercom, vault, policy, requestTtlMs: HOUR, minOverlapMs: HOUR, log };
  const orphanDeletes: OrphanDelete[] = [];
  // As the bot wires its store: approve and claim may record their event in their own step.
  const toldByStore: string[] = [];
  const told: ToldEventSink = {
    recordTold: (request, event) => {
      toldByStore.push(`${request.id} ${event.type}`);
      audit.events.push(event);
      outbox.recorded.push(
        { requestId: request.id, channel: request.channel, notice: { kind: 'card' } },
        { requestId: request.id, channel: request.channel, notice: { kind: 'reply', event } },
      );
    },
  };

  const replica = (owner: string): FastReplica => {
    let frozen = false;
    const own: Clock = {
      now: () => clock.now(),
      sleep: (ms, signal) => clock.sleep(ms, signal),
      every: (ms, fn) =>
        clock.every(ms, () => {
          if (!frozen) fn();
        }),
    };
    const connection = createMemoryRequestStore({ data, outbox, claimGraceMs: LEASE_MS, tellWith: told });
    const store = opts.storeOf ? opts.storeOf(connection, owner) : connection;
    const journal = new Journal(audit, outbox, log);
    const executor = new Executor({
      store,
      workspaces: new Map([[workspace.name, workspace]]),
      journal,
      clock: own,
      log,
      owner,
      leaseMs: LEASE_MS,
      holderWindowMs: HOLDER_WINDOW_MS,
      openOrphanDelete: async (request, secret, why) => {
        orphanDeletes.push({ requestId: request.id, secret, why });
        return 'R-0RPHAN';
      },
    });
    return {
      owner,
      store,
      executor,
      journal,
      freeze: () => {
        frozen = true;
      },
      thaw: () => {
        frozen = false;
      },
    };
  };
  const a = replica('replica-a');
  const b = replica('replica-b');

  return {
    clock,
    data,
    outbox,
    audit,
    log,
    intercom,
    vault,
    directory,
    orphanDeletes,
    /** Events a transition recorded in its own step (TellWith), as `<id> <type>`. */
    toldByStore,
    a,
    b,
    /** A create (or `overrides`) opened now by U_REQ and approved by U_APP: ready to execute. */
    async approved(overrides: Partial<ApprovalRequest> = {}): Promise<ApprovalRequest> {
      const now = clock.now();
      const request = newRequest({ createdAt: now, updatedAt: now, expiresAt: now + HOUR, ...overrides });
      const rotationOf = request.operation.action === 'rotate' ? { rotationOf: request.operation.secretId } : {};
      const created = await a.store.create({ request, maxOpenPerRequester: 9, ...rotationOf });
      if (created.kind !== 'created') throw new Error(`expected created, got ${created.kind}`);
      const approved = await a.store.approve(request.id, 'U_APP', now, stepFingerprint(request));
      if (approved.kind !== 'approved') throw new Error(`expected approved, got ${approved.kind}`);
      return approved.request;
    },
    /** A rotation waiting to finish: U_REQ asks to finish it now and U_APP approves the retire step. */
    async retireApproved(id: RequestId): Promise<ApprovalRequest> {
      const now = clock.now();
      const waiting = await a.store.get(id);
      if (waiting?.state !== 'awaiting_finish') throw new Error(`expected awaiting_finish, got ${waiting?.state}`);
      const retire = stepFingerprint({ fingerprint: waiting.fingerprint, rotation: { ...waiting.rotation, step: 'retire' } });
      const started = await a.store.startRetireStep(id, 'U_REQ', now + HOUR, now, { seen: stepFingerprint(waiting), retire });
      if (started.kind !== 'ok') throw new Error(`expected the retire step, got ${started.kind}`);
      const approved = await a.store.approve(id, 'U_APP', now, retire);
      if (approved.kind !== 'approved') throw new Error(`expected approved, got ${approved.kind}`);
      return approved.request;
    },
    /** The request as the store holds it now. */
    async stored(id: RequestId): Promise<ApprovalRequest> {
      const request = await a.store.get(id);
      if (!request) throw new Error(`${id} is not in the store`);
      return request;
    },
    /** Intercom creates sent for the request. */
    createsOf(id: RequestId): string[] {
      return intercom.calls.filter((c) => c.startsWith('create ') && c.includes(`[${id}]`));
    },
  };
}

export type FastWorld = ReturnType<typeof fastWorld>;

/** A promise and its resolve, for a port call the test holds back. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A port call that never answers: the process making it hangs there (or died). */
export const never = (): Promise<never> => new Promise<never>(() => undefined);
