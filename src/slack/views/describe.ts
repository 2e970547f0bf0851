/**
 * The words every view uses for a request: what it does, its state, its approvals. One place, so
 * the card, the lists and the thread say the same thing.
 */
import type { ApprovalRequest, Operation, RequestState } from '../../core/request';
import type { Platform } from '../../core/types';
import { escapeBounded, oneLine, userMention, visibleText } from '../mrkdwn';

/** Names are at most 80 characters typed; Intercom may hold longer ones made elsewhere. */
export const NAME_DISPLAY_MAX = 120;
export const REASON_DISPLAY_MAX = 600;

/** Why an orphan's delete request never expires, where others show their expiry. */
export const ORPHAN_NEVER_EXPIRES = 'the orphan stays active until this is decided';

export function platformsText(platforms: readonly Platform[]): string {
  return platforms.length ? platforms.join(', ') : 'none';
}

/**
 * A name as shown: one line, escaped, bounded, and in a code span, so `*`, `_` or `~` in it cannot
 * bold, hide or strike part of the sentence around it (mrkdwn has no escape for those).
 */
export function nameText(name: string): string {
  return `\`${escapeBounded(plainName(name).replace(/`/g, "'"), NAME_DISPLAY_MAX)}\``;
}

/** A name in plain text (dialogs, notifications): one line, no invisible or control characters. */
export function plainName(name: string): string {
  return visibleText(oneLine(name));
}

export function secretIdText(id: string): string {
  return `\`${escapeBounded(id.replace(/`/g, "'"), 40)}\``;
}

export function actionTitle(op: Operation): string {
  switch (op.action) {
    case 'create':
      return 'Create secret';
    case 'delete':
      return 'Delete secret';
    case 'rotate':
      return op.compromised ? 'Rotate COMPROMISED secret' : 'Rotate secret';
  }
}

/** "delete secret `102` Production Web" — mrkdwn, escaped. */
export function operationText(op: Operation): string {
  switch (op.action) {
    case 'create':
      return `create secret ${nameText(op.name)}`;
    case 'delete':
      return `delete secret ${secretIdText(op.secretId)} ${nameText(op.secretName)}`;
    case 'rotate':
      return `rotate ${op.compromised ? '*COMPROMISED* ' : ''}secret ${secretIdText(op.secretId)} ${nameText(op.secretName)}`;
  }
}

/**
 * The same in plain text, for confirm dialogs and header lines (plain text renders no markup). A
 * rotation's delete step is described as what it does: the delete, with the successor that stays.
 */
export function stepPlain(request: Pick<ApprovalRequest, 'operation' | 'rotation'>): string {
  const op = request.operation;
  if (op.action === 'rotate' && request.rotation?.step === 'retire') {
    // The successor first: a long name must not push it out of a bounded dialog.
    return `delete rotated ${op.compromised ? 'COMPROMISED ' : ''}secret ${op.secretId} (successor ${request.rotation.successor?.id ?? '?'} stays) "${plainName(op.secretName)}" (${platformsText(op.platforms)})`;
  }
  return operationPlain(op);
}

export function operationPlain(op: Operation): string {
  switch (op.action) {
    case 'create':
      return `create secret "${plainName(op.name)}" (${platformsText(op.platforms)})`;
    case 'delete':
      return `delete secret ${op.secretId} "${plainName(op.secretName)}" (${platformsText(op.platforms)})`;
    case 'rotate':
      return `rotate ${op.compromised ? 'COMPROMISED ' : ''}secret ${op.secretId} "${plainName(op.secretName)}" (${platformsText(op.platforms)})`;
  }
}

/** Target as a list cell: the name for a create, id and name otherwise. */
export function targetText(op: Operation): string {
  return op.action === 'create' ? nameText(op.name) : `${secretIdText(op.secretId)} ${nameText(op.secretName)}`;
}

const STATE_LABELS: Record<RequestState, string> = {
  pending: ':hourglass_flowing_sand: waiting for approval',
  approved: ':white_check_mark: approved, about to execute',
  executing: ':gear: executing…',
  awaiting_finish: ':arrows_counterclockwise: successor created, waiting for finish',
  succeeded: ':white_check_mark: succeeded',
  failed: ':x: failed',
  rejected: ':no_entry: rejected',
  cancelled: ':heavy_multiplication_x: cancelled',
  expired: ':hourglass: expired',
};

export function stateText(state: RequestState): string {
  return STATE_LABELS[state];
}

/** "1/2: <@U1>" — approvals of the current step. */
export function approvalsText(request: ApprovalRequest): string {
  const count = `${request.approvals.length}/${request.approvalsRequired}`;
  return request.approvals.length ? `${count}: ${request.approvals.map(userMention).join(', ')}` : count;
}

/** A rotation's step as words, or undefined for create/delete. */
export function rotationStepText(request: ApprovalRequest): string | undefined {
  if (request.operation.action !== 'rotate') return undefined;
  const step = request.rotation?.step ?? 'successor';
  if (step === 'retire') return `step 2 of 2: delete the old secret ${secretIdText(request.operation.secretId)}`;
  return request.state === 'awaiting_finish' ? 'step 1 of 2 done: successor created' : 'step 1 of 2: create a successor with the same platforms';
}
