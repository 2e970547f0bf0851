/**
 * `/ivs audit <request-id>`: the request's entries from the audit stream, in order, and whether the
 * hash chain verifies. A broken chain means an entry was edited or removed: it is said first and loudly.
 */
import type { AuditLog, StoredAuditEntry } from '../../core/ports';
import type { RequestId } from '../../core/types';
import { escapeBounded, slackDate, truncate, userMention } from '../mrkdwn';
import { header, LIMITS, linesToSections, section, type KnownBlock, type MessageView } from './block-kit';

export type AuditHistory = Awaited<ReturnType<AuditLog['history']>>;

export function renderAuditHistory(requestId: RequestId, history: AuditHistory, workspace?: string): MessageView {
  const { entries, chain } = history;
  const blocks: KnownBlock[] = [header(`Audit trail · ${requestId}${workspace === undefined ? '' : ` · ${truncate(workspace, 64)}`}`)];
  let text: string;
  if (chain.ok) {
    blocks.push(
      section(`:white_check_mark: Hash chain verified ✓ (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} for this request).`, 'ivs_chain'),
    );
    text = `Audit trail of ${requestId}${workspace === undefined ? '' : ` (workspace ${escapeBounded(workspace, 64)})`}: ${entries.length} entries, chain verified.`;
  } else {
    blocks.push(
      section(
        `:rotating_light: *AUDIT CHAIN BROKEN at entry \`${escapeBounded(chain.brokenAt, 64)}\`:* ${escapeBounded(chain.why, 500)}\n` +
          '*An audit entry was changed or removed. Do not trust this history; tell security.*',
        'ivs_chain',
      ),
    );
    text = `AUDIT CHAIN BROKEN for ${requestId} at entry ${escapeBounded(chain.brokenAt, 64)}`;
  }
  if (entries.length === 0) {
    blocks.push(section(`No audit entries for \`${requestId}\`.`));
  } else {
    blocks.push(...linesToSections(entries.map(entryLine), LIMITS.blocksPerMessage - blocks.length, 'entries'));
  }
  return { text, blocks };
}

/** Every entry as stored, the ones this bot cannot read as an event too (a newer bot's type, say). */
function entryLine(entry: StoredAuditEntry): string {
  const actor = entry.actor ? userMention(entry.actor) : '_bot_';
  const type = 'unreadable' in entry ? entry.storedType : entry.type;
  const detail = detailText(entry.detail);
  const id = `\`${escapeBounded(entry.entryId, 40)}\``;
  return `${slackDate(entry.at)} · *${escapeBounded(type, 40)}* · ${actor}${detail ? ` · ${detail}` : ''} · ${id}`;
}

function detailText(detail: unknown): string {
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return `detail=${escapeBounded(JSON.stringify(detail), 300)}`;
  return Object.entries(detail)
    .map(([k, v]) => `${escapeBounded(k, 40)}=${escapeBounded(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v), 300)}`)
    .join(', ');
}
