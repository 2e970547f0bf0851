/**
 * Every audit event and the facts it carries: the one place a reader finds them all. Writers (the
 * request service, the executor, the workflows, the rotation watch) build these; readers (the
 * thread replies, `/ivs status`, `/ivs audit`, the metrics) narrow on `type` and read typed fields,
 * so a field written by nobody, or read by nobody who should, is a compile error, not a drift.
 *
 * Details are plain facts only: ids, paths, versions, codes. Never material, never free text longer
 * than a reason. They are stored as JSON in the audit stream and hashed as stored, so a field here
 * is never renamed or reshaped: a new fact is a new (optional, for the entries already stored) field.
 */
import type { Action, RequestState, RotationProgress } from './request';
import { FINAL_STATES, OPEN_STATES } from './request';
import type { RequestId, UserId } from './types';

/** Every audit event type, in the order of a request's life; the one list the readers check against. */
export const AUDIT_EVENT_TYPES = [
  'requested',
  'approved',
  'withdrawn',
  'rejected',
  'cancelled',
  'expired',
  'executing',
  'created',
  'deleted',
  'already_gone',
  'failed',
  'rolled_back',
  'recovered',
  'orphan',
  'succeeded',
  'finish_requested',
  'abandoned',
  'waiting',
  'retrying',
  // SPEC §10 nudges in the thread: a rotation waiting to be finished, a request waiting for approvers.
  'finish_reminder',
  'approval_reminder',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** The step an execution carries out: the request's action, or the rotation's step. */
export type ExecutionStep = Action | RotationProgress['step'];

/** An event that carries no facts beyond its type, actor and time. */
export type NoDetail = { readonly [key: string]: never };

/** The outcome of an execution, as its final event records it. */
interface Outcome {
  /** What the card says happened (what was done, what was undone, what to do by hand). */
  readonly outcome: string;
  /** The request's state after it: a rotation's successor step (or failed retire step) leaves it `awaiting_finish`. */
  readonly state: RequestState;
  readonly action: Action;
  readonly step: ExecutionStep;
}

/** The detail of each event type, exactly as its writers write it. */
export interface AuditDetails {
  /** `workspace` is absent in the entries of the first release (one workspace then). */
  readonly requested: { readonly action: Action; readonly workspace?: string };
  /** The count after this approval. */
  readonly approved: { readonly approvals: number; readonly required: number };
  /** The count after the withdrawal. */
  readonly withdrawn: { readonly approvals: number; readonly required: number };
  readonly rejected: { readonly reason: string };
  /** `why` only when the bot cancelled it (its card could not be posted); a person's cancel carries none. */
  readonly cancelled: { readonly why?: string };
  readonly expired: NoDetail;
  readonly executing: { readonly step: ExecutionStep };
  /** `vaultVersion` absent when a recovery finished the create (the interrupted executor stored it); `recovered` only then. */
  readonly created: {
    readonly intercomId: string;
    readonly name: string;
    /** Comma-separated. */
    readonly platforms: string;
    readonly vaultPath: string;
    readonly vaultVersion?: number;
    readonly recovered?: true;
  };
  readonly deleted: { readonly intercomId: string; readonly name: string };
  /** `name` absent when the re-list before the DELETE did not show the secret any more. */
  readonly already_gone: { readonly intercomId: string; readonly name?: string };
  readonly failed: Outcome;
  /** The compensating delete of a create whose material Vault refused: what Intercom said to it. */
  readonly rolled_back: { readonly intercomId: string; readonly result: 'deleted' | 'already_gone' };
  readonly recovered: { readonly note: string };
  /** `deleteRequestId` is '' when no delete request could be opened. */
  readonly orphan: { readonly intercomId: string; readonly deleteRequestId: string };
  readonly succeeded: Outcome;
  /** The rotated (old) secret whose delete now needs approval. */
  readonly finish_requested: { readonly secretId: string };
  readonly abandoned: NoDetail;
  /** The request holding the workspace's create/delete slot. */
  readonly waiting: { readonly holder: RequestId };
  readonly retrying: { readonly why: string };
  /** `successorId` is '' when the rotation has no successor on record. */
  readonly finish_reminder: { readonly waitingMs: number; readonly successorId: string };
  /** Slack user or group ids, space-separated. */
  readonly approval_reminder: { readonly approvers: string };
}

/** One event of type `T`, as it is told and stored. */
export interface AuditEventOf<T extends AuditEventType> {
  readonly requestId: RequestId;
  readonly type: T;
  /** Who caused it; absent for the bot's own steps (expiry, recovery). */
  readonly actor?: UserId;
  readonly at: number;
  readonly detail: AuditDetails[T];
  /**
   * The request's workspace, for the `audit: true` log line and the metrics. Not part of the stored,
   * hashed entry (the request's `requested` entry records it in its detail).
   */
  readonly workspace?: string;
}

/** Any audit event: narrow on `type` to read its detail. */
export type AuditEvent = { [T in AuditEventType]: AuditEventOf<T> }[AuditEventType];

/** An event without the given fields, still one union member per type (a plain Omit would merge the details). */
export type AuditEventWithout<K extends keyof AuditEventOf<AuditEventType>> = { [T in AuditEventType]: Omit<AuditEventOf<T>, K> }[AuditEventType];

/** An event for the Journal (or a transition's TellWith) to tell: the request it is about is given apart. */
export type EventToTell = AuditEventWithout<'requestId' | 'workspace'>;

// ---------------------------------------------------------------------------------------------
// Decoding a stored detail: the audit stream is read back from Redis, where anything may sit (an
// entry of a newer or older bot, one edited by hand). Only a detail that has every field its type
// says, of the kind it says, is handed to the readers as that type.

type Check<V> = (value: unknown) => value is V;

const isString: Check<string> = (v): v is string => typeof v === 'string';
const isNumber: Check<number> = (v): v is number => typeof v === 'number' && Number.isFinite(v);
const isTrue: Check<true> = (v): v is true => v === true;
const oneOf =
  <const V extends string>(values: readonly V[]): Check<V> =>
  (v): v is V =>
    typeof v === 'string' && (values as readonly string[]).includes(v);
const optional =
  <V>(check: Check<V>): Check<V | undefined> =>
  (v): v is V | undefined =>
    v === undefined || check(v);

const ACTIONS = ['create', 'delete', 'rotate'] as const satisfies readonly Action[];
const isAction = oneOf<Action>(ACTIONS);
const isStep = oneOf<ExecutionStep>([...ACTIONS, 'successor', 'retire']);
const isState = oneOf<RequestState>([...OPEN_STATES, ...FINAL_STATES]);

/** A check for every field of a detail (absent fields read as undefined). */
type DetailChecks<D> = { readonly [K in keyof D]-?: Check<D[K]> };

const OUTCOME: DetailChecks<Outcome> = { outcome: isString, state: isState, action: isAction, step: isStep };
const COUNT: DetailChecks<AuditDetails['approved']> = { approvals: isNumber, required: isNumber };

const DETAIL_CHECKS: { readonly [T in AuditEventType]: DetailChecks<AuditDetails[T]> } = {
  requested: { action: isAction, workspace: optional(isString) },
  approved: COUNT,
  withdrawn: COUNT,
  rejected: { reason: isString },
  cancelled: { why: optional(isString) },
  expired: {},
  executing: { step: isStep },
  created: {
    intercomId: isString,
    name: isString,
    platforms: isString,
    vaultPath: isString,
    vaultVersion: optional(isNumber),
    recovered: optional(isTrue),
  },
  deleted: { intercomId: isString, name: isString },
  already_gone: { intercomId: isString, name: optional(isString) },
  failed: OUTCOME,
  rolled_back: { intercomId: isString, result: oneOf(['deleted', 'already_gone']) },
  recovered: { note: isString },
  orphan: { intercomId: isString, deleteRequestId: isString },
  succeeded: OUTCOME,
  finish_requested: { secretId: isString },
  abandoned: {},
  waiting: { holder: isString },
  retrying: { why: isString },
  finish_reminder: { waitingMs: isNumber, successorId: isString },
  approval_reminder: { approvers: isString },
};

const EVENT_TYPES: ReadonlySet<string> = new Set<string>(AUDIT_EVENT_TYPES);

export function isAuditEventType(type: string): type is AuditEventType {
  return EVENT_TYPES.has(type);
}

/**
 * The stored fields of an entry as one of the events above, or why they are not one. Fields a type
 * does not list are kept (they are shown as stored by `/ivs audit`), never relied on.
 */
export function decodeAuditEvent(stored: {
  readonly requestId: string;
  readonly type: string;
  readonly actor?: string;
  readonly at: number;
  readonly detail: unknown;
}): { readonly ok: true; readonly event: AuditEvent } | { readonly ok: false; readonly why: string } {
  const { type, detail } = stored;
  if (!isAuditEventType(type)) return { ok: false, why: `unknown type ${type}` };
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ok: false, why: 'detail is not an object' };
  const fields = detail as Readonly<Record<string, unknown>>;
  const checks: Readonly<Record<string, Check<unknown>>> = DETAIL_CHECKS[type];
  for (const [key, check] of Object.entries(checks)) {
    if (!check(fields[key])) return { ok: false, why: `${type} detail ${key} is missing or not what ${type} records` };
  }
  // Only what a writer writes is stored under an event type: the checks above held for every field.
  const event = { requestId: stored.requestId, type, at: stored.at, detail, ...(stored.actor ? { actor: stored.actor } : {}) } as AuditEvent;
  return { ok: true, event };
}
