import type { Journal } from '../journal';
import type { ApprovalRequest, RequestState } from '../request';
import type { Clock, Log, Outbox, RequestStore } from '../ports';
import type { RequestId, UserId } from '../types';
import type { Workspace, Workspaces } from '../workspace';

/** Who is acting, as Slack identifies them (ids only; names are for display). */
export interface Actor {
  readonly userId: UserId;
  readonly teamId: string;
}

/**
 * What every use case works with. The Journal is the one the Executor tells through too: a request's
 * events are recorded in order only within one Journal (see approve.ts).
 */
export interface UseCaseDeps {
  readonly store: RequestStore;
  readonly journal: Journal;
  readonly outbox: Outbox;
  /** Each request uses its own workspace's Intercom, Vault and policy, never another's. */
  readonly workspaces: Workspaces;
  readonly clock: Clock;
  readonly log: Log;
}

/** The workspace a stored request belongs to; undefined when this bot does not serve it (any more). */
export function workspaceOf(deps: UseCaseDeps, request: ApprovalRequest): Workspace | undefined {
  return deps.workspaces.get(request.operation.workspace);
}

/**
 * The workspace of the request an outcome is about, when known: a metrics label on the answer. Set
 * exactly where the first release labelled its reply (never on `card_changed`, for one).
 */
export type Labelled<T> = T & { readonly workspace?: string };

/** Outcomes several use cases share. */
export interface NoRequest {
  readonly kind: 'no_request';
  readonly id: RequestId;
}

export interface NotServed {
  readonly kind: 'not_served';
  readonly id: RequestId;
  readonly workspace: string;
}

export interface NotPending {
  readonly kind: 'not_pending';
  readonly id: RequestId;
  readonly state: RequestState;
}

/** A store transition refused the change; `why` is the store's plain reason. */
export interface Refused {
  readonly kind: 'refused';
  readonly id: RequestId;
  readonly why: string;
}

/** What a click from a card that showed another step did not do. */
export type NothingDone = 'counted' | 'rejected' | 'withdrawn' | 'finished' | 'abandoned';

export interface CardChanged {
  readonly kind: 'card_changed';
  readonly id: RequestId;
  /** The fingerprint of the step the card shows now. */
  readonly fingerprint: string;
  readonly nothing: NothingDone;
}
