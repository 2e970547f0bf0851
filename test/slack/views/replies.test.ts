import { describe, expect, it } from 'vitest';
import { IntercomError } from '../../../src/core/errors';
import { abandonReply, approveReply, cancelReply, finishReply, intercomProblem, openReply, rejectReply, withdrawReply } from '../../../src/slack/views/replies';

describe('the replies to people', () => {
  it('say a request was opened, and how many approvals it needs, singular and plural', () => {
    expect(openReply({ kind: 'opened', id: 'R-7F3K2Q', approvalsRequired: 1, card: 'posted' })).toEqual({
      ok: true,
      text: 'Request R-7F3K2Q opened; it needs 1 approval from someone else.',
    });
    expect(openReply({ kind: 'opened', id: 'R-7F3K2Q', approvalsRequired: 2, card: 'not_awaited' }).text).toBe(
      'Request R-7F3K2Q opened; it needs 2 approvals from someone else.',
    );
  });

  it('say a delayed card is posted later, with the status command in a code span', () => {
    expect(openReply({ kind: 'opened', id: 'R-7F3K2Q', approvalsRequired: 2, card: 'delayed' })).toEqual({
      ok: true,
      text: 'Request R-7F3K2Q opened; it needs 2 approvals from someone else. Slack is not answering right now, so its card is delayed: it is posted here as soon as Slack answers again (`/ivs status R-7F3K2Q` works meanwhile).',
    });
  });

  it('name an unknown secret and the list command in code spans', () => {
    expect(openReply({ kind: 'no_such_secret', secretId: '102', workspace: 'eu' }).text).toBe(
      'There is no secret with id `102` in workspace eu (see `/ivs eu list`).',
    );
  });

  it('quote what Slack said when the card was refused', () => {
    expect(openReply({ kind: 'card_refused', id: 'R-7F3K2Q', error: 'not_in_channel' })).toEqual({
      ok: false,
      text: 'Could not post the request card in this channel (Slack said `not_in_channel`), so R-7F3K2Q was cancelled. Is the bot a member of the channel?',
    });
  });

  it('say why Intercom could not be asked, in words', () => {
    const cause = new IntercomError('forbidden', 'no scope', { status: 403 });
    expect(openReply({ kind: 'intercom_unreachable', secretId: '102', workspace: 'us', cause }).text).toBe(
      'Could not check secret 102 at Intercom (workspace us): the Intercom token lacks the read_secure_mode_secret scope (403). Nothing was opened.',
    );
    expect(intercomProblem(new Error('boom'))).toBe('an unexpected error');
    expect(intercomProblem(new IntercomError('invalid', 'bad', { status: 422 }))).toBe('Intercom answered 422');
  });

  it('count an approval, labelled with the request workspace', () => {
    expect(approveReply({ kind: 'approved', id: 'R-7F3K2Q', approvals: 1, required: 2, workspace: 'eu' })).toEqual({
      ok: true,
      text: 'You approved R-7F3K2Q (1/2).',
      workspace: 'eu',
    });
    expect(approveReply({ kind: 'not_pending', id: 'R-7F3K2Q', state: 'awaiting_finish', workspace: 'eu' }).text).toBe(
      'R-7F3K2Q is awaiting finish: it cannot be approved now.',
    );
    expect(approveReply({ kind: 'own_request', workspace: 'eu' }).text).toBe('You cannot approve your own request.');
  });

  it('point a requester deciding on their own request to cancel, in a code span', () => {
    const own = { kind: 'not_allowed', reason: 'you cannot approve or reject your own request', ownRequest: true, workspace: 'us' } as const;
    expect(approveReply(own)).toEqual({
      ok: false,
      text: 'Your approval does not count: you cannot approve or reject your own request (use `/ivs cancel` to withdraw it).',
      workspace: 'us',
    });
    expect(rejectReply({ ...own, id: 'R-7F3K2Q' }).text).toBe(
      'You cannot reject R-7F3K2Q: you cannot approve or reject your own request (use `/ivs cancel` to withdraw it).',
    );
    expect(approveReply({ kind: 'not_allowed', reason: 'you are not in IVS_APPROVERS' }).text).toBe(
      'Your approval does not count: you are not in IVS_APPROVERS.',
    );
  });

  it('say a changed card changed nothing, with no workspace label', () => {
    expect(approveReply({ kind: 'card_changed', id: 'R-7F3K2Q', fingerprint: 'AB12-CD34', nothing: 'counted' })).toEqual({
      ok: false,
      text: 'The card of R-7F3K2Q changed since you saw it (it now shows fingerprint AB12-CD34), so nothing was counted. Read the card again before you decide.',
    });
  });

  it('say what a request of a workspace no longer served did not change', () => {
    expect(rejectReply({ kind: 'not_served', id: 'R-7F3K2Q', workspace: 'old' })).toEqual({
      ok: false,
      text: 'R-7F3K2Q belongs to workspace old, which this bot does not serve (any more): nothing was changed.',
      workspace: 'old',
    });
  });

  it('answer the other decisions in their own words', () => {
    expect(rejectReply({ kind: 'not_allowed', id: 'R-7F3K2Q', reason: 'you are not an approver', workspace: 'us' }).text).toBe(
      'You cannot reject R-7F3K2Q: you are not an approver.',
    );
    expect(cancelReply({ kind: 'no_request', id: 'R-7F3K2Q' })).toEqual({ ok: false, text: 'There is no request R-7F3K2Q.' });
    expect(cancelReply({ kind: 'cancelled', id: 'R-7F3K2Q', workspace: 'us' })).toEqual({ ok: true, text: 'You cancelled R-7F3K2Q.', workspace: 'us' });
    expect(withdrawReply({ kind: 'refused', id: 'R-7F3K2Q', why: 'you have not approved it' }).text).toBe(
      'You cannot withdraw an approval of R-7F3K2Q: you have not approved it.',
    );
    expect(finishReply({ kind: 'too_early', overlapMs: 2 * 3_600_000, leftMs: 30 * 60_000, workspace: 'us' }).text).toBe(
      'Too early: both secrets must coexist for 2h; 30m left.',
    );
    expect(abandonReply({ kind: 'abandoned', id: 'R-7F3K2Q', workspace: 'us' })).toEqual({
      ok: true,
      text: 'You abandoned the rotation R-7F3K2Q; both secrets stay.',
      workspace: 'us',
    });
  });
});
