import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditLog } from '../src/core/ports';
import { countingAuditLog } from '../src/instrumentation';
import { createMetrics } from '../src/metrics';
import { auditEvent, SAMPLE_DETAILS } from './support/audit-events';

describe('executions are counted by their final audit event', () => {
  it('labels them with the step carried out and the state it left, per workspace', async () => {
    const metrics = createMetrics();
    const appended: AuditEvent[] = [];
    const inner: AuditLog = { append: async (e) => void appended.push(e), history: async () => ({ entries: [], chain: { ok: true } }) };
    const audit = countingAuditLog(inner, metrics);
    const step1 = { outcome: 'successor 205 created', state: 'awaiting_finish', action: 'rotate', step: 'successor' } as const;
    await audit.append({ ...auditEvent('R-AAAAAA', 'succeeded', 1, { detail: step1 }), workspace: 'eu' });
    await audit.append({ ...auditEvent('R-AAAAAA', 'failed', 2, { detail: { ...step1, state: 'awaiting_finish', step: 'retire' } }), workspace: 'eu' });
    await audit.append(auditEvent('R-BBBBBB', 'succeeded', 3));
    await audit.append(auditEvent('R-BBBBBB', 'executing', 4));
    expect(appended).toHaveLength(4);
    const counted = (await metrics.executions.get()).values.map((v) => [v.labels, v.value]);
    expect(counted).toEqual([
      [{ action: 'successor', result: 'awaiting_finish', workspace: 'eu' }, 1],
      [{ action: 'retire', result: 'failed', workspace: 'eu' }, 1],
      [{ action: SAMPLE_DETAILS.succeeded.step, result: 'succeeded', workspace: '' }, 1],
    ]);
  });
});
