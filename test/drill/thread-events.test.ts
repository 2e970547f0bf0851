import { describe, expect, it } from 'vitest';
import { eventTypeOfReply } from '../../drill/thread-events';
import { AUDIT_EVENT_TYPES } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { renderDeliveryGap, renderThreadEvent } from '../../src/slack/views/thread-event';
import type { AuditDetails, AuditEventType } from '../../src/core/ports';
import { anyAuditEvent, SAMPLE_DETAILS } from '../support/audit-events';

/** Details beyond the sample one that change how a reply starts, or put another event's words in it. */
const VARIANTS: { readonly [T in AuditEventType]?: readonly AuditDetails[T][] } = {
  succeeded: [{ ...SAMPLE_DETAILS.succeeded, state: 'awaiting_finish', step: 'successor', action: 'rotate' }],
  rejected: [{ reason: ':memo: x' }],
  retrying: [{ why: ':memo: x' }],
  orphan: [{ intercomId: '205', deleteRequestId: '' }],
};

// The drill reads each thread reply back to the audit event it tells; this renders every event type
// through the bot's own view, so a reworded reply fails here rather than as a drill "violation".

const rotation: ApprovalRequest = {
  id: 'R-AAAAAA',
  operation: { action: 'rotate', workspace: 'default', secretId: '101', secretName: 'Production Web', platforms: ['web'] },
  fingerprint: 'abcd-0123',
  requester: 'U0ALICE',
  teamId: 'T0DRILL',
  channel: 'C0DRILL',
  reason: '<!channel> :memo: Approved by',
  state: 'pending',
  approvals: [],
  approvalsRequired: 2,
  createdAt: 1,
  expiresAt: 2,
  updatedAt: 1,
  impact: [],
  progress: {},
};

describe('the drill reads thread replies back to their events', () => {
  it.each(AUDIT_EVENT_TYPES)('%s', (type) => {
    const details = [SAMPLE_DETAILS[type], ...(VARIANTS[type] ?? [])];
    for (const detail of details) {
      for (const request of [rotation, { ...rotation, operation: { ...rotation.operation, compromised: true as const } }]) {
        const text = renderThreadEvent(request, anyAuditEvent(request.id, type, 1, { actor: 'U0BOB', detail }));
        expect(eventTypeOfReply(text), text).toBe(type);
      }
    }
  });

  it('the missing-events note', () => {
    expect(eventTypeOfReply(renderDeliveryGap('R-AAAAAA'))).toBe('gap');
  });
});
