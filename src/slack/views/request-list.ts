/** `/ivs requests`: the open requests, one line each. */
import type { ApprovalRequest } from '../../core/request';
import { truncate, userMention } from '../mrkdwn';
import { header, LIMITS, linesToSections, section, type KnownBlock, type MessageView } from './block-kit';
import { actionTitle, approvalsText, platformsText, stateText, targetText } from './describe';
import { expiryText } from './request-card';

export function renderRequestList(requests: readonly ApprovalRequest[], opts: { readonly now: number; readonly workspace?: string }): MessageView {
  const head = header(opts.workspace === undefined ? 'Open requests' : `Open requests · ${truncate(opts.workspace, 64)}`);
  if (requests.length === 0) {
    return { text: 'No open requests.', blocks: [head, section(':information_source: *No open requests.*')] };
  }
  const lines = requests.map((r) => requestLine(r, opts.now));
  const blocks: KnownBlock[] = [head, ...linesToSections(lines, LIMITS.blocksPerMessage - 1, 'requests')];
  return { text: `${requests.length} open request${requests.length === 1 ? '' : 's'}.`, blocks };
}

function requestLine(request: ApprovalRequest, now: number): string {
  const parts = [
    `\`${request.id}\``,
    `*${actionTitle(request.operation)}* ${targetText(request.operation)} (${platformsText(request.operation.platforms)})`,
    `by ${userMention(request.requester)}`,
    stateText(request.state),
    `approvals ${approvalsText(request)}`,
  ];
  const expiry = expiryText(request, now);
  if (expiry) parts.push(expiry);
  return truncate(parts.join(' · '), 1000);
}
