/**
 * What the person who typed or clicked is told (ephemerally), from the typed outcome of the use case
 * they ran: the words live here, not in the core. Pure functions, outcome → Reply.
 */
import { IntercomError } from '../../core/errors';
import type {
  AbandonOutcome,
  ApproveOutcome,
  CancelOutcome,
  CardChanged,
  FinishOutcome,
  OpenOutcome,
  RejectOutcome,
  WithdrawOutcome,
} from '../../core/use-cases';
import type { RequestId } from '../../core/types';
import { formatDuration } from '../../duration';

export interface Reply {
  readonly ok: boolean;
  readonly text: string;
  /** The workspace of the request it is about, when known (a metrics label). */
  readonly workspace?: string;
}

const refusal = (text: string, workspace?: string): Reply => ({ ok: false, text, ...(workspace !== undefined ? { workspace } : {}) });
const done = (text: string, workspace?: string): Reply => ({ ok: true, text, ...(workspace !== undefined ? { workspace } : {}) });

const noRequest = (id: RequestId): string => `There is no request ${id}.`;

function notServed(id: RequestId, workspace: string): string {
  return `${id} belongs to workspace ${workspace}, which this bot does not serve (any more): nothing was changed.`;
}

/** Never labelled with a workspace (as in the first release). */
function cardChanged(o: CardChanged): Reply {
  return refusal(
    `The card of ${o.id} changed since you saw it (it now shows fingerprint ${o.fingerprint}), so nothing was ${o.nothing}. Read the card again before you decide.`,
  );
}

/** A policy refusal of a decision; a requester deciding on their own request is shown the way out. */
const decisionRefusal = (o: { readonly reason: string; readonly ownRequest?: true }): string =>
  o.ownRequest ? `${o.reason} (use \`/ivs cancel\` to withdraw it)` : o.reason;

/** `awaiting_finish` as people read it. */
const stateWords = (state: string): string => state.replace('_', ' ');

/** Why an Intercom call failed, in words for the person who asked. */
export function intercomProblem(err: unknown): string {
  if (!(err instanceof IntercomError)) return 'an unexpected error';
  switch (err.kind) {
    case 'unauthorized':
      return 'Intercom rejected the access token (401)';
    case 'forbidden':
      return 'the Intercom token lacks the read_secure_mode_secret scope (403)';
    case 'rate_limited':
      return 'Intercom is rate limiting us; try again in a few seconds';
    case 'unavailable':
      return 'Intercom is unavailable right now';
    default:
      return `Intercom answered ${err.details.status ?? err.kind}`;
  }
}

/** Opening a request: never labelled (the command's own workspace is). */
export function openReply(o: OpenOutcome): Reply {
  switch (o.kind) {
    case 'no_such_workspace':
      return refusal(`This bot does not serve a workspace called ${o.name}.`);
    case 'not_allowed':
      return refusal(`Not allowed: ${o.reason}.`);
    case 'compromised_needs_reason':
      return refusal('A compromised rotation needs a reason (what leaked, where, when). Nothing was opened.');
    case 'never_approvable':
      return refusal(`This request could never be approved: ${o.reason}. Nothing was opened.`);
    case 'intercom_unreachable':
      return refusal(`Could not check secret ${o.secretId} at Intercom (workspace ${o.workspace}): ${intercomProblem(o.cause)}. Nothing was opened.`);
    case 'no_such_secret':
      return refusal(`There is no secret with id \`${o.secretId}\` in workspace ${o.workspace} (see \`/ivs ${o.workspace} list\`).`);
    case 'too_many_open':
      return refusal(`You already have ${o.open.length} open requests (${o.open.join(', ')}); cancel one or wait for it to finish.`);
    case 'rotation_open':
      return refusal(`Secret ${o.secretId} already has an open rotation: ${o.existing} (see \`/ivs status ${o.existing}\`).`);
    case 'card_refused':
      return refusal(
        `Could not post the request card in this channel (Slack said \`${o.error}\`), so ${o.id} was cancelled. Is the bot a member of the channel?`,
      );
    case 'no_id':
      return refusal('Could not allocate a request id; try again.');
    case 'opened': {
      const needs = `${o.approvalsRequired} approval${o.approvalsRequired === 1 ? '' : 's'}`;
      const opened = `Request ${o.id} opened; it needs ${needs} from someone else.`;
      if (o.card !== 'delayed') return done(opened);
      return done(
        `${opened} Slack is not answering right now, so its card is delayed: it is posted here as soon as Slack answers again (\`/ivs status ${o.id}\` works meanwhile).`,
      );
    }
  }
}

export function approveReply(o: ApproveOutcome): Reply {
  switch (o.kind) {
    case 'no_request':
      return refusal(noRequest(o.id), o.workspace);
    case 'not_pending':
      return refusal(`${o.id} is ${stateWords(o.state)}: it cannot be approved now.`, o.workspace);
    case 'not_served':
      return refusal(notServed(o.id, o.workspace), o.workspace);
    case 'not_allowed':
      return refusal(`Your approval does not count: ${decisionRefusal(o)}.`, o.workspace);
    case 'own_request':
      return refusal('You cannot approve your own request.', o.workspace);
    case 'already_approved':
      return refusal(`You have already approved ${o.id}; one person counts once.`, o.workspace);
    case 'expired':
      return refusal(`${o.id} has expired.`, o.workspace);
    case 'card_changed':
      return cardChanged(o);
    case 'approved':
      return done(`You approved ${o.id} (${o.approvals}/${o.required}).`, o.workspace);
  }
}

export function rejectReply(o: RejectOutcome): Reply {
  switch (o.kind) {
    case 'no_request':
      return refusal(noRequest(o.id), o.workspace);
    case 'not_served':
      return refusal(notServed(o.id, o.workspace), o.workspace);
    case 'not_allowed':
      return refusal(`You cannot reject ${o.id}: ${decisionRefusal(o)}.`, o.workspace);
    case 'card_changed':
      return cardChanged(o);
    case 'refused':
      return refusal(`${o.id} cannot be rejected: ${o.why}.`, o.workspace);
    case 'rejected':
      return done(`You rejected ${o.id}.`, o.workspace);
  }
}

export function cancelReply(o: CancelOutcome): Reply {
  switch (o.kind) {
    case 'no_request':
      return refusal(noRequest(o.id), o.workspace);
    case 'refused':
      return refusal(`${o.id} cannot be cancelled: ${o.why}.`, o.workspace);
    case 'cancelled':
      return done(`You cancelled ${o.id}.`, o.workspace);
  }
}

export function withdrawReply(o: WithdrawOutcome): Reply {
  switch (o.kind) {
    case 'no_request':
      return refusal(noRequest(o.id), o.workspace);
    case 'card_changed':
      return cardChanged(o);
    case 'refused':
      return refusal(`You cannot withdraw an approval of ${o.id}: ${o.why}.`, o.workspace);
    case 'withdrawn':
      return done(`You withdrew your approval of ${o.id}.`, o.workspace);
  }
}

export function finishReply(o: FinishOutcome): Reply {
  switch (o.kind) {
    case 'no_request':
      return refusal(noRequest(o.id), o.workspace);
    case 'not_awaiting_finish':
      return refusal(`${o.id} is not a rotation waiting to be finished.`, o.workspace);
    case 'not_served':
      return refusal(notServed(o.id, o.workspace), o.workspace);
    case 'not_allowed':
      return refusal(`Not allowed: ${o.reason}.`, o.workspace);
    case 'too_early':
      return refusal(`Too early: both secrets must coexist for ${formatDuration(o.overlapMs)}; ${formatDuration(o.leftMs)} left.`, o.workspace);
    case 'never_approvable':
      return refusal(`The delete step could never be approved: ${o.reason}.`, o.workspace);
    case 'card_changed':
      return cardChanged(o);
    case 'refused':
      return refusal(`${o.id} cannot be finished: ${o.why}.`, o.workspace);
    case 'finish_requested':
      return done(`The delete of the old secret in ${o.id} now needs approval from someone other than you.`, o.workspace);
  }
}

export function abandonReply(o: AbandonOutcome): Reply {
  switch (o.kind) {
    case 'no_request':
      return refusal(noRequest(o.id), o.workspace);
    case 'not_served':
      return refusal(notServed(o.id, o.workspace), o.workspace);
    case 'not_allowed':
      return refusal(`Not allowed: ${o.reason}.`, o.workspace);
    case 'card_changed':
      return cardChanged(o);
    case 'refused':
      return refusal(`${o.id} cannot be abandoned: ${o.why}.`, o.workspace);
    case 'abandoned':
      return done(`You abandoned the rotation ${o.id}; both secrets stay.`, o.workspace);
  }
}
