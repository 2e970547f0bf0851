import type { AuditDetails, AuditEntry, AuditEvent, AuditEventOf, AuditEventType } from '../../src/core/ports';

/** A detail of each event type, as its writers write it. */
export const SAMPLE_DETAILS: AuditDetails = {
  requested: { action: 'create', workspace: 'default' },
  approved: { approvals: 1, required: 1 },
  withdrawn: { approvals: 0, required: 1 },
  rejected: { reason: 'wrong secret' },
  cancelled: {},
  expired: {},
  executing: { step: 'create' },
  created: { intercomId: '205', name: 'Web [R-7F3K2Q]', platforms: 'web', vaultPath: 'secrets/205', vaultVersion: 1 },
  deleted: { intercomId: '102', name: 'Old web' },
  already_gone: { intercomId: '102' },
  failed: { outcome: 'Vault is not ready (sealed): nothing was created at Intercom', state: 'failed', action: 'create', step: 'create' },
  rolled_back: { intercomId: '205', result: 'deleted' },
  recovered: { note: 'took over after the previous executor stopped' },
  orphan: { intercomId: '205', deleteRequestId: 'R-0RPHAN' },
  succeeded: { outcome: 'created secret 205', state: 'succeeded', action: 'create', step: 'create' },
  finish_requested: { secretId: '101' },
  abandoned: {},
  waiting: { holder: 'R-H0LDER' },
  retrying: { why: 'Intercom could not be listed' },
  finish_reminder: { waitingMs: 3 * 86_400_000, successorId: '205' },
  approval_reminder: { approvers: 'U111 U222' },
};

/** An event of `type`, its detail the sample one unless given. */
export function auditEvent<T extends AuditEventType>(
  requestId: string,
  type: T,
  at: number,
  more: { readonly actor?: string; readonly detail?: AuditDetails[T] } = {},
): AuditEventOf<T> {
  return { requestId, type, at, detail: more.detail ?? SAMPLE_DETAILS[type], ...(more.actor ? { actor: more.actor } : {}) };
}

/** The same as a stored entry. */
export function auditEntry<T extends AuditEventType>(
  entryId: string,
  type: T,
  at: number,
  more: { readonly actor?: string; readonly detail?: AuditDetails[T] } = {},
): AuditEventOf<T> & Pick<AuditEntry, 'entryId' | 'prevHash' | 'hash'> {
  return { ...auditEvent('R-7F3K2Q', type, at, more), entryId, prevHash: 'p', hash: 'h' };
}

/**
 * An event of any `type` (a loop over AUDIT_EVENT_TYPES): `detail` must be one of that type, which
 * the compiler cannot tie to a type only known at run time.
 */
export function anyAuditEvent(
  requestId: string,
  type: AuditEventType,
  at: number,
  more: { readonly actor?: string; readonly detail?: AuditDetails[AuditEventType] } = {},
): AuditEvent {
  return auditEvent(requestId, type, at, more) as AuditEvent;
}
