/** `/ivs status <request-id>`: the card's details (no buttons) and the request's history so far. */
import { isReadableEntry, type StoredAuditEntry } from '../../core/ports';
import type { ApprovalRequest } from '../../core/request';
import { isFinal } from '../../core/request';
import { escapeBounded, slackDate, truncate } from '../mrkdwn';
import { context, LIMITS, linesToSections, section, type MessageView } from './block-kit';
import { operationPlain } from './describe';
import { cardBody, outcomeText, type CardOptions } from './request-card';
import { renderThreadEvent } from './thread-event';

export interface StatusOptions extends CardOptions {
  /** The request's audit entries, oldest first; omitted when the audit log could not be read. */
  readonly history?: readonly StoredAuditEntry[];
}

export function renderRequestStatus(request: ApprovalRequest, opts: StatusOptions): MessageView {
  const blocks = cardBody(request, opts);
  if (isFinal(request.state)) blocks.push(section(outcomeText(request), 'ivs_outcome'));
  if (request.card) {
    blocks.push(context(`Card in <#${request.card.channel.replace(/[^A-Z0-9]/gi, '')}>`));
  }
  if (opts.history === undefined) {
    blocks.push(context(':warning: The history could not be read; `/ivs audit` shows the audit stream.'));
  } else if (opts.history.length === 0) {
    blocks.push(context('No history recorded yet.'));
  } else {
    // An entry this bot cannot read as an event (a newer bot's type, say) has no reply to render:
    // `/ivs audit` shows it as stored.
    const readable = opts.history.filter(isReadableEntry);
    const lines = readable.map((e) => `${slackDate(e.at)} ${renderThreadEvent(request, e)}`);
    const unreadable = opts.history.length - readable.length;
    blocks.push(section('*History*'));
    // Said, not hidden: the reader knows the history has more than it shows.
    blocks.push(...linesToSections(lines, LIMITS.blocksPerMessage - blocks.length - (unreadable > 0 ? 1 : 0), 'events'));
    if (unreadable > 0) {
      blocks.push(
        context(
          `${unreadable === 1 ? '1 audit entry is' : `${unreadable} audit entries are`} of a kind this version cannot show; \`/ivs audit ${request.id}\` shows every entry as stored.`,
        ),
      );
    }
  }
  return {
    text: truncate(`${request.id}: ${escapeBounded(operationPlain(request.operation), 300)}: ${request.state}`, LIMITS.fallbackText),
    blocks,
  };
}
