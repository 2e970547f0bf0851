import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES, decodeAuditEvent } from '../../src/core/audit-events';
import { SAMPLE_DETAILS } from '../support/audit-events';

const stored = (type: string, detail: unknown, actor?: string) => ({ requestId: 'R-AAAAAA', type, at: 1, detail, ...(actor ? { actor } : {}) });

describe('decoding a stored audit entry', () => {
  it.each(AUDIT_EVENT_TYPES)('reads %s as its writers write it', (type) => {
    const decoded = decodeAuditEvent(stored(type, SAMPLE_DETAILS[type], 'U1'));
    expect(decoded).toEqual({ ok: true, event: { requestId: 'R-AAAAAA', type, at: 1, actor: 'U1', detail: SAMPLE_DETAILS[type] } });
  });

  it('reads the fields a type records as optional when they are absent: a requested entry of the first release has no workspace', () => {
    expect(decodeAuditEvent(stored('requested', { action: 'delete' })).ok).toBe(true);
    expect(decodeAuditEvent(stored('created', { intercomId: '1', name: 'n', platforms: 'web', vaultPath: 'p', recovered: true })).ok).toBe(true);
    expect(decodeAuditEvent(stored('cancelled', { why: 'card not posted: channel_not_found' })).ok).toBe(true);
  });

  it('keeps fields a type does not list (shown as stored by /ivs audit, relied on by no reader)', () => {
    const decoded = decodeAuditEvent(stored('approved', { approvals: 1, required: 2, note: 'x' }));
    expect(decoded.ok && decoded.event.detail).toEqual({ approvals: 1, required: 2, note: 'x' });
  });

  it('says why an entry is not an event it knows, and never throws', () => {
    expect(decodeAuditEvent(stored('escalated', {}))).toEqual({ ok: false, why: 'unknown type escalated' });
    expect(decodeAuditEvent(stored('__proto__', {}))).toEqual({ ok: false, why: 'unknown type __proto__' });
    for (const detail of [null, 'text', 3, [1], true]) {
      expect(decodeAuditEvent(stored('expired', detail))).toEqual({ ok: false, why: 'detail is not an object' });
    }
    const bad: [string, unknown][] = [
      ['approved', { approvals: '1', required: 2 }],
      ['approved', { required: 2 }],
      ['executing', { step: 'reboot' }],
      ['succeeded', { ...SAMPLE_DETAILS.succeeded, state: 'done' }],
      ['rolled_back', { intercomId: '1', result: 'gone' }],
      ['created', { ...SAMPLE_DETAILS.created, vaultVersion: '1' }],
      ['created', { ...SAMPLE_DETAILS.created, recovered: false }],
      ['finish_reminder', { waitingMs: null, successorId: '' }],
      ['orphan', { intercomId: '1', deleteRequest: 'none' }],
    ];
    for (const [type, detail] of bad) {
      const decoded = decodeAuditEvent(stored(type, detail));
      expect(decoded.ok, `${type} ${JSON.stringify(detail)}`).toBe(false);
      expect(!decoded.ok && decoded.why).toMatch(new RegExp(`^${type} detail \\w+ is missing or not what ${type} records$`));
    }
  });
});
