import type { BlockButtonAction, SlashCommand, ViewStateValue, ViewSubmitAction } from '@slack/bolt';

// Builders for the exact form bodies Slack POSTs to /slack/events (contract slack.md §3). Each returns the
// body string; sign and send that same string (postToBolt in ./slack-signer).

let triggerSeq = 0;
function nextTriggerId(): string {
  triggerSeq += 1;
  return `${triggerSeq}.111.trigger${triggerSeq}`;
}

/** `payload=<JSON>`: how Slack form-encodes every interaction payload (§3.2, §3.3). */
export function interactionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface SlashCommandOptions {
  /** Everything after `/ivs`, as the person typed it. */
  text: string;
  responseUrl: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  teamId?: string;
  teamDomain?: string;
  triggerId?: string;
  command?: string;
  apiAppId?: string;
  enterpriseId?: string;
}

export function slashCommandFields(o: SlashCommandOptions): SlashCommand {
  const userId = o.userId ?? 'U111';
  const fields: SlashCommand = {
    token: 'legacy-verification-token',
    team_id: o.teamId ?? 'T111',
    team_domain: o.teamDomain ?? 'acme',
    channel_id: o.channelId ?? 'C111',
    channel_name: o.channelName ?? 'ops',
    user_id: userId,
    user_name: o.userName ?? userId.toLowerCase(),
    command: o.command ?? '/ivs',
    text: o.text,
    api_app_id: o.apiAppId ?? 'A111',
    is_enterprise_install: 'false',
    response_url: o.responseUrl,
    trigger_id: o.triggerId ?? nextTriggerId(),
  };
  if (o.enterpriseId !== undefined) fields.enterprise_id = o.enterpriseId;
  return fields;
}

/** A slash command: flat form fields, in the order Slack sends them (§3.1). */
export function slashCommand(o: SlashCommandOptions): string {
  const fields = slashCommandFields(o);
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (typeof v === 'string') params.append(k, v);
  return params.toString();
}

export interface BlockActionOptions {
  actionId: string;
  /** The button value: for ivs-bot only ever a request id. */
  value: string;
  /** Who clicked. */
  userId: string;
  /** Ts of the message carrying the button (the request card). */
  messageTs: string;
  responseUrl: string;
  /** The workspace the click came through (`team.id`); default T111. */
  teamId?: string;
  /** The clicker's home team (`user.team_id`); default `teamId`. Differs for a guest from another workspace. */
  userTeamId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  blockId?: string;
  triggerId?: string;
  /** The card as the clicker saw it; the bot must not trust it, so tests may put anything here. */
  messageText?: string;
  messageBlocks?: unknown[];
  /** A click on an ephemeral message: Slack then omits `message` (§3.2). */
  ephemeral?: boolean;
  botUserId?: string;
  apiAppId?: string;
}

export function blockActionPayload(o: BlockActionOptions): BlockButtonAction {
  const teamId = o.teamId ?? 'T111';
  const channelId = o.channelId ?? 'C111';
  const userName = o.userName ?? o.userId.toLowerCase();
  const ephemeral = o.ephemeral ?? false;
  const payload: BlockButtonAction = {
    type: 'block_actions',
    user: { id: o.userId, username: userName, name: userName, team_id: o.userTeamId ?? teamId },
    api_app_id: o.apiAppId ?? 'A111',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.messageTs, channel_id: channelId, is_ephemeral: ephemeral },
    trigger_id: o.triggerId ?? nextTriggerId(),
    team: { id: teamId, domain: 'acme' },
    is_enterprise_install: false,
    channel: { id: channelId, name: o.channelName ?? 'ops' },
    state: { values: {} },
    response_url: o.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: o.actionId,
        block_id: o.blockId ?? 'ivs_decision',
        value: o.value,
        text: { type: 'plain_text', text: o.actionId, emoji: true },
        action_ts: `${Math.floor(Date.now() / 1000)}.000200`,
      },
    ],
  };
  if (!ephemeral) {
    payload.message = {
      type: 'message',
      user: o.botUserId ?? 'UBOT',
      bot_id: 'BBOT',
      ts: o.messageTs,
      text: o.messageText ?? '',
      blocks: o.messageBlocks ?? [],
    };
  }
  return payload;
}

/** A button click (`block_actions`), as `payload=<JSON>` (§3.2). */
export function blockAction(o: BlockActionOptions): string {
  return interactionBody(blockActionPayload(o));
}

/** `state.values[block_id][action_id]` of a submitted modal. */
export type ViewStateValues = Record<string, Record<string, ViewStateValue>>;

/** The state value of a `plain_text_input`. */
export function plainTextValue(value: string | null): ViewStateValue {
  return { type: 'plain_text_input', value };
}

/** The state value of a `checkboxes` element with these option values ticked. */
export function checkboxesValue(values: readonly string[]): ViewStateValue {
  return { type: 'checkboxes', selected_options: values.map((v) => ({ text: { type: 'plain_text', text: v }, value: v })) };
}

/** The state value of a `static_select` element. */
export function staticSelectValue(value: string | null): ViewStateValue {
  return {
    type: 'static_select',
    selected_option: value === null ? null : { text: { type: 'plain_text', text: value }, value },
  };
}

export interface ViewSubmissionOptions {
  callbackId: string;
  userId: string;
  values: ViewStateValues;
  teamId?: string;
  userTeamId?: string;
  userName?: string;
  privateMetadata?: string;
  viewId?: string;
  triggerId?: string;
  apiAppId?: string;
}

export function viewSubmissionPayload(o: ViewSubmissionOptions): ViewSubmitAction {
  const teamId = o.teamId ?? 'T111';
  const userName = o.userName ?? o.userId.toLowerCase();
  const viewId = o.viewId ?? 'V0000000001';
  // Slack sends `username` too, which Bolt's type leaves out.
  const user = { id: o.userId, username: userName, name: userName, team_id: o.userTeamId ?? teamId };
  return {
    type: 'view_submission',
    team: { id: teamId, domain: 'acme' },
    user,
    api_app_id: o.apiAppId ?? 'A111',
    token: 'legacy-verification-token',
    trigger_id: o.triggerId ?? nextTriggerId(),
    is_enterprise_install: false,
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      callback_id: o.callbackId,
      private_metadata: o.privateMetadata ?? '',
      blocks: [],
      state: { values: o.values },
      hash: '1700000000.abcdefgh',
      title: { type: 'plain_text', text: 'ivs', emoji: true },
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      root_view_id: viewId,
      previous_view_id: null,
      app_id: o.apiAppId ?? 'A111',
      app_installed_team_id: teamId,
      bot_id: 'BBOT',
    },
  };
}

/** A modal submission (`view_submission`), as `payload=<JSON>` (§3.3). */
export function viewSubmission(o: ViewSubmissionOptions): string {
  return interactionBody(viewSubmissionPayload(o));
}
