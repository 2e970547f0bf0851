import { describe, expect, it } from 'vitest';
import type { AuditDetails, AuditEventType } from '../../../src/core/ports';
import { renderRequestStatus } from '../../../src/slack/views/request-status';
import { auditEntry } from '../../support/audit-events';
import { actionsBlock, allText, createOp, expectNoLiveMarkupFrom, expectWithinSlackLimits, HOSTILE, makeRequest, NOW } from './fixtures';

function entry<T extends AuditEventType>(type: T, actor: string | undefined, detail?: AuditDetails[T]) {
  return auditEntry('1-0', type, NOW, { ...(detail ? { detail } : {}), ...(actor ? { actor } : {}) });
}

describe('/ivs status', () => {
  it("shows the request's details and its history, without buttons", () => {
    const request = makeRequest({ approvals: ['U222'], approvalsRequired: 2, card: { channel: 'C111', ts: '1.2' } });
    const view = renderRequestStatus(request, {
      now: NOW,
      history: [entry('requested', 'U111'), entry('approved', 'U222', { approvals: 1, required: 2 })],
    });
    const text = allText(view);
    expect(actionsBlock(view)).toBeUndefined();
    expect(text).toContain('R-7F3K2Q · Delete secret');
    expect(text).toContain('*Approvals*\n1/2: <@U222>');
    expect(text).toContain('*History*');
    expect(text).toContain(':white_check_mark: Approved by <@U222> (1/2).');
    expect(text).toContain('Card in <#C111>');
    expect(view.text).toContain('R-7F3K2Q: delete secret 102');
    expectWithinSlackLimits(view);
  });

  it('states the outcome of a final request', () => {
    const view = renderRequestStatus(makeRequest({ state: 'rejected', rejection: { by: 'U333', reason: 'no' } }), { now: NOW, history: [] });
    expect(allText(view)).toContain(':no_entry: *Rejected* by <@U333>: no');
    expect(allText(view)).toContain('No history recorded yet.');
  });

  it("leaves out an entry it cannot read as an event (a newer bot's type, say), says so, and points to `/ivs audit`", () => {
    const unreadable = {
      entryId: '2-0',
      requestId: 'R-7F3K2Q',
      storedType: 'escalated',
      at: NOW,
      detail: { to: 'security' },
      prevHash: 'p',
      hash: 'h',
      unreadable: 'unknown type escalated',
    };
    const view = renderRequestStatus(makeRequest({ approvals: ['U222'], approvalsRequired: 2 }), {
      now: NOW,
      history: [unreadable, entry('approved', 'U222', { approvals: 1, required: 2 })],
    });
    const text = allText(view);
    expect(text).toContain(':white_check_mark: Approved by <@U222> (1/2).');
    expect(text).not.toContain('escalated');
    expect(text).toContain('1 audit entry is of a kind this version cannot show; `/ivs audit R-7F3K2Q` shows every entry as stored.');
  });

  it('says nothing of unreadable entries when every entry is readable', () => {
    const view = renderRequestStatus(makeRequest({ approvals: ['U222'], approvalsRequired: 2 }), {
      now: NOW,
      history: [entry('approved', 'U222', { approvals: 1, required: 2 })],
    });
    expect(allText(view)).not.toContain('cannot show');
  });

  it('says when the history could not be read', () => {
    expect(allText(renderRequestStatus(makeRequest(), { now: NOW }))).toContain('The history could not be read');
  });

  it('escapes names and reasons, also in the fallback text', () => {
    const view = renderRequestStatus(makeRequest({ operation: createOp(HOSTILE), reason: HOSTILE }), {
      now: NOW,
      history: [entry('rejected', 'U222', { reason: HOSTILE })],
    });
    expectNoLiveMarkupFrom(allText(view));
    expect(view.text).not.toContain('<!channel>');
  });

  it('stays within Slack limits with a long history', () => {
    const history = Array.from({ length: 400 }, () =>
      entry('failed', undefined, { outcome: '<'.repeat(300), state: 'failed', action: 'delete', step: 'delete' }),
    );
    expectWithinSlackLimits(renderRequestStatus(makeRequest(), { now: NOW, history }));
  });
});
