import type { Platform, RequestId, UserId } from './types';

/** The exact operation an approval is for. The fingerprint on the card is computed from it. */
export type Operation =
  | {
      readonly action: 'create';
      readonly workspace: string;
      /** The name as typed; the Intercom name also carries the request id. */
      readonly name: string;
      readonly platforms: readonly Platform[];
    }
  | {
      readonly action: 'delete';
      readonly workspace: string;
      readonly secretId: string;
      readonly secretName: string;
      readonly platforms: readonly Platform[];
      readonly force: boolean;
    }
  | {
      readonly action: 'rotate';
      readonly workspace: string;
      readonly secretId: string;
      readonly secretName: string;
      readonly platforms: readonly Platform[];
      /**
       * `--compromised` (SPEC §10): the old secret leaked, so its delete may follow the successor at
       * once. Present only when true, so the fingerprints of ordinary rotations stay as they were;
       * when present the fingerprint covers it.
       */
      readonly compromised?: true;
    };

export type Action = Operation['action'];

/** Whether this is a rotation of a secret declared compromised (`/ivs rotate <id> --compromised <reason>`). */
export function isCompromisedRotation(op: Operation): boolean {
  return op.action === 'rotate' && op.compromised === true;
}

/**
 * How long both secrets must coexist before a rotation's old secret may be deleted: IVS_MIN_OVERLAP,
 * or nothing for a compromised secret (every session it signed is to break at once).
 */
export function requiredOverlapMs(op: Operation, minOverlapMs: number): number {
  return isCompromisedRotation(op) ? 0 : minOverlapMs;
}

export const OPEN_STATES = ['pending', 'approved', 'executing', 'awaiting_finish'] as const;
export const FINAL_STATES = ['succeeded', 'failed', 'rejected', 'cancelled', 'expired'] as const;

/**
 * `awaiting_finish` exists only for rotations: the successor was created and the old secret waits
 * for a second, separately approved step.
 */
export type RequestState = (typeof OPEN_STATES)[number] | (typeof FINAL_STATES)[number];

export function isFinal(state: RequestState): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}

export interface CardRef {
  readonly channel: string;
  readonly ts: string;
}

export interface ApprovalRequest {
  readonly id: RequestId;
  readonly operation: Operation;
  /** Short hash of the operation and the request id; shown on the card. */
  readonly fingerprint: string;
  readonly requester: UserId;
  /** The Slack team the request was opened in; clicks from other teams do not count. */
  readonly teamId: string;
  readonly channel: string;
  readonly reason: string;
  readonly state: RequestState;
  /** Distinct approvers of the current step, in click order. */
  readonly approvals: readonly UserId[];
  readonly approvalsRequired: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly updatedAt: number;
  readonly card?: CardRef;
  /** For a delete: platforms that would be left without any secret (computed when opened). */
  readonly impact: readonly Platform[];
  readonly rejection?: { readonly by: UserId; readonly reason: string };
  readonly cancelledBy?: UserId;
  /** Human summary of the final outcome (never material). */
  readonly outcome?: string;
  /** Breadcrumbs the executor leaves so that recovery after a crash knows how far it got. */
  readonly progress: Readonly<Record<string, string>>;
  readonly rotation?: RotationProgress;
  /**
   * Set on the delete request the bot opens for an orphan: the request whose create left it. Such a
   * request never expires (SPEC §4: the orphan must not stay active silently); it waits for an
   * approval, a rejection or a cancel. Its expiresAt stays createdAt + TTL and only times the
   * waiting-approval reminder.
   */
  readonly orphanOf?: RequestId;
}

/** Whether a pending request expires after its TTL: every one but an orphan's delete. */
export function expiresAfterTtl(request: Pick<ApprovalRequest, 'orphanOf'>): boolean {
  return request.orphanOf === undefined;
}

export interface RotationProgress {
  readonly step: 'successor' | 'retire';
  readonly successor?: { readonly id: string; readonly name: string; readonly createdAt: number };
  /** When the successor was created (ms); the overlap is measured from here. */
  readonly successorCreatedAt?: number;
  readonly finishRequestedBy?: UserId;
}
