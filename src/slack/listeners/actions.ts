import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Actor } from '../../core/use-cases';
import type { RequestId } from '../../core/types';
import { isSecretId } from '../command-parser';
import { parseRotateDueValue, ROTATE_DUE_ACTION_ID } from '../views/rotation-reminder';
import { rejectReasonModal } from '../views/modals';
import { abandonReply, approveReply, finishReply, openReply, type Reply, withdrawReply } from '../views/replies';
import {
  ABANDON_ACTION_ID,
  APPROVE_ACTION_ID,
  DECISION_BLOCK_ID,
  FINISH_ACTION_ID,
  readDecisionValue,
  REJECT_ACTION_ID,
  WITHDRAW_ACTION_ID,
} from '../views/request-card';
import { afterAck, isAllowedChannel, notHereText, workspaceLabel, type ListenerDeps } from './context';

type ButtonArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

/**
 * Each card button, and the use case it calls. The card is never read: only the request id and the
 * fingerprint of the step the clicked card showed, both in `value`.
 */
const DECISIONS: Record<string, (deps: ListenerDeps, actor: Actor, id: RequestId, step: string) => Promise<Reply>> = {
  [APPROVE_ACTION_ID]: async (deps, actor, id, step) => approveReply(await deps.requests.approve(actor, id, step)),
  [WITHDRAW_ACTION_ID]: async (deps, actor, id, step) => withdrawReply(await deps.requests.withdraw(actor, id, step)),
  [FINISH_ACTION_ID]: async (deps, actor, id, step) => finishReply(await deps.requests.finishRotation(actor, id, step)),
  [ABANDON_ACTION_ID]: async (deps, actor, id, step) => abandonReply(await deps.requests.abandon(actor, id, step)),
};

/** A card rendered before buttons named their step: its click cannot say what the person saw. */
export const OLD_CARD_TEXT =
  'That button is from an older version of the card and does not say which step you saw, so nothing was done. Read the card again (`/ivs status` shows it) and click there.';

/** One listener for the card's buttons: Bolt tries every listener on every event, so fewer is faster. */
export function registerActions(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>({ block_id: DECISION_BLOCK_ID }, (args) =>
    args.action.action_id === REJECT_ACTION_ID ? handleReject(args, deps) : handleDecision(args, deps),
  );
  app.action<BlockAction<ButtonAction>>({ action_id: ROTATE_DUE_ACTION_ID }, (args) => handleRotateDue(args, deps));
}

/**
 * A reminder's **Rotate** button (SPEC §10): exactly what `/ivs rotate <id>` opens, in the clicker's
 * name, with every requester rule and the one-rotation-per-secret rule. The button carries only the
 * secret id; the secret is looked up at Intercom as for the command.
 */
async function handleRotateDue({ ack, action, body, respond }: ButtonArgs, deps: ListenerDeps): Promise<void> {
  await ack();
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const count = (outcome: string) => deps.metrics.clicks.inc({ action: action.action_id, outcome });
  const channel = clickedChannel(body);
  if (!channel || !isAllowedChannel(deps, channel)) {
    count('refused_channel');
    await tell(notHereText(deps));
    return;
  }
  const { workspace: named, secretId } = parseRotateDueValue(action.value ?? '');
  if (!isSecretId(secretId)) {
    count('invalid');
    await tell('That button does not name a secret.');
    return;
  }
  // The workspace the reminder was about, and only where this channel serves it.
  const served = deps.workspaces.in(channel);
  const workspace = named === undefined ? (served.length === 1 ? served[0] : undefined) : served.find((w) => w.name === named);
  if (!workspace) {
    count('refused_channel');
    await tell('That reminder is about a workspace this channel does not serve; use `/ivs <workspace> rotate <id>`.');
    return;
  }
  await afterAck(deps, tell, async () => {
    const result = openReply(await deps.requests.open(clicker(body), channel, workspace.name, { action: 'rotate', secretId, reason: '' }));
    count(result.ok ? 'ok' : 'refused');
    await tell(result.text);
  });
}

/** The clicker as Slack identifies them: their user id and their own team (not the channel's). */
function clicker(body: BlockAction): Actor {
  return { userId: body.user.id, teamId: body.user.team_id ?? body.team?.id ?? '' };
}

function clickedChannel(body: BlockAction): string | undefined {
  return body.container?.channel_id ?? body.channel?.id;
}

async function handleDecision({ ack, action, body, respond }: ButtonArgs, deps: ListenerDeps): Promise<void> {
  await ack();
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const count = (outcome: string, workspace?: string) =>
    deps.metrics.clicks.inc({ action: action.action_id, outcome, workspace: workspaceLabel(deps, workspace) });
  if (!isAllowedChannel(deps, clickedChannel(body))) {
    count('refused_channel');
    await tell(notHereText(deps));
    return;
  }
  const decision = readDecisionValue(action.value ?? '');
  const decide = DECISIONS[action.action_id];
  if (!decision || !decide) {
    count('invalid');
    await tell('That button does not name a request.');
    return;
  }
  const { id, step } = decision;
  if (step === null) {
    count('refused');
    await tell(OLD_CARD_TEXT);
    return;
  }
  await afterAck(deps, tell, async () => {
    const result = await decide(deps, clicker(body), id, step);
    count(result.ok ? 'ok' : 'refused', result.workspace);
    if (!result.ok) await tell(result.text);
  });
}

/** Reject asks for a reason first: the modal's submission does the rejecting. */
async function handleReject({ ack, action, body, respond }: ButtonArgs, deps: ListenerDeps): Promise<void> {
  await ack();
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  if (!isAllowedChannel(deps, clickedChannel(body))) {
    deps.metrics.clicks.inc({ action: action.action_id, outcome: 'refused_channel', workspace: '' });
    await tell(notHereText(deps));
    return;
  }
  const decision = readDecisionValue(action.value ?? '');
  if (!decision) {
    await tell('That button does not name a request.');
    return;
  }
  if (decision.step === null) {
    await tell(OLD_CARD_TEXT);
    return;
  }
  const { id, step } = decision;
  await afterAck(deps, tell, async () => {
    await deps.slack.views.open({ trigger_id: body.trigger_id, view: rejectReasonModal(id, step) });
  });
}
