/**
 * One thread reply per audit event: the human-readable trail under the card. Details come from
 * `event.detail` (plain facts: ids, paths, versions, codes) and are shown escaped; the material is
 * never in an event, so it can never be here.
 *
 * Detail keys read (the first present of each group wins):
 *   approved/withdrawn: approvals, required
 *   rejected: reason                         executing: step, recovering
 *   created: intercomId|secretId, name, vaultPath|path, vaultVersion|version
 *   deleted / already_gone: intercomId|secretId, vaultPath|path
 *   failed: step|what, error|code, undone    rolled_back: intercomId|secretId, why
 *   recovered: note|what                      orphan: intercomId|secretId, deleteRequestId
 *   succeeded / failed: outcome (else request.outcome)
 *   finish_reminder: waitingMs, successorId   approval_reminder: approvers (ids, space-separated)
 */
import type { AuditEvent } from '../../core/ports';
import type { ApprovalRequest } from '../../core/request';
import { expiresAfterTtl, isCompromisedRotation } from '../../core/request';
import { escapeBounded, mention, daysText, slackDate, truncate, userMention } from '../mrkdwn';
import { LIMITS } from './block-kit';
import { nameText, operationText, ORPHAN_NEVER_EXPIRES, platformsText, REASON_DISPLAY_MAX, secretIdText } from './describe';

type Detail = AuditEvent['detail'];

function pick(detail: Detail, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = detail[key];
    if (value !== undefined && value !== '') return String(value);
  }
  return undefined;
}

function text(detail: Detail, max: number, ...keys: string[]): string | undefined {
  const value = pick(detail, ...keys);
  return value === undefined ? undefined : escapeBounded(value, max);
}

function num(detail: Detail, key: string): number | undefined {
  const value = detail[key];
  return typeof value === 'number' ? value : undefined;
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}

/** Said first, loudly, wherever a compromised rotation is introduced. */
function compromisedBanner(request: ApprovalRequest): string {
  if (!isCompromisedRotation(request.operation) || request.operation.action !== 'rotate') return '';
  return `:rotating_light: *COMPROMISED: secret ${secretIdText(request.operation.secretId)} is treated as leaked.* Its delete may follow the successor at once; every session signed with it breaks then.\n`;
}

function by(event: AuditEvent): string {
  return event.actor ? userMention(event.actor) : 'the bot';
}

function count(request: ApprovalRequest, event: AuditEvent): string {
  const approvals = num(event.detail, 'approvals') ?? request.approvals.length;
  const required = num(event.detail, 'required') ?? request.approvalsRequired;
  return `${approvals}/${required}`;
}

/** The secret an event is about: the detail's id, else the request's target. */
function secretOf(request: ApprovalRequest, event: AuditEvent): string {
  const id = pick(event.detail, 'intercomId', 'secretId');
  if (id !== undefined) return secretIdText(id);
  return request.operation.action === 'create' ? 'the new secret' : secretIdText(request.operation.secretId);
}

/** Every reply names its workspace first, so a reply read on its own (a notification) says where. */
export function renderThreadEvent(request: ApprovalRequest, event: AuditEvent): string {
  return truncate(`${code(escapeBounded(request.operation.workspace, 64))} · ${line(request, event)}`, LIMITS.sectionText);
}

function line(request: ApprovalRequest, event: AuditEvent): string {
  const d = event.detail;
  const requester = userMention(request.requester);
  switch (event.type) {
    case 'requested':
      return (
        compromisedBanner(request) +
        `:memo: ${requester} requested to ${operationText(request.operation)} (${platformsText(request.operation.platforms)}). ` +
        `Needs ${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'} from someone else` +
        (expiresAfterTtl(request) ? ` by ${slackDate(request.expiresAt)}.` : `. It never expires: ${ORPHAN_NEVER_EXPIRES}.`)
      );
    case 'approved':
      return `:white_check_mark: Approved by ${by(event)} (${count(request, event)}).`;
    case 'withdrawn':
      return `:leftwards_arrow_with_hook: ${by(event)} withdrew their approval (${count(request, event)}).`;
    case 'rejected': {
      const reason = text(d, REASON_DISPLAY_MAX, 'reason') ?? (request.rejection ? escapeBounded(request.rejection.reason, REASON_DISPLAY_MAX) : '');
      return `:no_entry: Rejected by ${by(event)}${reason.trim() ? `: ${reason}` : '.'} ${requester}`;
    }
    case 'expired':
      return `:hourglass: Expired without enough approvals (${count(request, event)}); nothing was done. ${requester}`;
    case 'cancelled':
      return `:heavy_multiplication_x: Cancelled by ${by(event)}; nothing was done.${event.actor === request.requester ? '' : ` ${requester}`}`;
    case 'executing': {
      const step = text(d, 80, 'step');
      const recovering = d['recovering'] === true ? ' (taking over an interrupted execution)' : '';
      return `:gear: Executing${step ? ` ${code(step)}` : ''}${recovering}…`;
    }
    case 'created': {
      const name = pick(d, 'name');
      const path = text(d, 300, 'vaultPath', 'path');
      const version = pick(d, 'vaultVersion', 'version');
      const vault = path ? ` Material stored in Vault at ${code(path)}${version ? ` (version ${escapeBounded(version, 20)})` : ''}.` : '';
      return `:key: Created Intercom secret ${secretOf(request, event)}${name ? ` ${nameText(name)}` : ''}.${vault}`;
    }
    case 'deleted': {
      const path = text(d, 300, 'vaultPath', 'path');
      return `:wastebasket: Deleted Intercom secret ${secretOf(request, event)}.${path ? ` Vault entry ${code(path)} marked deleted.` : ''}`;
    }
    case 'already_gone':
      return `:ghost: Intercom secret ${secretOf(request, event)} was already gone (404): nothing to delete.`;
    case 'failed': {
      const what = text(d, 200, 'step', 'what');
      const error = text(d, 300, 'error', 'code');
      const undone = text(d, 300, 'undone');
      const outcome = text(d, REASON_DISPLAY_MAX, 'outcome') ?? (request.outcome ? escapeBounded(request.outcome, REASON_DISPLAY_MAX) : undefined);
      const parts = [`:x: *Failed*${what ? ` at ${code(what)}` : ''}${error ? `: ${error}` : ''}.`];
      if (outcome) parts.push(outcome);
      if (undone) parts.push(`Undone: ${undone}.`);
      return `${parts.join(' ')} ${requester}`;
    }
    case 'rolled_back': {
      const why = text(d, 300, 'why');
      return `:leftwards_arrow_with_hook: Rolled back: deleted ${secretOf(request, event)} at Intercom again${why ? ` because ${why}` : ' because its material could not be stored in Vault'}.`;
    }
    case 'recovered': {
      const note = text(d, 300, 'note', 'what');
      return `:ambulance: Recovered an interrupted execution${note ? `: ${note}` : ''}.`;
    }
    case 'orphan': {
      const followUp = text(d, 20, 'deleteRequestId');
      return (
        `:rotating_light: *ORPHAN:* Intercom secret ${secretOf(request, event)} carries this request's id but Vault holds no material for it.` +
        (followUp ? ` Delete request ${code(followUp)} opened for it.` : ' It must be deleted.')
      );
    }
    case 'succeeded': {
      if (d['state'] === 'awaiting_finish') {
        const urgent = isCompromisedRotation(request.operation)
          ? ' The old secret is compromised: finish as soon as the signers use the successor (no overlap wait).'
          : '';
        return `:arrow_right: *Step 1 done*: ${text(d, REASON_DISPLAY_MAX, 'outcome') ?? 'successor created'}.${urgent} ${requester}`;
      }
      const outcome = text(d, REASON_DISPLAY_MAX, 'outcome') ?? (request.outcome ? escapeBounded(request.outcome, REASON_DISPLAY_MAX) : undefined);
      return `:tada: *Succeeded*${outcome ? `: ${outcome}` : '.'} ${requester}`;
    }
    case 'finish_requested':
      return `:arrow_forward: ${by(event)} asked to finish the rotation: deleting the old secret now needs an approval from someone other than them.`;
    case 'abandoned':
      return `:octagonal_sign: ${by(event)} abandoned the rotation; both secrets are kept. ${requester}`;
    case 'retrying': {
      const why = text(d, 300, 'why');
      return `:repeat: Not finished yet${why ? `: ${why}` : ''}. Nothing is decided on a guess: the bot looks again within about half a minute.`;
    }
    case 'finish_reminder': {
      const waiting = num(d, 'waitingMs');
      const successor = text(d, 40, 'successorId');
      const old = request.operation.action === 'create' ? 'the old secret' : secretIdText(request.operation.secretId);
      return (
        `:alarm_clock: ${requester}: this rotation has been waiting to be finished${waiting !== undefined ? ` for ${daysText(waiting)}` : ''}. ` +
        `*Both secrets are still active* (${old}${successor ? ` and its successor ${code(successor)}` : ' and its successor'}): ` +
        '*Finish rotation* once every signer uses the successor, or *Abandon* it.'
      );
    }
    case 'approval_reminder': {
      const ids = (pick(d, 'approvers') ?? '').split(/\s+/).filter(Boolean).slice(0, 20);
      const who = ids.length ? ids.map(mention).join(' ') : 'approvers';
      const expiry = expiresAfterTtl(request) ? `expires ${slackDate(request.expiresAt)}` : `never expires: ${ORPHAN_NEVER_EXPIRES}`;
      return `:bell: ${who}: ${request.id} is still waiting for an approval and ${expiry}. Approve or reject it on the card.`;
    }
    case 'waiting': {
      const holder = text(d, 20, 'holder');
      return `:hourglass_flowing_sand: Approved, and waiting: ${holder ? `${code(holder)} is` : 'another request is'} executing in this workspace (one create or delete at a time). This one runs as soon as it is done; its requester can still call it off with \`/ivs cancel ${escapeBounded(request.id, 20)}\`.`;
    }
  }
}

/** The note a thread gets when some of its replies were given up (older than IVS_DELIVERY_MAX_AGE). */
export function renderDeliveryGap(requestId: string): string {
  const id = escapeBounded(requestId, 20);
  return `:warning: Some events of this request could not be posted here in time (Slack was unavailable for longer than IVS_DELIVERY_MAX_AGE), so this thread may be missing some. \`/ivs audit ${id}\` lists them all.`;
}
