import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES, type AuditDetails, type AuditEventOf, type AuditEventType } from '../../../src/core/ports';
import { renderThreadEvent } from '../../../src/slack/views/thread-event';
import { anyAuditEvent, auditEvent, SAMPLE_DETAILS } from '../../support/audit-events';
import { createOp, expectNoLiveMarkupFrom, HOSTILE, makeRequest, NOW, rotateOp } from './fixtures';

/** An event as its writers write it: the sample detail of its type unless given. */
function event<T extends AuditEventType>(type: T, detail?: AuditDetails[T], actor?: string): AuditEventOf<T> {
  return auditEvent('R-7F3K2Q', type, NOW, { ...(detail ? { detail } : {}), ...(actor ? { actor } : {}) });
}

/** What the executor writes when a step ends (src/core/executor.ts recordOutcome). */
function outcome(text: string, step: AuditDetails['failed']['step'] = 'create'): AuditDetails['failed'] {
  return { outcome: text, state: 'failed', action: 'create', step };
}

/** The reply without the workspace every reply starts with (checked here once for all). */
function reply(...args: Parameters<typeof renderThreadEvent>): string {
  const line = renderThreadEvent(...args);
  const prefix = `\`${args[0].operation.workspace}\` · `;
  expect(line.startsWith(prefix)).toBe(true);
  return line.slice(prefix.length);
}

const request = makeRequest({ approvalsRequired: 2 });

describe('thread replies', () => {
  it('each starts with its workspace, so a reply read alone says where', () => {
    const eu = makeRequest({ operation: { ...createOp(), workspace: 'eu' } });
    expect(renderThreadEvent(eu, event('approved', { approvals: 1, required: 1 }, 'U222'))).toBe('`eu` · :white_check_mark: Approved by <@U222> (1/1).');
  });

  it('requested: who asked for what, how many approvals are needed, and by when', () => {
    const line = reply(makeRequest({ operation: createOp() }), event('requested', undefined, 'U111'));
    expect(line).toContain(':memo: <@U111> requested to create secret `Production Web` (web, ios).');
    expect(line).toContain('Needs 1 approval from someone else by <!date^');
  });

  it("requested, for an orphan's delete request: no date, it never expires, and why", () => {
    const line = reply(makeRequest({ orphanOf: 'R-0RIG1N' }), event('requested', undefined, 'U111'));
    expect(line).toBe(
      ':memo: <@U111> requested to delete secret `102` `Production Web` (web). ' +
        'Needs 1 approval from someone else. It never expires: the orphan stays active until this is decided.',
    );
  });

  it("the waiting-approval reminder of an orphan's delete request says it never expires instead of a date", () => {
    expect(reply(makeRequest({ orphanOf: 'R-0RIG1N' }), event('approval_reminder', { approvers: 'U222' }))).toBe(
      ':bell: <@U222>: R-7F3K2Q is still waiting for an approval and never expires: the orphan stays active until this is decided. Approve or reject it on the card.',
    );
  });

  it('approved and withdrawn: who, and the count from the event', () => {
    expect(reply(request, event('approved', { approvals: 1, required: 2 }, 'U222'))).toBe(':white_check_mark: Approved by <@U222> (1/2).');
    expect(reply(request, event('withdrawn', { approvals: 0, required: 2 }, 'U222'))).toBe(
      ':leftwards_arrow_with_hook: <@U222> withdrew their approval (0/2).',
    );
  });

  it('rejected: by whom and why, mentioning the requester', () => {
    expect(reply(request, event('rejected', { reason: 'not in the freeze' }, 'U333'))).toBe(':no_entry: Rejected by <@U333>: not in the freeze <@U111>');
  });

  it('expired and cancelled mention the requester', () => {
    expect(reply(request, event('expired'))).toBe(':hourglass: Expired without enough approvals (0/2); nothing was done. <@U111>');
    expect(reply(request, event('cancelled', {}, 'U111'))).toBe(':heavy_multiplication_x: Cancelled by <@U111>; nothing was done.');
  });

  it('executing names the step (a takeover is told as recovered)', () => {
    expect(reply(request, event('executing', { step: 'delete' }))).toBe(':gear: Executing `delete`…');
  });

  it('created: Intercom id, Vault path and version, never anything else from the detail', () => {
    const line = reply(
      makeRequest({ operation: createOp() }),
      // A stored entry may carry fields its type does not list: none of them is shown.
      event('created', {
        intercomId: '205',
        name: 'Production Web [R-7F3K2Q]',
        platforms: 'web, ios',
        vaultPath: 'secret/data/intercom/identity-verification/default/secrets/205',
        vaultVersion: 1,
        ...{ secret: 'MATERIAL' },
      }),
    );
    expect(line).toBe(
      ':key: Created Intercom secret `205` `Production Web [R-7F3K2Q]`. Material stored in Vault at `secret/data/intercom/identity-verification/default/secrets/205` (version 1).',
    );
    expect(line).not.toContain('MATERIAL');
  });

  it('deleted and already gone name the secret', () => {
    expect(reply(request, event('deleted', { intercomId: '102', name: 'Old web' }))).toBe(':wastebasket: Deleted Intercom secret `102`.');
    expect(reply(request, event('already_gone'))).toBe(':ghost: Intercom secret `102` was already gone (404): nothing to delete.');
  });

  it('failed: what failed (the step) and what was undone (the outcome), mentioning the requester', () => {
    const undone = 'Vault write failed (unavailable: vault down); the new Intercom secret 205 was deleted again (rolled back)';
    expect(reply(request, event('failed', outcome(undone)))).toBe(`:x: *Failed* at \`create\`. ${undone} <@U111>`);
    expect(reply(makeRequest({ outcome: 'refused' }), event('failed', outcome('', 'retire')))).toBe(':x: *Failed* at `retire`. refused <@U111>');
  });

  it('rolled back, recovered and orphan say what happened', () => {
    expect(reply(request, event('rolled_back', { intercomId: '205', result: 'deleted' }))).toBe(
      ':leftwards_arrow_with_hook: Rolled back: deleted `205` at Intercom again because its material could not be stored in Vault.',
    );
    expect(reply(request, event('recovered', { note: 'lease of replica b expired' }))).toBe(
      ':ambulance: Recovered an interrupted execution: lease of replica b expired.',
    );
    expect(reply(request, event('orphan', { intercomId: '205', deleteRequestId: 'R-ABCDEF' }))).toBe(
      ":rotating_light: *ORPHAN:* Intercom secret `205` carries this request's id but Vault holds no material for it. Delete request `R-ABCDEF` opened for it.",
    );
  });

  it('succeeded states the outcome and mentions the requester', () => {
    expect(reply(request, event('succeeded', { ...outcome('deleted 102', 'delete'), state: 'succeeded', action: 'delete' }))).toBe(
      ':tada: *Succeeded*: deleted 102 <@U111>',
    );
  });

  it('finish requested and abandoned name the person', () => {
    const rotation = makeRequest({ operation: rotateOp });
    expect(reply(rotation, event('finish_requested', { secretId: '101' }, 'U444'))).toContain(':arrow_forward: <@U444> asked to finish the rotation');
    expect(reply(rotation, event('abandoned', {}, 'U444'))).toBe(':octagonal_sign: <@U444> abandoned the rotation; both secrets are kept. <@U111>');
  });

  it('has a line for every event type', () => {
    const types: readonly AuditEventType[] = AUDIT_EVENT_TYPES;
    for (const t of types) expect(reply(request, anyAuditEvent('R-7F3K2Q', t, NOW, { actor: 'U222' })).length).toBeGreaterThan(10);
  });

  it('escapes names, reasons and details typed by people', () => {
    const hostile = makeRequest({ operation: createOp(HOSTILE), reason: HOSTILE, outcome: HOSTILE });
    expectNoLiveMarkupFrom(reply(hostile, event('requested', undefined, 'U111')));
    expectNoLiveMarkupFrom(reply(hostile, event('rejected', { reason: HOSTILE }, 'U222')));
    expectNoLiveMarkupFrom(reply(hostile, event('created', { ...SAMPLE_DETAILS.created, intercomId: '1', name: HOSTILE })));
    expectNoLiveMarkupFrom(reply(hostile, event('failed', outcome(HOSTILE))));
    expectNoLiveMarkupFrom(reply(hostile, event('succeeded', { ...outcome(''), state: 'succeeded' })));
  });

  it('never mentions an actor that is not a user id', () => {
    expect(reply(request, event('approved', undefined, '!channel'))).not.toContain('<!channel>');
  });

  it('stays within 3000 characters', () => {
    const line = reply(request, event('failed', outcome('<'.repeat(5000))));
    expect(line.length).toBeLessThanOrEqual(3000);
  });
});
