import { describe, expect, it } from 'vitest';
import { renderRequestList } from '../../../src/slack/views/request-list';
import { allText, createOp, expectNoLiveMarkupFrom, expectWithinSlackLimits, HOSTILE, makeRequest, NOW, rotateOp } from './fixtures';

describe('the open request list', () => {
  it('with none says so', () => {
    const view = renderRequestList([], { now: NOW });
    expect(view.text).toBe('No open requests.');
    expect(allText(view)).toContain('*No open requests.*');
  });

  it('shows one line per request: id, action, target, state, approvals and expiry', () => {
    const view = renderRequestList(
      [makeRequest({ approvals: ['U222'], approvalsRequired: 2 }), makeRequest({ id: 'R-ABCDEF', operation: rotateOp, state: 'awaiting_finish' })],
      { now: NOW },
    );
    const text = allText(view);
    expect(text).toContain(
      '`R-7F3K2Q` · *Delete secret* `102` `Production Web` (web) · by <@U111> · :hourglass_flowing_sand: waiting for approval · approvals 1/2: <@U222> · expires in 30 minutes',
    );
    expect(text).toContain('`R-ABCDEF` · *Rotate secret* `102` `Production Web` (web, ios)');
    expect(text).toContain('successor created, waiting for finish');
    expect(view.text).toBe('2 open requests.');
  });

  it("says an orphan's delete request never expires, and why", () => {
    const text = allText(renderRequestList([makeRequest({ orphanOf: 'R-0RIG1N' })], { now: NOW }));
    expect(text).toMatch(/approvals 0\/1 · never expires: the orphan stays active until this is decided$/m);
  });

  it('escapes names', () => {
    expectNoLiveMarkupFrom(allText(renderRequestList([makeRequest({ operation: createOp(HOSTILE) })], { now: NOW })));
  });

  it('stays within Slack limits with many requests', () => {
    const many = Array.from({ length: 300 }, (_, i) => makeRequest({ id: `R-${String(i).padStart(6, '0')}`, operation: createOp('<'.repeat(80)) }));
    const view = renderRequestList(many, { now: NOW });
    expectWithinSlackLimits(view);
  });
});
