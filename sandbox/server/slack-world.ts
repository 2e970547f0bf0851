import type { SlackDouble } from '../../emulators/slack-api';
import type { BoltAnswer } from '../../emulators/slack-signer';
import {
  blockAction,
  checkboxesValue,
  plainTextValue,
  slashCommand,
  staticSelectValue,
  viewSubmission,
  type ViewStateValues,
} from '../../emulators/slack-payloads';
import type { ViewStateValue } from '@slack/bolt';
import { BOT_NAME, BOT_USER_ID, TEAM_ID, personById, type Channel, type Person } from './people';

/**
 * What people see of Slack in the sandbox, built from what the bot sent the Slack double (messages,
 * edits, ephemerals, response_url posts, views) and what people did (commands, clicks, submissions).
 * It plays Slack's part towards the bot too: every command, click and submission goes to a live
 * replica signed as Slack signs, and the ack is shown as Slack would show it.
 */

/** A message as the control API answers it (SANDBOX-API.md "Message"). */
export interface ApiMessage {
  ts: string;
  user: string;
  userName: string;
  isBot: boolean;
  text?: string;
  blocks?: unknown[];
  ephemeral: boolean;
  edited: boolean;
  replyCount: number;
  lastReplyTs?: string;
  threadTs?: string;
  isCommand?: boolean;
  /** Sandbox clock, ms since the epoch, when it appeared. */
  at: number;
}

export interface OpenView {
  id: string;
  view: Record<string, unknown>;
  errors?: Record<string, string>;
}

/** One entry of a channel's timeline; bot messages are read live from the double (edits show). */
type Item =
  | { kind: 'bot'; order: number; channel: string; ts: string; at: number }
  | {
      kind: 'local';
      order: number;
      channel: string;
      ts: string;
      threadTs?: string;
      at: number;
      /** userId the item is visible to; undefined: everybody. */
      visibleTo?: string;
      user: string;
      text?: string;
      blocks?: unknown[];
      isCommand?: boolean;
      edited?: boolean;
    };

interface Interaction {
  userId: string;
  channel: string;
  threadTs?: string;
  /** The ts of the message clicked, when it was a sandbox-local one (a response): replace_original targets it. */
  localTs?: string;
}

export type Deliver = (body: string) => Promise<BoltAnswer>;

export class RefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Button {
  text: string;
  actionId: string;
  blockId: string;
  value: string;
  confirm?: Record<string, unknown>;
}

export class SlackWorld {
  private readonly items: Item[] = [];
  private order = 0;
  private localTs = 900000;
  private seenCalls = 0;
  private seenResponses = 0;
  private interactionSeq = 0;
  private readonly interactions = new Map<string, Interaction>();
  private readonly triggers = new Map<string, string>();
  private readonly stacks = new Map<string, OpenView[]>();

  constructor(
    private readonly slack: SlackDouble,
    private readonly channels: readonly Channel[],
    private readonly now: () => number,
    /** Called on every change that is the sandbox's own (an ack shown, a command echoed, a view closed). */
    private readonly changed: () => void = () => undefined,
  ) {}

  /** Takes in whatever the double recorded since the last look. Cheap; called before every read. */
  sync(): void {
    const calls = this.slack.calls;
    for (; this.seenCalls < calls.length; this.seenCalls++) {
      const call = calls[this.seenCalls];
      if (!call || !call.ok) continue;
      const args = call.args;
      const response = (call.response ?? {}) as Record<string, unknown>;
      if (call.method === 'chat.postMessage') {
        this.items.push({ kind: 'bot', order: ++this.order, channel: String(response['channel']), ts: String(response['ts']), at: this.now() });
      } else if (call.method === 'chat.postEphemeral') {
        this.pushLocal({
          channel: String(args['channel']),
          ts: String(response['message_ts']),
          ...(typeof args['thread_ts'] === 'string' && args['thread_ts'] ? { threadTs: args['thread_ts'] } : {}),
          visibleTo: String(args['user']),
          user: BOT_USER_ID,
          ...textAndBlocks(args),
        });
      } else if (call.method === 'views.open' || call.method === 'views.push') {
        const user = this.triggers.get(String(args['trigger_id']));
        const view = response['view'] as Record<string, unknown> | undefined;
        if (user && view) {
          const stack = call.method === 'views.open' ? [] : (this.stacks.get(user) ?? []);
          this.stacks.set(user, [...stack, { id: String(view['id']), view: viewOf(args['view']) }]);
        }
      } else if (call.method === 'views.update') {
        for (const stack of this.stacks.values()) {
          const open = stack.find((v) => v.id === args['view_id']);
          if (open) {
            open.view = viewOf(args['view']);
            delete open.errors;
          }
        }
      }
    }
    const responses = this.slack.responses;
    for (; this.seenResponses < responses.length; this.seenResponses++) {
      const post = responses[this.seenResponses];
      if (!post || post.status !== 200) continue;
      const interaction = this.interactions.get(post.id);
      if (interaction && typeof post.body === 'object' && post.body !== null) this.respond(interaction, post.body as Record<string, unknown>);
    }
  }

  /** A response_url post or an ack body: ephemeral to its person unless `in_channel`. */
  private respond(interaction: Interaction, body: Record<string, unknown>): void {
    const inChannel = body['response_type'] === 'in_channel';
    if (body['delete_original'] === true && interaction.localTs) {
      const i = this.items.findIndex((it) => it.kind === 'local' && it.ts === interaction.localTs);
      if (i >= 0) this.items.splice(i, 1);
      return;
    }
    if (body['replace_original'] === true && interaction.localTs) {
      const target = this.items.find((it) => it.kind === 'local' && it.ts === interaction.localTs);
      if (target && target.kind === 'local') {
        Object.assign(target, textAndBlocks(body), { edited: true });
        return;
      }
    }
    this.pushLocal({
      channel: interaction.channel,
      ts: this.nextTs(),
      ...(interaction.threadTs ? { threadTs: interaction.threadTs } : {}),
      ...(inChannel ? {} : { visibleTo: interaction.userId }),
      user: BOT_USER_ID,
      ...textAndBlocks(body),
    });
  }

  private pushLocal(item: Omit<Extract<Item, { kind: 'local' }>, 'kind' | 'order' | 'at'>): void {
    this.items.push({ kind: 'local', order: ++this.order, at: this.now(), ...item });
    this.changed();
  }

  private nextTs(): string {
    return `1700000000.${++this.localTs}`;
  }

  private newInteraction(i: Interaction): string {
    const id = `sbx${++this.interactionSeq}`;
    this.interactions.set(id, i);
    return id;
  }

  private newTrigger(userId: string): string {
    const id = `${++this.interactionSeq}.${TEAM_ID}.trigger`;
    this.triggers.set(id, userId);
    return id;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  private visible(item: Item, viewer: Person): boolean {
    return item.kind === 'bot' || item.visibleTo === undefined || item.visibleTo === viewer.userId;
  }

  private render(item: Item, viewer: Person): ApiMessage | undefined {
    if (item.kind === 'bot') {
      const m = this.slack.message(item.channel, item.ts);
      if (!m) return undefined;
      const replies = this.threadItems(item.channel, item.ts, viewer);
      const last = replies[replies.length - 1];
      return {
        ts: m.ts,
        user: BOT_USER_ID,
        userName: BOT_NAME,
        isBot: true,
        ...(m.text !== undefined ? { text: m.text } : {}),
        ...(Array.isArray(m.blocks) ? { blocks: m.blocks as unknown[] } : {}),
        ephemeral: false,
        edited: m.history.length > 0,
        replyCount: replies.length,
        ...(last ? { lastReplyTs: last.ts } : {}),
        ...(m.threadTs ? { threadTs: m.threadTs } : {}),
        at: item.at,
      };
    }
    const person = personById(item.user);
    return {
      ts: item.ts,
      user: item.user,
      userName: item.user === BOT_USER_ID ? BOT_NAME : (person?.name ?? item.user),
      isBot: item.user === BOT_USER_ID,
      ...(item.text !== undefined ? { text: item.text } : {}),
      ...(item.blocks !== undefined ? { blocks: item.blocks } : {}),
      ephemeral: item.visibleTo !== undefined,
      edited: item.edited ?? false,
      replyCount: 0,
      ...(item.threadTs ? { threadTs: item.threadTs } : {}),
      ...(item.isCommand ? { isCommand: true } : {}),
      at: item.at,
    };
  }

  private threadOf(item: Item): string | undefined {
    if (item.kind === 'local') return item.threadTs;
    return this.slack.message(item.channel, item.ts)?.threadTs;
  }

  private threadItems(channel: string, ts: string, viewer: Person): Item[] {
    return this.items.filter((it) => it.channel === channel && this.threadOf(it) === ts && this.visible(it, viewer));
  }

  messages(channel: Channel, viewer: Person): ApiMessage[] {
    this.sync();
    return this.items
      .filter((it) => it.channel === channel.id && this.threadOf(it) === undefined && this.visible(it, viewer))
      .flatMap((it) => this.render(it, viewer) ?? []);
  }

  thread(channel: Channel, ts: string, viewer: Person): { parent: ApiMessage; replies: ApiMessage[] } | undefined {
    this.sync();
    const parentItem = this.items.find((it) => it.channel === channel.id && it.ts === ts && this.visible(it, viewer));
    const parent = parentItem && this.render(parentItem, viewer);
    if (!parent) return undefined;
    return { parent, replies: this.threadItems(channel.id, ts, viewer).flatMap((it) => this.render(it, viewer) ?? []) };
  }

  openView(viewer: Person): (OpenView['view'] & { id: string; errors?: Record<string, string> }) | null {
    this.sync();
    const top = this.stacks.get(viewer.userId)?.at(-1);
    return top ? { ...top.view, id: top.id, ...(top.errors ? { errors: top.errors } : {}) } : null;
  }

  // ---------------------------------------------------------------------------------------------
  // Acting

  async command(person: Person, channel: Channel, typed: string, deliver: Deliver): Promise<{ ok: true; ack: unknown }> {
    this.sync();
    const text = typed.trim().replace(/^\/ivs(\s+|$)/, '');
    this.pushLocal({ channel: channel.id, ts: this.nextTs(), visibleTo: person.userId, user: person.userId, text: `/ivs ${text}`.trim(), isCommand: true });
    const responseId = this.newInteraction({ userId: person.userId, channel: channel.id });
    const body = slashCommand({
      text,
      responseUrl: this.slack.responseUrl(responseId),
      userId: person.userId,
      userName: person.name,
      channelId: channel.id,
      channelName: channel.name,
      teamId: TEAM_ID,
      teamDomain: 'sandbox',
      triggerId: this.newTrigger(person.userId),
    });
    const answer = await deliver(body);
    const ack = ackBody(answer);
    if (ack && typeof ack === 'object') this.respond({ userId: person.userId, channel: channel.id }, ack as Record<string, unknown>);
    return { ok: true, ack };
  }

  async click(person: Person, channel: Channel, ts: string, buttonText: string, confirmed: boolean, deliver: Deliver): Promise<{ ok: true; ack: unknown }> {
    this.sync();
    const item = this.items.find((it) => it.channel === channel.id && it.ts === ts && this.visible(it, person));
    const message = item && this.render(item, person);
    if (!item || !message) throw new RefusedError(404, `No message ${ts} in #${channel.name} that ${person.name} can see.`);
    const buttons = buttonsOf(message.blocks ?? []);
    const wanted = buttonText.trim().toLowerCase();
    const button = buttons.find((b) => b.text.trim().toLowerCase() === wanted);
    if (!button) {
      throw new RefusedError(
        404,
        buttons.length === 0
          ? `Message ${ts} has no buttons.`
          : `Message ${ts} has no button "${buttonText}"; its buttons are: ${buttons.map((b) => `"${b.text}"`).join(', ')}.`,
      );
    }
    if (button.confirm && !confirmed) {
      throw new RefusedError(409, `"${button.text}" asks for confirmation first: call again with "confirm": true.`, { confirm: confirmOf(button.confirm) });
    }
    const threadTs = this.threadOf(item);
    const responseId = this.newInteraction({
      userId: person.userId,
      channel: channel.id,
      ...(threadTs ? { threadTs } : {}),
      ...(item.kind === 'local' ? { localTs: item.ts } : {}),
    });
    const body = blockAction({
      actionId: button.actionId,
      value: button.value,
      userId: person.userId,
      userName: person.name,
      messageTs: ts,
      responseUrl: this.slack.responseUrl(responseId),
      teamId: TEAM_ID,
      channelId: channel.id,
      channelName: channel.name,
      blockId: button.blockId,
      triggerId: this.newTrigger(person.userId),
      ephemeral: message.ephemeral,
      messageText: message.text ?? '',
      messageBlocks: message.blocks ?? [],
      botUserId: BOT_USER_ID,
    });
    const answer = await deliver(body);
    return { ok: true, ack: ackBody(answer) };
  }

  async submit(person: Person, values: unknown, deliver: Deliver): Promise<{ ok: true } | { ok: false; errors: Record<string, string> }> {
    this.sync();
    const stack = this.stacks.get(person.userId) ?? [];
    const top = stack.at(-1);
    if (!top) throw new RefusedError(409, `${person.name} has no modal open.`);
    const state = stateValues(top.view, values);
    const body = viewSubmission({
      callbackId: String(top.view['callback_id'] ?? ''),
      userId: person.userId,
      userName: person.name,
      values: state,
      teamId: TEAM_ID,
      privateMetadata: String(top.view['private_metadata'] ?? ''),
      viewId: top.id,
      triggerId: this.newTrigger(person.userId),
    });
    const answer = await deliver(body);
    if (answer.status !== 200) throw new RefusedError(502, `The bot answered the submission with HTTP ${answer.status}.`);
    const ack = ackBody(answer) as Record<string, unknown> | null;
    const action = ack?.['response_action'];
    this.changed();
    if (action === 'errors') {
      const errors = (ack?.['errors'] ?? {}) as Record<string, string>;
      top.errors = errors;
      return { ok: false, errors };
    }
    if (action === 'update' && ack?.['view']) {
      top.view = viewOf(ack['view']);
      delete top.errors;
    } else if (action === 'push' && ack?.['view']) {
      stack.push({ id: `VSBX${++this.interactionSeq}`, view: viewOf(ack['view']) });
    } else if (action === 'clear') {
      this.stacks.set(person.userId, []);
    } else {
      stack.pop();
    }
    return { ok: true };
  }

  close(person: Person): { ok: true } {
    this.sync();
    this.stacks.get(person.userId)?.pop();
    this.changed();
    return { ok: true };
  }
}

function textAndBlocks(o: Record<string, unknown>): { text?: string; blocks?: unknown[] } {
  return {
    ...(typeof o['text'] === 'string' ? { text: o['text'] } : {}),
    ...(Array.isArray(o['blocks']) ? { blocks: o['blocks'] as unknown[] } : {}),
  };
}

function viewOf(v: unknown): Record<string, unknown> {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return typeof v === 'object' && v !== null ? { ...(v as Record<string, unknown>) } : {};
}

/** Bolt's ack: an empty body, or JSON. */
function ackBody(answer: BoltAnswer): unknown {
  if (answer.status !== 200) throw new RefusedError(502, `The bot answered HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
  if (answer.text.trim() === '') return null;
  try {
    return answer.json();
  } catch {
    return answer.text;
  }
}

function plain(t: unknown): string {
  return typeof t === 'object' && t !== null && typeof (t as { text?: unknown }).text === 'string' ? (t as { text: string }).text : '';
}

function buttonsOf(blocks: readonly unknown[]): Button[] {
  const out: Button[] = [];
  const take = (el: unknown, blockId: string) => {
    if (typeof el !== 'object' || el === null) return;
    const e = el as Record<string, unknown>;
    if (e['type'] !== 'button') return;
    out.push({
      text: plain(e['text']),
      actionId: String(e['action_id'] ?? ''),
      blockId,
      value: String(e['value'] ?? ''),
      ...(typeof e['confirm'] === 'object' && e['confirm'] !== null ? { confirm: e['confirm'] as Record<string, unknown> } : {}),
    });
  };
  for (const b of blocks) {
    if (typeof b !== 'object' || b === null) continue;
    const block = b as Record<string, unknown>;
    const blockId = String(block['block_id'] ?? '');
    if (Array.isArray(block['elements'])) for (const el of block['elements']) take(el, blockId);
    if (block['accessory']) take(block['accessory'], blockId);
  }
  return out;
}

function confirmOf(c: Record<string, unknown>): { title: string; text: string; confirm: string; deny: string } {
  return { title: plain(c['title']), text: plain(c['text']), confirm: plain(c['confirm']) || 'Confirm', deny: plain(c['deny']) || 'Cancel' };
}

/** The page's `{block_id: {action_id: value}}` as Slack's `state.values`, typed by the view's own elements. */
function stateValues(view: Record<string, unknown>, values: unknown): ViewStateValues {
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw new RefusedError(400, '"values" must be an object {block_id: {action_id: value}}.');
  const blocks = Array.isArray(view['blocks']) ? (view['blocks'] as Array<Record<string, unknown>>) : [];
  const typeOf = (blockId: string, actionId: string): string | undefined => {
    const block = blocks.find((b) => b['block_id'] === blockId);
    const el = block?.['element'] as Record<string, unknown> | undefined;
    if (el && (el['action_id'] === actionId || el['action_id'] === undefined)) return String(el['type']);
    const els = Array.isArray(block?.['elements']) ? (block['elements'] as Array<Record<string, unknown>>) : [];
    const found = els.find((e) => e['action_id'] === actionId);
    return found ? String(found['type']) : undefined;
  };
  const out: ViewStateValues = {};
  // Slack sends every input of the view, empty ones included.
  for (const b of blocks) {
    const el = b['element'] as Record<string, unknown> | undefined;
    if (b['type'] !== 'input' || !el) continue;
    const blockId = String(b['block_id'] ?? '');
    const actionId = String(el['action_id'] ?? '');
    out[blockId] = { ...out[blockId], [actionId]: emptyValue(String(el['type'])) };
  }
  for (const [blockId, actions] of Object.entries(values as Record<string, unknown>)) {
    if (typeof actions !== 'object' || actions === null) throw new RefusedError(400, `"values.${blockId}" must be an object {action_id: value}.`);
    for (const [actionId, value] of Object.entries(actions as Record<string, unknown>)) {
      const type = typeOf(blockId, actionId);
      if (!type) throw new RefusedError(400, `The open modal has no input ${blockId}/${actionId}.`);
      out[blockId] = { ...out[blockId], [actionId]: stateValue(type, value, `${blockId}/${actionId}`) };
    }
  }
  return out;
}

function emptyValue(type: string): ViewStateValue {
  if (type === 'checkboxes') return checkboxesValue([]);
  if (type === 'static_select') return staticSelectValue(null);
  if (type === 'radio_buttons') return { type: 'radio_buttons', selected_option: null };
  return plainTextValue(null);
}

function stateValue(type: string, value: unknown, where: string): ViewStateValue {
  if (type === 'checkboxes') {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      throw new RefusedError(400, `${where} is checkboxes: give a list of option values.`);
    return checkboxesValue(value as string[]);
  }
  if (typeof value !== 'string' && value !== null) throw new RefusedError(400, `${where} takes a string.`);
  if (type === 'static_select') return staticSelectValue(value);
  if (type === 'radio_buttons') {
    return { type: 'radio_buttons', selected_option: value === null ? null : { text: { type: 'plain_text', text: value }, value } } as ViewStateValue;
  }
  return plainTextValue(value);
}
