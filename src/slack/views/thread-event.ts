/**
 * One thread reply per audit event: the human-readable trail under the card. Details are the typed
 * facts of each event (core/audit-events.ts: ids, paths, versions, codes) and are shown escaped;
 * the material is never in an event, so it can never be here. An empty string in a detail counts as
 * absent (an orphan with no delete request opened, a reminder with no successor on record).
 */
import type { AuditEvent, AuditEventOf } from '../../core/ports';
import type { ApprovalRequest } from '../../core/request';
import { expiresAfterTtl, isCompromisedRotation } from '../../core/request';
import { escapeBounded, mention, daysText, slackDate, truncate, userMention } from '../mrkdwn';
import { LIMITS } from './block-kit';
import { nameText, operationText, ORPHAN_NEVER_EXPIRES, platformsText, REASON_DISPLAY_MAX, secretIdText } from './describe';

/** A detail's text, escaped and bounded; undefined when absent or empty. */
function text(value: string | undefined, max: number): string | undefined {
  return value === undefined || value === '' ? undefined : escapeBounded(value, max);
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

/** The count an event says, else (an expiry says none) the request's. */
function count(request: ApprovalRequest, counted?: { readonly approvals: number; readonly required: number }): string {
  return counted ? `${counted.approvals}/${counted.required}` : `${request.approvals.length}/${request.approvalsRequired}`;
}

/** The secret an event is about: the detail's id, else the request's target. */
function secretOf(request: ApprovalRequest, intercomId: string): string {
  if (intercomId !== '') return secretIdText(intercomId);
  return request.operation.action === 'create' ? 'the new secret' : secretIdText(request.operation.secretId);
}

/** A final event's outcome, else the request's. */
function outcomeOf(request: ApprovalRequest, event: AuditEventOf<'succeeded' | 'failed'>): string | undefined {
  return text(event.detail.outcome, REASON_DISPLAY_MAX) ?? (request.outcome ? escapeBounded(request.outcome, REASON_DISPLAY_MAX) : undefined);
}

/** Every reply names its workspace first, so a reply read on its own (a notification) says where. */
export function renderThreadEvent(request: ApprovalRequest, event: AuditEvent): string {
  return truncate(`${code(escapeBounded(request.operation.workspace, 64))} · ${line(request, event)}`, LIMITS.sectionText);
}

function line(request: ApprovalRequest, event: AuditEvent): string {
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
      return `:white_check_mark: Approved by ${by(event)} (${count(request, event.detail)}).`;
    case 'withdrawn':
      return `:leftwards_arrow_with_hook: ${by(event)} withdrew their approval (${count(request, event.detail)}).`;
    case 'rejected': {
      const reason = text(event.detail.reason, REASON_DISPLAY_MAX) ?? (request.rejection ? escapeBounded(request.rejection.reason, REASON_DISPLAY_MAX) : '');
      return `:no_entry: Rejected by ${by(event)}${reason.trim() ? `: ${reason}` : '.'} ${requester}`;
    }
    case 'expired':
      return `:hourglass: Expired without enough approvals (${count(request)}); nothing was done. ${requester}`;
    case 'cancelled':
      return `:heavy_multiplication_x: Cancelled by ${by(event)}; nothing was done.${event.actor === request.requester ? '' : ` ${requester}`}`;
    case 'executing':
      return `:gear: Executing ${code(escapeBounded(event.detail.step, 80))}…`;
    case 'created': {
      const d = event.detail;
      const path = text(d.vaultPath, 300);
      const version = d.vaultVersion === undefined ? undefined : String(d.vaultVersion);
      const vault = path ? ` Material stored in Vault at ${code(path)}${version ? ` (version ${escapeBounded(version, 20)})` : ''}.` : '';
      return `:key: Created Intercom secret ${secretOf(request, d.intercomId)}${d.name ? ` ${nameText(d.name)}` : ''}.${vault}`;
    }
    case 'deleted':
      // The Vault entry is marked deleted after this is told: the final reply says how that went.
      return `:wastebasket: Deleted Intercom secret ${secretOf(request, event.detail.intercomId)}.`;
    case 'already_gone':
      return `:ghost: Intercom secret ${secretOf(request, event.detail.intercomId)} was already gone (404): nothing to delete.`;
    case 'failed': {
      // What failed is the step; what was undone (or was not, and what to do by hand) is the outcome,
      // and the rolled-back or orphan reply before it.
      const outcome = outcomeOf(request, event);
      const parts = [`:x: *Failed* at ${code(escapeBounded(event.detail.step, 200))}.`];
      if (outcome) parts.push(outcome);
      return `${parts.join(' ')} ${requester}`;
    }
    case 'rolled_back':
      // Told only by the compensation of a Vault write that finally failed.
      return `:leftwards_arrow_with_hook: Rolled back: deleted ${secretOf(request, event.detail.intercomId)} at Intercom again because its material could not be stored in Vault.`;
    case 'recovered': {
      const note = text(event.detail.note, 300);
      return `:ambulance: Recovered an interrupted execution${note ? `: ${note}` : ''}.`;
    }
    case 'orphan': {
      const followUp = text(event.detail.deleteRequestId, 20);
      return (
        `:rotating_light: *ORPHAN:* Intercom secret ${secretOf(request, event.detail.intercomId)} carries this request's id but Vault holds no material for it.` +
        (followUp ? ` Delete request ${code(followUp)} opened for it.` : ' It must be deleted.')
      );
    }
    case 'succeeded': {
      if (event.detail.state === 'awaiting_finish') {
        const urgent = isCompromisedRotation(request.operation)
          ? ' The old secret is compromised: finish as soon as the signers use the successor (no overlap wait).'
          : '';
        return `:arrow_right: *Step 1 done*: ${text(event.detail.outcome, REASON_DISPLAY_MAX) ?? 'successor created'}.${urgent} ${requester}`;
      }
      const outcome = outcomeOf(request, event);
      return `:tada: *Succeeded*${outcome ? `: ${outcome}` : '.'} ${requester}`;
    }
    case 'finish_requested':
      return `:arrow_forward: ${by(event)} asked to finish the rotation: deleting the old secret now needs an approval from someone other than them.`;
    case 'abandoned':
      return `:octagonal_sign: ${by(event)} abandoned the rotation; both secrets are kept. ${requester}`;
    case 'retrying': {
      const why = text(event.detail.why, 300);
      return `:repeat: Not finished yet${why ? `: ${why}` : ''}. Nothing is decided on a guess: the bot looks again within about half a minute.`;
    }
    case 'finish_reminder': {
      const successor = text(event.detail.successorId, 40);
      const old = request.operation.action === 'create' ? 'the old secret' : secretIdText(request.operation.secretId);
      return (
        `:alarm_clock: ${requester}: this rotation has been waiting to be finished for ${daysText(event.detail.waitingMs)}. ` +
        `*Both secrets are still active* (${old}${successor ? ` and its successor ${code(successor)}` : ' and its successor'}): ` +
        '*Finish rotation* once every signer uses the successor, or *Abandon* it.'
      );
    }
    case 'approval_reminder': {
      const ids = event.detail.approvers.split(/\s+/).filter(Boolean).slice(0, 20);
      const who = ids.length ? ids.map(mention).join(' ') : 'approvers';
      const expiry = expiresAfterTtl(request) ? `expires ${slackDate(request.expiresAt)}` : `never expires: ${ORPHAN_NEVER_EXPIRES}`;
      return `:bell: ${who}: ${request.id} is still waiting for an approval and ${expiry}. Approve or reject it on the card.`;
    }
    case 'waiting': {
      const holder = text(event.detail.holder, 20);
      return `:hourglass_flowing_sand: Approved, and waiting: ${holder ? `${code(holder)} is` : 'another request is'} executing in this workspace (one create or delete at a time). This one runs as soon as it is done; its requester can still call it off with \`/ivs cancel ${escapeBounded(request.id, 20)}\`.`;
    }
  }
}

/** The note a thread gets when some of its replies were given up (older than IVS_DELIVERY_MAX_AGE). */
export function renderDeliveryGap(requestId: string): string {
  const id = escapeBounded(requestId, 20);
  return `:warning: Some events of this request could not be posted here in time (Slack was unavailable for longer than IVS_DELIVERY_MAX_AGE), so this thread may be missing some. \`/ivs audit ${id}\` lists them all.`;
}
