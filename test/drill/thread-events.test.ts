import { describe, expect, it } from 'vitest';
import { eventTypeOfReply } from '../../drill/thread-events';
import { AUDIT_EVENT_TYPES } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { renderDeliveryGap, renderThreadEvent } from '../../src/slack/views/thread-event';

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
    const details: ReadonlyArray<Record<string, string | boolean>> = [
      {},
      { step: 'delete', recovering: true, state: 'awaiting_finish', reason: ':memo: x', why: 'x' },
    ];
    for (const detail of details) {
      for (const request of [rotation, { ...rotation, operation: { ...rotation.operation, compromised: true as const } }]) {
        const text = renderThreadEvent(request, { requestId: request.id, type, actor: 'U0BOB', at: 1, detail });
        expect(eventTypeOfReply(text), text).toBe(type);
      }
    }
  });

  it('the missing-events note', () => {
    expect(eventTypeOfReply(renderDeliveryGap('R-AAAAAA'))).toBe('gap');
  });
});
