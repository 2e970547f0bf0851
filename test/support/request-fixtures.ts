import { randomBytes } from 'node:crypto';
import type { ApprovalRequest } from '../../src/core/request';

/** Requests as the store tests (Redis and in memory) and the fast core tests open them. */

export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;

export function requestId(): string {
  return `R-${randomBytes(3).toString('hex').toUpperCase()}`;
}

/** A pending create request opened at T0 by U_REQ that needs one approval within an hour. */
export function newRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: requestId(),
    operation: { action: 'create', workspace: 'default', name: 'Production Web', platforms: ['web'] },
    fingerprint: 'f1a2b3c4',
    requester: 'U_REQ',
    teamId: 'T1',
    channel: 'C_OPS',
    reason: 'yearly rotation',
    state: 'pending',
    approvals: [],
    approvalsRequired: 1,
    createdAt: T0,
    expiresAt: T0 + HOUR,
    updatedAt: T0,
    impact: [],
    progress: {},
    ...overrides,
  };
}

export function rotationRequest(secretId: string, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return newRequest({
    operation: { action: 'rotate', workspace: 'default', secretId, secretName: 'Production Web', platforms: ['web'] },
    rotation: { step: 'successor' },
    ...overrides,
  });
}
