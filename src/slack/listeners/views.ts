import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { ApprovalRequest } from '../../core/request';
import type { Actor } from '../../core/use-cases';
import type { RequestId } from '../../core/types';
import { readDecisionValue } from '../views/request-card';
import { openReply, rejectReply } from '../views/replies';
import {
  CREATE_MODAL_CALLBACK_ID,
  NAME_INPUT,
  readCreateModal,
  readRejectModal,
  REASON_INPUT,
  REJECT_MODAL_CALLBACK_ID,
  WORKSPACE_INPUT,
} from '../views/modals';
import { afterAck, isAllowedChannel, STORE_DOWN_TEXT, workspaceLabel, type ListenerDeps } from './context';

type SubmitArgs = AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>;

export function registerViews(app: App, deps: ListenerDeps): void {
  app.view<ViewSubmitAction>(REJECT_MODAL_CALLBACK_ID, (args) => handleRejectSubmit(args, deps));
  app.view<ViewSubmitAction>(CREATE_MODAL_CALLBACK_ID, (args) => handleCreateSubmit(args, deps));
}

function submitter(body: ViewSubmitAction): Actor {
  return { userId: body.user.id, teamId: body.user.team_id ?? body.team?.id ?? '' };
}

/** A modal has no response_url: answers go to the person as an ephemeral message in the request's channel. */
function whisper(client: WebClient, channel: string, user: string) {
  return (text: string) => client.chat.postEphemeral({ channel, user, text });
}

async function handleRejectSubmit({ ack, view, body }: SubmitArgs, deps: ListenerDeps): Promise<void> {
  const input = readRejectModal(view.state.values);
  if (!input.ok) {
    await ack({ response_action: 'errors', errors: input.errors });
    return;
  }
  // Checked before the modal closes, so a refusal shows in the modal itself: the request must exist
  // and belong to a channel the bot works in (a click from elsewhere is refused the same way).
  const target = await rejectTarget(view.private_metadata ?? '', deps);
  if (!target.ok) {
    deps.metrics.clicks.inc({ action: 'ivs_reject', outcome: 'refused', workspace: '' });
    await ack({ response_action: 'errors', errors: { [REASON_INPUT]: target.refusal } });
    return;
  }
  const { id, step, request } = target;
  await ack();
  const actor = submitter(body);
  const tell = whisper(deps.slack, request.channel, actor.userId);
  await afterAck(deps, tell, async () => {
    const result = rejectReply(await deps.requests.reject(actor, id, input.value.reason, step));
    deps.metrics.clicks.inc({ action: 'ivs_reject', outcome: result.ok ? 'ok' : 'refused', workspace: metricWorkspace(deps, request) });
    if (!result.ok) await tell(result.text);
  });
}

async function handleCreateSubmit({ ack, view, body }: SubmitArgs, deps: ListenerDeps): Promise<void> {
  const input = readCreateModal(view.state.values);
  if (!input.ok) {
    await ack({ response_action: 'errors', errors: input.errors });
    return;
  }
  // `<channel>` or `<channel> <workspace>` (the workspace settled by the command that opened the form).
  const [channel = '', settled] = (view.private_metadata ?? '').split(' ');
  const actor = submitter(body);
  if (!isAllowedChannel(deps, channel)) {
    deps.log.warn({ user: actor.userId }, 'create modal submitted for a channel outside IVS_CHANNELS');
    deps.metrics.clicks.inc({ action: 'ivs_create_modal', outcome: 'refused_channel', workspace: '' });
    await ack({ response_action: 'errors', errors: { [NAME_INPUT]: 'ivs-bot does not work in this channel; open the form from one of its ops channels.' } });
    return;
  }
  const served = deps.workspaces.in(channel).map((w) => w.name);
  const chosen = settled ?? input.value.workspace ?? (served.length === 1 ? served[0] : undefined);
  if (chosen === undefined || !served.includes(chosen)) {
    deps.metrics.clicks.inc({ action: 'ivs_create_modal', outcome: 'refused_workspace' });
    const key = served.length > 1 && settled === undefined ? WORKSPACE_INPUT : NAME_INPUT;
    await ack({ response_action: 'errors', errors: { [key]: `Choose one of the workspaces of this channel: ${served.join(', ')}.` } });
    return;
  }
  await ack();
  const tell = whisper(deps.slack, channel, actor.userId);
  const { workspace: _chosenInForm, ...spec } = input.value;
  await afterAck(deps, tell, async () => {
    const result = openReply(await deps.requests.open(actor, channel, chosen, { action: 'create', ...spec }));
    deps.metrics.clicks.inc({ action: 'ivs_create_modal', outcome: result.ok ? 'ok' : 'refused', workspace: chosen });
    await tell(result.text);
  });
}

/** A label from the closed set of configured names, or '' for a request of a workspace not served. */
function metricWorkspace(deps: ListenerDeps, request: ApprovalRequest): string {
  return workspaceLabel(deps, request.operation.workspace);
}

async function rejectTarget(
  privateMetadata: string,
  deps: ListenerDeps,
): Promise<{ ok: true; id: RequestId; step: string; request: ApprovalRequest } | { ok: false; refusal: string }> {
  const decision = readDecisionValue(privateMetadata);
  if (!decision) return { ok: false, refusal: 'This request does not exist; nothing was rejected.' };
  const { id, step } = decision;
  // A form opened from a card rendered before buttons named their step cannot say what was seen.
  if (step === null)
    return { ok: false, refusal: 'This form came from an older version of the card; nothing was rejected. Read the card again and click Reject there.' };
  let request: ApprovalRequest | null;
  try {
    request = await deps.requests.get(id);
  } catch {
    return { ok: false, refusal: STORE_DOWN_TEXT };
  }
  if (!request) return { ok: false, refusal: 'This request does not exist (any more); nothing was rejected.' };
  if (!isAllowedChannel(deps, request.channel)) return { ok: false, refusal: 'This request is in a channel ivs-bot does not work in; nothing was rejected.' };
  return { ok: true, id, step, request };
}
