import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Actor } from '../../core/requests';
import { parseRequestId } from '../command-parser';
import { CREATE_MODAL_CALLBACK_ID, readCreateModal, readRejectModal, REJECT_MODAL_CALLBACK_ID } from '../views/modals';
import { afterAck, isAllowedChannel, type ListenerDeps } from './context';

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

async function handleRejectSubmit({ ack, view, body, client }: SubmitArgs, deps: ListenerDeps): Promise<void> {
  const input = readRejectModal(view.state.values);
  if (!input.ok) {
    await ack({ response_action: 'errors', errors: input.errors });
    return;
  }
  await ack();
  const id = parseRequestId(view.private_metadata ?? '');
  if (!id) return;
  const actor = submitter(body);
  const request = await deps.requests.get(id).catch(() => null);
  const tell = request ? whisper(client, request.channel, actor.userId) : async () => undefined;
  await afterAck(deps, tell, async () => {
    const result = await deps.requests.reject(actor, id, input.value.reason);
    deps.metrics.clicks.inc({ action: 'ivs_reject', outcome: result.ok ? 'ok' : 'refused' });
    if (!result.ok) await tell(result.text);
  });
}

async function handleCreateSubmit({ ack, view, body, client }: SubmitArgs, deps: ListenerDeps): Promise<void> {
  const input = readCreateModal(view.state.values);
  if (!input.ok) {
    await ack({ response_action: 'errors', errors: input.errors });
    return;
  }
  await ack();
  const channel = view.private_metadata ?? '';
  const actor = submitter(body);
  if (!isAllowedChannel(deps, channel)) {
    deps.log.warn({ user: actor.userId }, 'create modal submitted for a channel outside IVS_CHANNELS');
    return;
  }
  const tell = whisper(client, channel, actor.userId);
  await afterAck(deps, tell, async () => {
    const result = await deps.requests.open(actor, channel, { action: 'create', ...input.value });
    deps.metrics.clicks.inc({ action: 'ivs_create_modal', outcome: result.ok ? 'ok' : 'refused' });
    await tell(result.text);
  });
}
