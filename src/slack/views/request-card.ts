// slack/views/: pure functions from state or outcome to what Slack shows (blocks, thread text, replies); no I/O.
/**
 * The request card: the channel message people approve from. Rendered only from the stored request
 * (never from what a button carries); buttons carry the request id and the fingerprint of the step
 * the card shows, nothing else.
 */
import type { ApprovalRequest } from '../../core/request';
import { expiresAfterTtl, isCompromisedRotation, isFinal, requiredOverlapMs } from '../../core/request';
import { stepFingerprint } from '../../core/request-id';
import type { RequestId } from '../../core/types';
import { parseRequestId } from '../command-parser';
import { formatDuration } from '../../duration';
import { escapeBounded, relativeAge, slackDate, truncate, userMention } from '../mrkdwn';
import { button, confirmDialog, context, fields, header, LIMITS, section, type KnownBlock, type MessageView } from './block-kit';
import {
  actionTitle,
  approvalsText,
  nameText,
  ORPHAN_NEVER_EXPIRES,
  operationPlain,
  operationText,
  platformsText,
  REASON_DISPLAY_MAX,
  rotationStepText,
  secretIdText,
  stepPlain,
  stateText,
  targetText,
} from './describe';

export const DECISION_BLOCK_ID = 'ivs_decision';
export const APPROVE_ACTION_ID = 'ivs_approve';
export const REJECT_ACTION_ID = 'ivs_reject';
export const WITHDRAW_ACTION_ID = 'ivs_withdraw';
export const FINISH_ACTION_ID = 'ivs_finish';
export const ABANDON_ACTION_ID = 'ivs_abandon';

/** Every action id the card can render: each needs a listener that acks, or Slack shows an error. */
export const CARD_ACTION_IDS = [APPROVE_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID, FINISH_ACTION_ID, ABANDON_ACTION_ID] as const;
export type CardActionId = (typeof CARD_ACTION_IDS)[number];

/**
 * What a decision button carries: `R-7F3K2Q/1a2b-3c4d`, the request and the fingerprint of the step
 * this version of the card shows. The store checks the fingerprint inside the transition, so a click
 * on an older version of the card (another step) decides nothing.
 */
export function decisionValue(request: Pick<ApprovalRequest, 'id' | 'fingerprint' | 'rotation'>): string {
  return `${request.id}/${stepFingerprint(request)}`;
}

/**
 * The request and step a button value names. A bare request id (what cards rendered before steps
 * were bound carried) gives `step: null`: the caller must refuse it, never guess the step.
 */
export function readDecisionValue(value: string): { id: RequestId; step: string | null } | null {
  const [idPart = '', step, ...rest] = value.trim().split('/');
  const id = parseRequestId(idPart);
  if (!id || rest.length > 0) return null;
  if (step === undefined) return { id, step: null };
  return /^[0-9a-z-]{1,32}$/i.test(step) ? { id, step } : null;
}

export interface CardOptions {
  /** Milliseconds since the epoch; the card says how long until expiry or until finishing is allowed. */
  readonly now: number;
  /** IVS_MIN_OVERLAP: when given, an awaiting rotation says when it may be finished. */
  readonly minOverlapMs?: number;
}

export function renderRequestCard(request: ApprovalRequest, opts: CardOptions): MessageView {
  return { text: cardFallback(request), blocks: [...cardBody(request, opts), ...cardFooter(request)] };
}

/** The card without its buttons and outcome footer: what `/ivs status` shows above the history. */
export function cardBody(request: ApprovalRequest, opts: CardOptions): KnownBlock[] {
  const op = request.operation;
  const blocks: KnownBlock[] = [
    // The workspace in the header: nobody approves an EU delete believing it is the test workspace.
    header(`${request.id} · ${actionTitle(op)} · ${truncate(op.workspace, 64)}`),
    section(`${userMention(request.requester)} asks to ${operationText(op)} (${platformsText(op.platforms)}).`, 'ivs_summary'),
  ];
  const compromised = compromisedBlock(request);
  if (compromised) blocks.push(compromised);
  blocks.push(fields(cardFields(request)), section(`*Reason*\n${reasonText(request.reason)}`, 'ivs_reason'));
  const impact = impactBlock(request);
  if (impact) blocks.push(impact);
  const rotation = rotationBlock(request, opts);
  if (rotation) blocks.push(rotation);
  blocks.push(context(`Intercom workspace \`${escapeBounded(op.workspace, 64)}\``, `Opened ${slackDate(request.createdAt)}`));
  return blocks;
}

function cardFields(request: ApprovalRequest): string[] {
  const op = request.operation;
  const step = rotationStepText(request);
  const out = [
    `*Action*\n${actionTitle(op)}${step ? ` (${step})` : ''}`,
    `*Target*\n${targetText(op)}`,
    `*Platforms*\n${platformsText(op.platforms)}`,
    `*Requested by*\n${userMention(request.requester)}`,
    `*Approvals*\n${approvalsText(request)}`,
    `*State*\n${stateText(request.state)}`,
  ];
  if (request.state === 'pending') out.push(`*Expires*\n${expiresAfterTtl(request) ? slackDate(request.expiresAt) : `never: ${ORPHAN_NEVER_EXPIRES}`}`);
  out.push(`*Fingerprint*\n\`${escapeBounded(stepFingerprint(request), 64)}\``);
  return out;
}

function reasonText(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed === '') return '_no reason given_';
  // Quote every line so a multi-line reason stays visibly the requester's words.
  return escapeBounded(trimmed, REASON_DISPLAY_MAX)
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

/** A delete that would leave platforms with no secret says so loudly, with whether --force acknowledged it. */
function impactBlock(request: ApprovalRequest): KnownBlock | undefined {
  const op = request.operation;
  if (op.action === 'create' || request.impact.length === 0 || isFinal(request.state)) return undefined;
  const platforms = request.impact.map((p) => `*${p}*`).join(', ');
  const ack =
    op.action === 'delete' && op.force
      ? ':warning: The requester acknowledged this with `--force`: approving deletes it anyway.'
      : op.action === 'delete'
        ? 'Not acknowledged (`--force` was not given): the delete will be refused when it executes.'
        : 'The rotation will not delete the old secret while this is so.';
  return section(
    `:rotating_light: *IMPACT: deleting ${secretIdText(op.secretId)} leaves ${platforms} with NO identity verification secret.* ` +
      `Messenger logins on ${request.impact.length === 1 ? 'that platform' : 'those platforms'} that send a user_hash will stop verifying.\n${ack}`,
    'ivs_impact',
  );
}

/** A compromised rotation says so before anything else on the card (SPEC §10). */
function compromisedBlock(request: ApprovalRequest): KnownBlock | undefined {
  const op = request.operation;
  if (op.action !== 'rotate' || !isCompromisedRotation(op)) return undefined;
  const text = isFinal(request.state)
    ? `:rotating_light: *COMPROMISED:* secret ${secretIdText(op.secretId)} was rotated because it leaked.`
    : `:rotating_light: *COMPROMISED: secret ${secretIdText(op.secretId)} is treated as leaked.* ` +
      'Its delete may be asked for as soon as the successor exists (no overlap wait), and still needs its own approval. ' +
      '*Every session signed with the old secret breaks at once* when it is deleted.';
  return section(text, 'ivs_compromised');
}

function rotationBlock(request: ApprovalRequest, opts: CardOptions): KnownBlock | undefined {
  const rotation = request.rotation;
  if (request.operation.action !== 'rotate' || rotation === undefined) return undefined;
  const successor = rotation.successor ? `Successor ${secretIdText(rotation.successor.id)} ${nameText(rotation.successor.name)}` : 'The successor';
  if (request.state === 'awaiting_finish') {
    const createdAt = rotation.successorCreatedAt;
    const lines = [
      `:arrows_counterclockwise: ${successor} was created${createdAt !== undefined ? ` ${slackDate(createdAt)}` : ''}.`,
      '*Roll the new secret out to every signer, then finish* (finishing deletes the old secret and needs its own approval).',
    ];
    if (createdAt !== undefined && opts.minOverlapMs !== undefined) {
      const allowedAt = createdAt + requiredOverlapMs(request.operation, opts.minOverlapMs);
      lines.push(
        allowedAt <= opts.now ? 'Finishing is allowed now.' : `Finishing is allowed from ${slackDate(allowedAt)} (in ${formatDuration(allowedAt - opts.now)}).`,
      );
    }
    return section(lines.join('\n'), 'ivs_rotation');
  }
  if (rotation.step === 'retire') {
    const by = rotation.finishRequestedBy;
    return section(
      `:arrows_counterclockwise: ${successor} stays. ` +
        (by ? `${userMention(by)} asked to finish; approval must come from someone else.` : 'Finishing needs its own approval.'),
      'ivs_rotation',
    );
  }
  return undefined;
}

function cardFooter(request: ApprovalRequest): KnownBlock[] {
  switch (request.state) {
    case 'pending':
      return [{ type: 'actions', block_id: DECISION_BLOCK_ID, elements: pendingButtons(request) }];
    case 'awaiting_finish':
      return [{ type: 'actions', block_id: DECISION_BLOCK_ID, elements: finishButtons(request) }];
    case 'approved':
    case 'executing':
      return [context(':gear: Approved: executing… this card updates when it is done.')];
    default:
      return [section(outcomeText(request), 'ivs_outcome')];
  }
}

function pendingButtons(request: ApprovalRequest) {
  const op = request.operation;
  // Bounded so the dialog (300 characters) keeps the fingerprint and impact visible.
  const what = truncate(stepPlain(request), 150);
  const deletes = op.action === 'delete' || request.rotation?.step === 'retire';
  const impactNote = request.impact.length > 0 && op.action !== 'create' ? ` This leaves ${request.impact.join(', ')} with NO secret.` : '';
  // The delete of a compromised secret skips the overlap: whoever approves must know what breaks.
  const compromisedNote =
    request.rotation?.step === 'retire' && isCompromisedRotation(op) ? ' The old secret is COMPROMISED: every session signed with it breaks at once.' : '';
  const elements = [
    button({
      actionId: APPROVE_ACTION_ID,
      text: 'Approve',
      value: decisionValue(request),
      style: 'primary',
      confirm: confirmDialog({
        title: `Approve ${request.id}?`,
        text: `You approve: ${what} in workspace ${truncate(op.workspace, 64)}. Fingerprint ${stepFingerprint(request)}.${compromisedNote}${impactNote}`,
        confirm: 'Approve',
        style: deletes ? 'danger' : 'primary',
      }),
    }),
    button({
      actionId: REJECT_ACTION_ID,
      text: 'Reject',
      value: decisionValue(request),
      style: 'danger',
      confirm: confirmDialog({
        title: `Reject ${request.id}?`,
        text: `Rejecting ends the request: ${what} in workspace ${truncate(op.workspace, 64)}. You will be asked for a reason.`,
        confirm: 'Reject',
        style: 'danger',
      }),
    }),
  ];
  if (request.approvals.length > 0) {
    elements.push(button({ actionId: WITHDRAW_ACTION_ID, text: 'Withdraw my approval', value: decisionValue(request) }));
  }
  return elements;
}

function finishButtons(request: ApprovalRequest) {
  const op = request.operation;
  const oldId = op.action === 'create' ? '' : op.secretId;
  return [
    button({
      actionId: FINISH_ACTION_ID,
      text: 'Finish rotation',
      value: decisionValue(request),
      style: 'primary',
      confirm: confirmDialog({
        title: 'Finish the rotation?',
        text: `This asks to delete the old secret ${truncate(oldId, 40)}. Do it only when every signer uses the new secret. Someone else must approve.`,
        confirm: 'Finish rotation',
      }),
    }),
    button({
      actionId: ABANDON_ACTION_ID,
      text: 'Abandon',
      value: decisionValue(request),
      confirm: confirmDialog({
        title: 'Abandon the rotation?',
        text: `Ends ${request.id} and keeps both secrets, the old ${truncate(oldId, 40)} and its successor.`,
        confirm: 'Abandon',
        style: 'danger',
      }),
    }),
  ];
}

/** The final word on a closed card. Outcome text is shown escaped: it is a summary, never markup. */
export function outcomeText(request: ApprovalRequest): string {
  const outcome = request.outcome ? escapeBounded(request.outcome, REASON_DISPLAY_MAX) : '';
  switch (request.state) {
    case 'succeeded':
      return `:white_check_mark: *Succeeded*${outcome ? `: ${outcome}` : '.'}`;
    case 'failed':
      return `:x: *Failed*${outcome ? `: ${outcome}` : '.'}`;
    case 'rejected': {
      const by = request.rejection ? ` by ${userMention(request.rejection.by)}` : '';
      const why = request.rejection?.reason.trim() ? `: ${escapeBounded(request.rejection.reason.trim(), REASON_DISPLAY_MAX)}` : '.';
      return `:no_entry: *Rejected*${by}${why}`;
    }
    case 'cancelled':
      return `:heavy_multiplication_x: *Cancelled* by ${userMention(request.cancelledBy ?? request.requester)}.`;
    case 'expired':
      return `:hourglass: *Expired* ${slackDate(request.expiresAt)} with ${request.approvals.length}/${request.approvalsRequired} approvals.`;
    default:
      return stateText(request.state);
  }
}

/** Notification text: no pings, no links, just what it is. */
function cardFallback(request: ApprovalRequest): string {
  const op = request.operation;
  const state = isFinal(request.state) ? request.state : `${request.state}, ${request.approvals.length}/${request.approvalsRequired} approvals`;
  return truncate(`${request.id}: ${escapeBounded(operationPlain(op), 300)} (${state})`, LIMITS.fallbackText);
}

/** How long a pending request has left, for lists: "expires in 45 minutes". */
export function expiryText(request: ApprovalRequest, now: number): string {
  if (request.state !== 'pending') return '';
  if (!expiresAfterTtl(request)) return `never expires: ${ORPHAN_NEVER_EXPIRES}`;
  return request.expiresAt <= now ? 'expiry due' : `expires ${relativeAge(request.expiresAt, now)}`;
}
