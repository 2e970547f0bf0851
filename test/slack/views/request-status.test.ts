import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/core/ports';
import { renderRequestStatus } from '../../../src/slack/views/request-status';
import { actionsBlock, allText, createOp, expectNoLiveMarkupFrom, expectWithinSlackLimits, HOSTILE, makeRequest, NOW } from './fixtures';

function entry(type: AuditEntry['type'], actor: string | undefined, detail: AuditEntry['detail'] = {}): AuditEntry {
  const base = { requestId: 'R-7F3K2Q', type, at: NOW, detail, entryId: '1-0', prevHash: 'p', hash: 'h' };
  return actor ? { ...base, actor } : base;
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
    const history = Array.from({ length: 400 }, () => entry('failed', undefined, { error: '<'.repeat(300) }));
    expectWithinSlackLimits(renderRequestStatus(makeRequest(), { now: NOW, history }));
  });
});
