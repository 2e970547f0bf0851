// core/: the decisions (requests, policy, use cases, executor, workflows) and the ports they need; no I/O imports.
import type { ApprovalRequest, RequestState } from './request';
import type { CreatedSecret, Platform, RequestId, SecretInfo, UserId } from './types';
import type { AuditEvent, EventToTell } from './audit-events';

/** Intercom's identity verification secrets API. Throws IntercomError. */
export interface Intercom {
  listSecrets(): Promise<SecretInfo[]>;
  /** Never retried blindly: an ambiguous outcome throws IntercomError('ambiguous'). */
  createSecret(input: { name: string; platforms: readonly Platform[] }): Promise<CreatedSecret>;
  /** A 404 (also on a retry after an ambiguous first attempt) resolves to 'already_gone'. */
  deleteSecret(id: string): Promise<'deleted' | 'already_gone'>;
}

/** Who asked for and who approved the secret, stored as Vault custom_metadata. */
export interface Provenance {
  readonly requestId: RequestId;
  readonly requester: UserId;
  readonly approvers: readonly UserId[];
  readonly channel: string;
}

export type MaterialStatus = 'present' | 'missing' | 'deleted';

/** KV v2 layout of SPEC §5. Throws VaultError; no error carries the token or material. */
export interface SecretVault {
  /**
   * Reachable, unsealed, and the token may do what a create (the default) or a delete will need
   * on the secrets and current paths. Throws otherwise.
   */
  preflight(purpose?: 'create' | 'delete'): Promise<void>;
  /** Writes `secrets/<id>` with cas 0 (create only). */
  storeSecret(secret: CreatedSecret, provenance: Provenance): Promise<{ path: string; version: number }>;
  /**
   * Points `current/<platform>` at `target` (its material is read from `secrets/<id>` inside the
   * adapter) with check-and-set, or soft-deletes `current/<platform>` when target is null. With
   * `ifVersion`, only while `current/<platform>` is still at that version (VaultError 'conflict' if not).
   */
  repointCurrent(platform: Platform, target: SecretInfo | null, opts?: { ifVersion?: number }): Promise<{ path: string; version?: number }>;
  /** The Intercom secret id `current/<platform>` hands out now (null when nothing live), and its version. */
  currentTarget(platform: Platform): Promise<{ id: string | null; version: number }>;
  /** Whether `secrets/<id>` holds live material, for each id. */
  materialStatus(ids: readonly string[]): Promise<Map<string, MaterialStatus>>;
  /** Soft-deletes `secrets/<id>`'s versions and records `intercom_deleted_at` in custom_metadata. */
  markDeleted(id: string, deletedAt: Date): Promise<{ path: string }>;
  /** For /readyz: unsealed and the token is valid. Never throws. */
  readiness(): Promise<{ ok: boolean; detail: string }>;
}

/** Slack's view of people. */
export interface SlackUser {
  readonly id: UserId;
  readonly teamId: string;
  readonly isBot: boolean;
  readonly deleted: boolean;
}

export interface Directory {
  user(id: UserId): Promise<SlackUser | null>;
  /** Members of a user group (`S…`), briefly cached. */
  groupMembers(groupId: string): Promise<readonly UserId[]>;
}

/**
 * All the time the core knows: the bot's clock (src/clock.ts; the sandbox's and the tests' clocks
 * can fast-forward it), and the timers that run on it.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; at once, with its timer cleared, when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called; never keeps the process alive by itself. */
  every(ms: number, fn: () => void): () => void;
}

// ---------------------------------------------------------------------------------------------
// Request store: every method that changes state is ONE atomic operation that checks the current
// state first (Lua in the Redis adapter). Results say what happened instead of throwing, except
// StoreUnavailableError when the store cannot be reached.

/**
 * An event a transition records with itself, in its own atomic step, when it applies (SPEC §8): its
 * audit entry, its thread reply and the card update. `told: true` in the result says it was; a store
 * may always decline (a condition below did not hold, another entry reached the audit stream first,
 * or it does not record events at all): then `told` is absent or false, nothing of the event was
 * recorded, and the caller tells it itself right after, as for any transition (Journal.tell).
 * Callers run the transition through their Journal (Journal.transition), which gives it only while
 * nothing told before it for the request is still being recorded or still in a store call, so an
 * event recorded here never overtakes one told before it.
 */
export interface TellWith {
  /**
   * The request as the reply is to show it: rendered from its stable fields (workspace, requester,
   * operation, channel) and, for some events, from its approvals or outcome as the transition leaves
   * them (the conditions below make sure those are what the caller expects).
   */
  readonly request: ApprovalRequest;
  readonly event: EventToTell;
  /** Recorded only if the request has exactly this many approvals after the transition (approve: after this one). */
  readonly ifApprovals?: number;
  /** claim: recorded only if the claim is (true) or is not (false) a takeover. */
  readonly ifRecovering?: boolean;
  /** Recorded only if the transition leaves the request in this state (a rotation's retire step may go back to awaiting_finish). */
  readonly ifState?: RequestState;
}

export type ApproveResult =
  // `told`: the TellWith given was recorded with the approval (see TellWith).
  | { readonly kind: 'recorded'; readonly request: ApprovalRequest; readonly told?: boolean } // counted, quorum not reached yet
  | { readonly kind: 'approved'; readonly request: ApprovalRequest; readonly told?: boolean } // this approval completed the quorum: state is now 'approved'
  | { readonly kind: 'already_approved'; readonly request: ApprovalRequest }
  | { readonly kind: 'self'; readonly request: ApprovalRequest }
  | { readonly kind: 'not_pending'; readonly request: ApprovalRequest }
  | { readonly kind: 'expired'; readonly request: ApprovalRequest } // pending but past expiresAt (not yet swept)
  // The card the approver clicked showed another step (fingerprint) than the one pending now: nothing counted.
  | { readonly kind: 'changed'; readonly request: ApprovalRequest }
  | { readonly kind: 'not_found' };

/** Outcome of a guarded transition: `ok` with the new request, or why it did not apply. */
export type TransitionResult =
  // `someoneWaits` (finish only): a request approved meanwhile waits for the workspace this one freed.
  // `told`: the TellWith given was recorded with the transition (see TellWith).
  | { readonly kind: 'ok'; readonly request: ApprovalRequest; readonly someoneWaits?: boolean; readonly told?: boolean }
  | { readonly kind: 'refused'; readonly request: ApprovalRequest; readonly why: string }
  // The click came from a card showing another step (fingerprint) than the current one: nothing changed.
  | { readonly kind: 'changed'; readonly request: ApprovalRequest }
  | { readonly kind: 'not_found' };

export type ClaimResult =
  // `told`: the TellWith given was recorded with the claim (see TellWith).
  | { readonly kind: 'claimed'; readonly request: ApprovalRequest; readonly recovering: boolean; readonly told?: boolean }
  // Another create/delete holds the workspace; the request stays approved and is due for every sweep.
  // `firstWait`: the first time it waits for this holder (so the thread is told once).
  | { readonly kind: 'busy'; readonly holder: RequestId; readonly firstWait: boolean }
  | { readonly kind: 'not_claimable'; readonly request: ApprovalRequest }
  | { readonly kind: 'not_found' };

export interface NewRequest {
  readonly request: ApprovalRequest;
  /** Refuse if the requester already holds this many open requests. */
  readonly maxOpenPerRequester: number;
  /** A rotation of a secret that already has an open rotation is refused: its id is returned. */
  readonly rotationOf?: string;
}

export type CreateResult =
  | { readonly kind: 'created'; readonly request: ApprovalRequest }
  | { readonly kind: 'limit'; readonly open: readonly RequestId[] }
  | { readonly kind: 'duplicate_rotation'; readonly existing: RequestId }
  | { readonly kind: 'id_taken' };

export interface RequestStore {
  /** Also records, in the same atomic step, that the new request's card is to be posted (Outbox). */
  create(input: NewRequest): Promise<CreateResult>;
  get(id: RequestId): Promise<ApprovalRequest | null>;
  /*
   * `seenStep` below is the fingerprint of the step the person's card showed (stepFingerprint), checked
   * inside the transition: a click on an older version of the card is 'changed', never counted for
   * the step pending now. Omitted (typed commands) means no card was involved.
   */
  /**
   * pending + same step + not expired (an orphan's delete request never is) + user ≠ requester + not already counted → counted; quorum → 'approved'.
   * `tell` (the 'approved' event): recorded in the same step when the approval counts and `ifApprovals` holds.
   */
  approve(id: RequestId, user: UserId, now: number, seenStep: string, tell?: TellWith): Promise<ApproveResult>;
  /*
   * `tell` below (the transition's own event): recorded in the same step when the transition applies
   * and the TellWith's conditions hold (see TellWith); `told` in the result says so.
   */
  /** Removes the user's approval while still pending. */
  withdraw(id: RequestId, user: UserId, now: number, seenStep?: string, tell?: TellWith): Promise<TransitionResult>;
  /** pending → rejected (by anyone the caller has checked may reject); a rotation's retire step goes back to awaiting_finish. */
  reject(id: RequestId, user: UserId, reason: string, now: number, seenStep?: string, tell?: TellWith): Promise<TransitionResult>;
  /** pending (or awaiting_finish) → cancelled, only by the requester. */
  cancel(id: RequestId, user: UserId, now: number, tell?: TellWith): Promise<TransitionResult>;
  /** pending and past expiresAt → expired; refused for an orphan's delete request (orphanOf), which never expires. */
  expire(id: RequestId, now: number, tell?: TellWith): Promise<TransitionResult>;
  /** Pending requests whose expiresAt ≤ now, never an orphan's delete request. */
  dueForExpiry(now: number): Promise<RequestId[]>;
  /** Every request in an open state, oldest first. */
  listOpen(): Promise<ApprovalRequest[]>;
  /**
   * approved → executing under a lease held by `owner`; or, when the request is already executing
   * (or approved) with a lease that ran out, take it over (`recovering: true`). Also takes the
   * per-workspace in-flight slot; if another request holds it → 'busy'.
   * `tell` (the 'executing' event): recorded in the same step when claimed and `ifRecovering` holds.
   */
  claim(id: RequestId, owner: string, leaseMs: number, now: number, tell?: TellWith): Promise<ClaimResult>;
  /** Extends the lease if `owner` still holds it and it has not run out at `now`. */
  renewLease(id: RequestId, owner: string, leaseMs: number, now: number): Promise<boolean>;
  /** Requests in approved/executing whose lease ran out (or that were never claimed in time). */
  staleLeases(now: number): Promise<RequestId[]>;
  /**
   * Merges executor breadcrumbs; only while `owner` holds the lease and it has not run out at `now`.
   * `replicated`: where Redis has replicas, also wait (briefly, best effort) until one has the write,
   * so a failover right after it is less likely to lose it (the breadcrumb announcing a POST).
   */
  recordProgress(id: RequestId, owner: string, progress: Record<string, string>, now: number, opts?: { replicated?: boolean }): Promise<boolean>;
  /**
   * executing → final (succeeded/failed), or → awaiting_finish for a rotation's first step; releases
   * the lease and the workspace slot. Only while `owner` holds the lease.
   */
  finish(
    id: RequestId,
    owner: string,
    result: { state: Extract<RequestState, 'succeeded' | 'failed' | 'awaiting_finish'>; outcome: string; rotation?: ApprovalRequest['rotation'] },
    now: number,
    tell?: TellWith,
  ): Promise<TransitionResult>;
  /**
   * awaiting_finish → pending for the rotation's second step: approvals cleared, new expiry,
   * rotation.step = 'retire', finishRequestedBy = user; `retireStep` is the new step's fingerprint.
   */
  startRetireStep(
    id: RequestId,
    user: UserId,
    expiresAt: number,
    now: number,
    step: { seen?: string; retire: string },
    tell?: TellWith,
  ): Promise<TransitionResult>;
  /** awaiting_finish → succeeded ("abandoned: both secrets kept"). */
  abandon(id: RequestId, user: UserId, outcome: string, now: number, seenStep?: string, tell?: TellWith): Promise<TransitionResult>;
}

// ---------------------------------------------------------------------------------------------

export {
  AUDIT_EVENT_TYPES,
  type AuditDetails,
  type AuditEvent,
  type AuditEventOf,
  type AuditEventType,
  type AuditEventWithout,
  type EventToTell,
} from './audit-events';

/** A stored entry of the audit stream that is one of the events this bot knows. */
export type AuditEntry = AuditEvent & {
  /** Stream entry id. */
  readonly entryId: string;
  readonly prevHash: string;
  readonly hash: string;
};

/**
 * A stored entry that verifies in the chain (its hash covers the fields as stored) but is not an
 * event this bot knows: a type it does not know (a newer bot's), or a detail its type does not
 * record. Shown as stored by `/ivs audit`; no reader relies on its fields.
 */
export interface UnreadableAuditEntry {
  readonly entryId: string;
  readonly requestId: RequestId;
  /** The `type` field as stored. */
  readonly storedType: string;
  readonly actor?: UserId;
  readonly at: number;
  /** The `detail` field as stored, parsed from its JSON. */
  readonly detail: unknown;
  readonly prevHash: string;
  readonly hash: string;
  /** Why it could not be read as an event. */
  readonly unreadable: string;
}

/** What the audit stream holds for a request, in order. */
export type StoredAuditEntry = AuditEntry | UnreadableAuditEntry;

export function isReadableEntry(entry: StoredAuditEntry): entry is AuditEntry {
  return !('unreadable' in entry);
}

export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
  /** The request's entries in order, and whether the whole chain up to the newest entry verifies. */
  history(id: RequestId): Promise<{ entries: StoredAuditEntry[]; chain: { ok: true } | { ok: false; brokenAt: string; why: string } }>;
}

/**
 * What people must be told about a request, recorded before anyone tells it (the transactional
 * outbox of SPEC §8). A union, so a new kind of notice is a compile error wherever it is delivered.
 */
export type Notice =
  /** Post the request's card, or bring it up to date; rendered from the stored request when delivered, so updates coalesce. */
  | { readonly kind: 'card' }
  /** A thread reply under the card telling one event, in the order recorded. */
  | { readonly kind: 'reply'; readonly event: AuditEvent };

/** How the first post of a request's card went, as far as the caller could wait for it. */
export type CardPosting =
  | { readonly kind: 'posted' }
  /** Slack said no in a way retrying cannot fix (`not_in_channel`, `channel_not_found`, `is_archived`, `invalid_auth`, …). */
  | { readonly kind: 'refused'; readonly error: string }
  /** Slack is slow or down: the card stays recorded and is posted when Slack answers again. */
  | { readonly kind: 'delayed' };

/**
 * Everything the bot tells Slack about a request goes through here: `record` writes it to Redis
 * (durably, in order) and returns; a delivery loop on whichever replica is alive sends it, retrying
 * until Slack takes it or it is older than IVS_DELIVERY_MAX_AGE. Nothing in the core waits for Slack.
 * Implemented by slack/slack-outbox.ts; `record` throws StoreUnavailableError when Redis is down.
 */
export interface Outbox {
  record(request: ApprovalRequest, notices: readonly Notice[]): Promise<void>;
  /** Waits at most `timeoutMs` for the first post of the request's card (recorded when the request was created). */
  cardPosting(id: RequestId, timeoutMs: number): Promise<CardPosting>;
}

/**
 * The reminder of due secrets (SPEC §10). It belongs to no request, but goes to Slack the way every
 * notice does: recorded in the Slack outbox and delivered from there (retries, pacing, any replica,
 * until delivered or older than IVS_DELIVERY_MAX_AGE), so a Slack outage at the wrong moment delays
 * it rather than losing it until the next interval.
 */
export interface RotationReminders {
  /**
   * Takes the claim `key` (ReminderClaims' rule: won by exactly one caller while `now` is at or past
   * the key's last `until`) and, only if won, records the reminder for `channel`, in one atomic step:
   * a won claim always has its reminder on its way. True when won and recorded; false when another
   * caller holds the claim. Throws StoreUnavailableError when Redis cannot be reached (nothing taken).
   */
  record(claim: { readonly key: string; readonly now: number; readonly until: number }, channel: string, reminder: RotationReminder): Promise<boolean>;
}

/** What a reminder says (SPEC §10): the due secrets, oldest first, and the policy they broke. */
export interface RotationReminder {
  readonly workspace: string;
  readonly rotateAfterMs: number;
  readonly due: readonly DueSecret[];
}

export interface DueSecret {
  readonly secret: SecretInfo;
  readonly ageMs: number;
}

/**
 * "At most once per interval, across all replicas" (SPEC §10). Times are the bot's clock, not
 * Redis's, so a fast-forwarded clock (tests, the sandbox) moves them too.
 */
export interface ReminderClaims {
  /**
   * True for exactly one caller while `now` is at or past the key's last `until` (or it has none);
   * that caller's `until` becomes the key's. Everyone else gets false.
   */
  claim(key: string, now: number, until: number): Promise<boolean>;
  /** Gives a claim back (the reminder could not be posted), only if it is still the one taken with `until`. */
  release(key: string, until: number): Promise<void>;
}

/** The slice of pino the core uses; tests pass a capturing logger. */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
