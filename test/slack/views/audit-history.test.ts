import { describe, expect, it } from 'vitest';
import type { AuditDetails, AuditEventType } from '../../../src/core/ports';
import { renderAuditHistory } from '../../../src/slack/views/audit-history';
import { auditEntry } from '../../support/audit-events';
import { allText, expectNoLiveMarkupFrom, expectWithinSlackLimits, HOSTILE, NOW } from './fixtures';

function entry<T extends AuditEventType>(entryId: string, type: T, at: number, actor: string | undefined, detail: AuditDetails[T]) {
  return auditEntry(entryId, type, at, { detail, ...(actor ? { actor } : {}) });
}

const entries = [
  entry('1700000000000-0', 'cancelled', NOW, 'U111', {}),
  entry('1700000000001-0', 'approved', NOW + 1000, 'U222', { approvals: 1, required: 1 }),
  entry('1700000000002-0', 'already_gone', NOW + 2000, undefined, { intercomId: '102' }),
];

describe('/ivs audit', () => {
  it('lists entries in order with time, type, actor and detail, and says the chain verified', () => {
    const view = renderAuditHistory('R-7F3K2Q', { entries, chain: { ok: true } });
    const text = allText(view);
    expect(text).toContain(':white_check_mark: Hash chain verified ✓ (3 entries for this request).');
    expect(text).toContain(`<!date^${NOW / 1000}^{date_short_pretty} {time}|2025-01-15 12:00 UTC> · *cancelled* · <@U111> · \`1700000000000-0\``);
    expect(text).toContain('*approved* · <@U222> · approvals=1, required=1');
    expect(text).toContain('*already_gone* · _bot_ · intercomId=102');
    expect(text.indexOf('*cancelled*')).toBeLessThan(text.indexOf('*approved*'));
    expect(text.indexOf('*approved*')).toBeLessThan(text.indexOf('*already_gone*'));
    expect(view.text).toBe('Audit trail of R-7F3K2Q: 3 entries, chain verified.');
  });

  it('warns loudly, first, when the chain is broken, naming the entry and why', () => {
    const view = renderAuditHistory('R-7F3K2Q', {
      entries,
      chain: { ok: false, brokenAt: '1700000000001-0', why: 'prevHash does not match the previous entry' },
    });
    const chainBlock = allText({ text: '', blocks: [view.blocks[1]!] });
    expect(chainBlock).toContain(':rotating_light: *AUDIT CHAIN BROKEN at entry `1700000000001-0`:* prevHash does not match the previous entry');
    expect(chainBlock).toContain('Do not trust this history');
    expect(view.text).toBe('AUDIT CHAIN BROKEN for R-7F3K2Q at entry 1700000000001-0');
    expect(allText(view)).not.toContain('verified ✓');
  });

  it('says when there are no entries', () => {
    expect(allText(renderAuditHistory('R-7F3K2Q', { entries: [], chain: { ok: true } }))).toContain('No audit entries for `R-7F3K2Q`.');
  });

  it('escapes detail values and the break reason', () => {
    const view = renderAuditHistory('R-7F3K2Q', {
      entries: [entry('1-0', 'rejected', NOW, 'U222', { reason: HOSTILE })],
      chain: { ok: false, brokenAt: '<!here>', why: HOSTILE },
    });
    expectNoLiveMarkupFrom(allText(view));
    expect(allText(view)).not.toContain('<!here>');
  });

  it('stays within Slack limits with many entries', () => {
    const many = Array.from({ length: 500 }, (_, i) => entry(`${i}-0`, 'rejected', NOW + i, 'U222', { reason: '&'.repeat(300) }));
    const view = renderAuditHistory('R-7F3K2Q', { entries: many, chain: { ok: true } });
    expectWithinSlackLimits(view);
    expect(allText(view)).toMatch(/more entries not shown/);
  });
});
