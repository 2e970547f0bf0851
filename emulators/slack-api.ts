import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from './http';

// A stateful Slack Web API double on 127.0.0.1 (contract slack.md §6). Give `url` to WebClient / Bolt as
// `slackApiUrl`, and `responseUrl()` to payload builders as the `response_url`. Everything the bot sends is
// recorded for assertions and for leak-canary searches (`everything()`).
//
//   const slack = await startSlackDouble();              // before `new App()`: Bolt calls auth.test at once
//   new App({ token: slack.token, clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } }, … });
//   await postToBolt(bot, SECRET, slashCommand({ text: 'list', responseUrl: slack.responseUrl() }));
//   const card = await slack.waitFor('chat.postMessage');
//   expect(slack.threadReplies('C111', card.response.ts)).…;  expect(slack.everything()).not.toContain(canary);

export interface SlackDoubleOptions {
  /** The only bot token accepted (`Authorization: Bearer …` or a `token` form field). Default `xoxb-test`. */
  token?: string;
  /** The workspace of the bot and of users not registered with `setUser`. Default `T111`. */
  teamId?: string;
  /** Default `UBOT`. */
  botUserId?: string;
  /** Default `BBOT`. */
  botId?: string;
  /** When true, `users.info` answers `user_not_found` for ids not registered with `setUser`. */
  strictUsers?: boolean;
}

/** One Web API call as the double received it. */
export interface SlackCall {
  /** Index in `calls`; `c.seq >= n` selects calls made after `calls.length` was `n`. */
  seq: number;
  method: string;
  /** The form fields, minus `token`; `blocks`, `attachments`, `metadata` and `view` JSON-parsed. */
  args: Record<string, unknown>;
  at: number;
  /** HTTP status answered: 200, 429 when rate limited, the outage status (503), or 0 when no answer was sent (hang, dropped answer). */
  status: number;
  ok: boolean;
  error?: string;
  /** The JSON body answered. */
  response: unknown;
  /** The request body exactly as received. */
  rawBody: string;
}

/** One POST to a `response_url` (what Bolt's `respond()` sends). */
export interface SlackResponsePost {
  seq: number;
  /** The last path segment of `/response/<id>`. */
  id: string;
  /** The JSON body (or the raw text when it was not JSON). */
  body: unknown;
  at: number;
  /** 200, or 404 once the url was used more than 5 times (Slack's limit, §4). */
  status: number;
  rawBody: string;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  /** Set for a thread reply: the parent's ts. */
  threadTs?: string;
  text?: string;
  blocks?: unknown;
  user: string;
  botId: string;
  /** Earlier versions, oldest first, replaced by `chat.update`. */
  history: ReadonlyArray<{ text?: string; blocks?: unknown }>;
  /** Message metadata as posted (`{ event_type, event_payload }`). */
  metadata?: unknown;
}

export interface SlackEphemeral {
  channel: string;
  user: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown;
}

export interface SlackOpenedView {
  id: string;
  triggerId: string;
  view: Record<string, unknown>;
}

export interface SlackUserSpec {
  id: string;
  teamId?: string;
  isBot?: boolean;
  deleted?: boolean;
  name?: string;
  realName?: string;
}

export interface SlackChannelSpec {
  id: string;
  name?: string;
  isPrivate?: boolean;
  /** Default true; false makes `chat.postMessage` answer `not_in_channel`. */
  isMember?: boolean;
  /** `chat.postMessage` answers `is_archived`. */
  isArchived?: boolean;
}

export interface SlackDouble {
  /** The `slackApiUrl` for WebClient / Bolt `clientOptions`; ends in `/api/`. */
  readonly url: string;
  readonly token: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  /** A `response_url` served by this double; a fresh id each call unless one is given. */
  responseUrl(id?: string): string;

  readonly calls: ReadonlyArray<SlackCall>;
  readonly responses: ReadonlyArray<SlackResponsePost>;
  callsTo(method: string): SlackCall[];
  callCount(method: string): number;
  /** The first call (already recorded or yet to come) to `method` that matches; rejects after `timeoutMs` (5000). */
  waitFor(method: string, predicate?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  waitForResponse(predicate?: (post: SlackResponsePost) => boolean, timeoutMs?: number): Promise<SlackResponsePost>;

  message(channel: string, ts: string): SlackMessage | undefined;
  /** The `value` of button `actionId` on the message as it is now: what a client showing it sends on a click. */
  buttonValue(channel: string, ts: string, actionId: string): string | undefined;
  /** Every message the bot posted (replies included), in posting order; optionally in one channel. */
  messages(channel?: string): SlackMessage[];
  threadReplies(channel: string, ts: string): SlackMessage[];
  ephemerals(filter?: { channel?: string; user?: string }): SlackEphemeral[];
  views(): SlackOpenedView[];

  setUser(user: SlackUserSpec): void;
  setGroup(groupId: string, userIds: readonly string[]): void;
  setChannel(channel: SlackChannelSpec): void;

  /** The next call to `method` answers `{ok:false, error}` (HTTP 200). Calls queue up. */
  failNext(method: string, error: string): void;
  /** The next call to `method` answers 429 with `Retry-After: <seconds>`. */
  rateLimitNext(method: string, retryAfterSeconds: number): void;
  /** While down, every Web API call and response_url post answers HTTP 503 and changes nothing (an outage). */
  setDown(down: boolean): void;

  /**
   * Slack down: every Web API call (to `methods`, default all but `auth.test`) answers `status`
   * (default 503) with a plain-text body, until `outage(null)`. response_url posts are not affected.
   * With `retryAfterSeconds` the answers carry `Retry-After` (a 429 window, as Slack's rate limits send it).
   */
  outage(fault: { status?: number; methods?: readonly string[]; retryAfterSeconds?: number } | null): void;
  /**
   * Calls to `methods` get no answer at all (the connection stays open) until `hang(null)`, which
   * drops the held connections. With `apply: true` each call takes effect first (a post is posted)
   * and only its answer is lost.
   */
  hang(fault: { methods: readonly string[]; apply?: boolean } | null): void;
  /** The next call to `method` takes effect, then its connection is dropped before any answer. Calls queue up. */
  dropAnswerNext(method: string): void;
  /**
   * Slack's chat.postMessage limit: at most `burst` at once per channel, refilled at `perSecond`;
   * beyond it, 429 with `Retry-After` (whole seconds, at least 1). `null` turns it off (the default).
   */
  channelRateLimit(limit: { perSecond: number; burst: number } | null): void;
  /** How many calls are being held by `hang` right now. */
  readonly held: number;

  /** Every request body received and every body answered, for searching for leaked material. */
  everything(): string;
  /** Forgets calls, messages, users, groups, channels and pending faults; keeps the server and options. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_WAIT_MS = 5000;
const RESPONSE_URL_MAX_USES = 5;
const MAX_TEXT_LENGTH = 40_000;
const JSON_FIELDS = ['blocks', 'attachments', 'metadata', 'view'] as const;

type StoredMessage = SlackMessage & { history: Array<{ text?: string; blocks?: unknown }> };
type Answer = { ok: true; [key: string]: unknown } | { ok: false; error: string };
type MethodHandler = (args: Record<string, unknown>) => Answer;

/** Recorded items plus event-based waiters: a waiter is satisfied by a past or a future item. */
class Recording<T> {
  readonly items: T[] = [];
  private waiters: Array<{ match: (item: T) => boolean; settle: (item: T) => void }> = [];

  add(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) if (w.match(item)) w.settle(item);
  }

  clear(): void {
    this.items.length = 0;
  }

  waitFor(match: (item: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match,
        settle: (item: T) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(describe()));
      }, timeoutMs);
      timer.unref();
      this.waiters.push(waiter);
    });
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Form fields (what WebClient sends) or a JSON object (what Slack also accepts). */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? { ...(parsed as Record<string, unknown>) } : {};
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export async function startSlackDouble(opts: SlackDoubleOptions = {}): Promise<SlackDouble> {
  const token = opts.token ?? 'xoxb-test';
  const teamId = opts.teamId ?? 'T111';
  const botUserId = opts.botUserId ?? 'UBOT';
  const botId = opts.botId ?? 'BBOT';
  const strictUsers = opts.strictUsers ?? false;

  const calls = new Recording<SlackCall>();
  const responses = new Recording<SlackResponsePost>();
  const messages = new Map<string, StoredMessage>();
  const messageOrder: string[] = [];
  let ephemerals: SlackEphemeral[] = [];
  let views: SlackOpenedView[] = [];
  const users = new Map<string, SlackUserSpec>();
  const groups = new Map<string, readonly string[]>();
  const channels = new Map<string, SlackChannelSpec>();
  const failures = new Map<string, string[]>();
  const rateLimits = new Map<string, number[]>();
  const responseUrlUses = new Map<string, number>();
  let tsSeq = 100;
  let viewSeq = 0;
  let responseUrlSeq = 0;
  let down = false;

  const key = (channel: string, ts: string) => `${channel}/${ts}`;
  const nextTs = () => `1700000000.${String(++tsSeq).padStart(6, '0')}`;
  const channelOf = (id: string): Required<SlackChannelSpec> => ({
    name: id.toLowerCase(),
    isPrivate: id.startsWith('G'),
    isMember: true,
    isArchived: false,
    ...channels.get(id),
    id,
  });
  const publicMessage = (m: SlackMessage, withMetadata = false) => ({
    ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
    type: 'message',
    text: m.text ?? '',
    ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
    user: m.user,
    bot_id: m.botId,
    team: teamId,
    ts: m.ts,
    ...(m.threadTs !== undefined ? { thread_ts: m.threadTs } : {}),
  });
  const userOf = (id: string): SlackUserSpec | undefined => {
    const set = users.get(id);
    if (set !== undefined) return set;
    if (id === botUserId) return { id, isBot: true, name: 'ivs-bot' };
    return strictUsers ? undefined : { id };
  };

  /** Checks shared by every message-posting method; returns an error code or undefined. */
  const postingError = (args: Record<string, unknown>): string | undefined => {
    const channel = str(args.channel);
    if (channel === undefined) return 'channel_not_found';
    const ch = channelOf(channel);
    if (ch.isArchived) return 'is_archived';
    if (!ch.isMember) return 'not_in_channel';
    if (str(args.text) === undefined && args.blocks === undefined && args.attachments === undefined) return 'no_text';
    if (typeof args.text === 'string' && args.text.length > MAX_TEXT_LENGTH) return 'msg_too_long';
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return 'invalid_blocks';
    return undefined;
  };

  const handlers: Record<string, MethodHandler> = {
    'auth.test': () => ({
      ok: true,
      url: 'https://acme.slack.com/',
      team: 'Acme',
      user: 'ivs-bot',
      team_id: teamId,
      user_id: botUserId,
      bot_id: botId,
      is_enterprise_install: false,
    }),

    'chat.postMessage': (args) => {
      const error = postingError(args);
      if (error !== undefined) return { ok: false, error };
      const channel = str(args.channel) as string;
      const m: StoredMessage = {
        channel,
        ts: nextTs(),
        ...(str(args.thread_ts) !== undefined ? { threadTs: str(args.thread_ts) } : {}),
        ...(typeof args.text === 'string' ? { text: args.text } : {}),
        ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
        ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
        user: botUserId,
        botId,
        history: [],
      };
      messages.set(key(channel, m.ts), m);
      messageOrder.push(key(channel, m.ts));
      return { ok: true, channel, ts: m.ts, message: publicMessage(m) };
    },

    'chat.update': (args) => {
      const channel = str(args.channel);
      const ts = str(args.ts);
      if (channel === undefined) return { ok: false, error: 'channel_not_found' };
      const m = ts === undefined ? undefined : messages.get(key(channel, ts));
      if (m === undefined) return { ok: false, error: 'message_not_found' };
      if (m.user !== botUserId) return { ok: false, error: 'cant_update_message' };
      if (str(args.text) === undefined && args.blocks === undefined && args.attachments === undefined) {
        return { ok: false, error: 'no_text' };
      }
      if (args.blocks !== undefined && !Array.isArray(args.blocks)) return { ok: false, error: 'invalid_blocks' };
      m.history.push({ text: m.text, blocks: m.blocks });
      if (typeof args.text === 'string') m.text = args.text;
      // Omitting `blocks` keeps the old blocks (§5 "Replying").
      if (args.blocks !== undefined) m.blocks = args.blocks;
      return { ok: true, channel, ts: m.ts, text: m.text ?? '', message: publicMessage(m) };
    },

    'chat.postEphemeral': (args) => {
      const error = postingError(args);
      if (error !== undefined) return { ok: false, error };
      const user = str(args.user);
      if (user === undefined || userOf(user) === undefined) return { ok: false, error: 'user_not_in_channel' };
      const e: SlackEphemeral = {
        channel: str(args.channel) as string,
        user,
        ts: nextTs(),
        ...(str(args.thread_ts) !== undefined ? { threadTs: str(args.thread_ts) } : {}),
        ...(typeof args.text === 'string' ? { text: args.text } : {}),
        ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
      };
      ephemerals.push(e);
      return { ok: true, message_ts: e.ts };
    },

    'users.info': (args) => {
      const id = str(args.user);
      const u = id === undefined ? undefined : userOf(id);
      if (u === undefined) return { ok: false, error: 'user_not_found' };
      const name = u.name ?? u.id.toLowerCase();
      return {
        ok: true,
        user: {
          id: u.id,
          team_id: u.teamId ?? teamId,
          name,
          real_name: u.realName ?? name,
          deleted: u.deleted ?? false,
          is_bot: u.isBot ?? false,
          is_app_user: false,
          profile: { display_name: name, real_name: u.realName ?? name },
        },
      };
    },

    'usergroups.users.list': (args) => {
      const members = groups.get(str(args.usergroup) ?? '');
      if (members === undefined) return { ok: false, error: 'no_such_subteam' };
      return { ok: true, users: [...members] };
    },

    'conversations.info': (args) => {
      const id = str(args.channel);
      if (id === undefined) return { ok: false, error: 'channel_not_found' };
      const ch = channelOf(id);
      return {
        ok: true,
        channel: {
          id,
          name: ch.name,
          is_channel: !ch.isPrivate,
          is_group: ch.isPrivate,
          is_private: ch.isPrivate,
          is_member: ch.isMember,
          is_archived: ch.isArchived,
        },
      };
    },

    // Newest first, as Slack answers; `oldest`/`latest` bound the ts, `limit` the count.
    'conversations.history': (args) => {
      const channel = str(args.channel);
      if (channel === undefined || !channelOf(channel).isMember) return { ok: false, error: channel === undefined ? 'channel_not_found' : 'not_in_channel' };
      const withMetadata = args.include_all_metadata === 'true' || args.include_all_metadata === true;
      const list = inWindow(
        messageOrder.map((k) => messages.get(k)).filter((m): m is StoredMessage => m !== undefined && m.channel === channel && m.threadTs === undefined),
        args,
      ).reverse();
      return { ok: true, messages: list.map((m) => publicMessage(m, withMetadata)), has_more: false };
    },

    // The parent first, then its replies oldest first, as Slack answers.
    'conversations.replies': (args) => {
      const channel = str(args.channel);
      const ts = str(args.ts);
      if (channel === undefined || !channelOf(channel).isMember) return { ok: false, error: channel === undefined ? 'channel_not_found' : 'not_in_channel' };
      const parent = ts === undefined ? undefined : messages.get(key(channel, ts));
      if (parent === undefined) return { ok: false, error: 'thread_not_found' };
      const withMetadata = args.include_all_metadata === 'true' || args.include_all_metadata === true;
      const replies = inWindow(
        messageOrder.map((k) => messages.get(k)).filter((m): m is StoredMessage => m !== undefined && m.channel === channel && m.threadTs === parent.ts),
        args,
      );
      return { ok: true, messages: [parent, ...replies].map((m) => publicMessage(m, withMetadata)), has_more: false };
    },

    'views.open': (args) => {
      const triggerId = str(args.trigger_id);
      const view = args.view;
      if (triggerId === undefined || typeof view !== 'object' || view === null || Array.isArray(view)) {
        return { ok: false, error: 'invalid_arguments' };
      }
      const id = `V${String(++viewSeq).padStart(10, '0')}`;
      views.push({ id, triggerId, view: view as Record<string, unknown> });
      return {
        ok: true,
        view: {
          ...(view as Record<string, unknown>),
          id,
          team_id: teamId,
          state: { values: {} },
          hash: `1700000000.${id}`,
          root_view_id: id,
          previous_view_id: null,
          app_id: 'A111',
          bot_id: botId,
        },
      };
    },
  };

  const inWindow = (list: StoredMessage[], args: Record<string, unknown>): StoredMessage[] => {
    const oldest = Number(str(args.oldest) ?? '0');
    const latest = Number(str(args.latest) ?? 'Infinity');
    const limit = Number(str(args.limit) ?? '100');
    const within = list.filter((m) => Number(m.ts) >= oldest && Number(m.ts) <= latest);
    return within.slice(Math.max(0, within.length - limit));
  };

  let outageFault: { status: number; methods?: readonly string[]; retryAfterSeconds?: number } | null = null;
  let hangFault: { methods: readonly string[]; apply: boolean } | null = null;
  const heldResponses = new Set<ServerResponse>();
  const drops = new Map<string, true[]>();
  let channelLimit: { perSecond: number; burst: number } | null = null;
  const channelBuckets = new Map<string, { tokens: number; at: number }>();
  /** Seconds until chat.postMessage may post in `channel` again, or 0 if it may now (and takes a token). */
  const channelWait = (channel: string): number => {
    if (channelLimit === null) return 0;
    const now = Date.now();
    const b = channelBuckets.get(channel) ?? { tokens: channelLimit.burst, at: now };
    b.tokens = Math.min(channelLimit.burst, b.tokens + ((now - b.at) / 1000) * channelLimit.perSecond);
    b.at = now;
    channelBuckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / channelLimit.perSecond));
  };

  /** views.update (by view_id or external_id) and views.push (by trigger_id): the new view, with an id. */
  const viewAnswer = (view: Record<string, unknown>, id: string, previous: string | null) => ({
    ok: true as const,
    view: {
      ...view,
      id,
      team_id: teamId,
      state: { values: {} },
      hash: `1700000000.${id}`,
      root_view_id: id,
      previous_view_id: previous,
      app_id: 'A111',
      bot_id: botId,
    },
  });
  handlers['views.update'] = (args) => {
    const id = str(args.view_id);
    const view = args.view;
    if (typeof view !== 'object' || view === null || Array.isArray(view)) return { ok: false, error: 'invalid_arguments' };
    if (id === undefined || !views.some((v) => v.id === id)) return { ok: false, error: 'not_found' };
    return viewAnswer(view as Record<string, unknown>, id, null);
  };
  handlers['views.push'] = (args) => {
    const triggerId = str(args.trigger_id);
    const view = args.view;
    if (triggerId === undefined || typeof view !== 'object' || view === null || Array.isArray(view)) return { ok: false, error: 'invalid_arguments' };
    const id = `V${String(++viewSeq).padStart(10, '0')}`;
    views.push({ id, triggerId, view: view as Record<string, unknown> });
    return viewAnswer(view as Record<string, unknown>, id, null);
  };

  const takeQueued = <T>(queues: Map<string, T[]>, method: string): T | undefined => {
    const q = queues.get(method);
    const next = q?.shift();
    if (q !== undefined && q.length === 0) queues.delete(method);
    return next;
  };

  const answerApi = (method: string, req: IncomingMessage, rawBody: string, res: ServerResponse): void => {
    const record = (status: number, response: Answer, args: Record<string, unknown>) =>
      calls.add({
        seq: calls.items.length,
        method,
        args,
        at: Date.now(),
        status,
        ok: response.ok,
        ...(response.ok ? {} : { error: response.error }),
        response,
        rawBody,
      });

    let args: Record<string, unknown>;
    try {
      args = parseArgs(rawBody, req.headers['content-type'] ?? '');
    } catch {
      const answer: Answer = { ok: false, error: 'invalid_json' };
      record(200, answer, {});
      sendJson(res, 200, answer);
      return;
    }
    const bodyToken = str(args.token);
    delete args.token;
    let badJsonField: string | undefined;
    for (const field of JSON_FIELDS) {
      const v = args[field];
      if (typeof v !== 'string') continue;
      try {
        args[field] = JSON.parse(v) as unknown;
      } catch {
        badJsonField = field;
      }
    }

    const auth = req.headers.authorization;
    const presented = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : bodyToken;

    const outage = outageFault;
    if (outage !== null && (outage.methods === undefined ? method !== 'auth.test' : outage.methods.includes(method))) {
      const answer: Answer = { ok: false, error: `http_${outage.status}` };
      record(outage.status, answer, args);
      res.writeHead(outage.status, {
        'content-type': 'text/plain',
        ...(outage.retryAfterSeconds === undefined ? {} : { 'retry-after': String(outage.retryAfterSeconds) }),
      });
      res.end(outage.status === 429 ? 'rate limited' : 'service unavailable');
      return;
    }
    const hang = hangFault;
    if (hang !== null && hang.methods.includes(method)) {
      const handler = handlers[method];
      const applied: Answer = hang.apply && handler !== undefined && presented === token ? handler(args) : { ok: false, error: 'no_answer' };
      record(0, applied, args);
      heldResponses.add(res);
      res.on('close', () => heldResponses.delete(res));
      return;
    }
    let answer: Answer;
    if (presented === undefined) answer = { ok: false, error: 'not_authed' };
    else if (presented !== token) answer = { ok: false, error: 'invalid_auth' };
    else if (method === 'chat.postMessage' && str(args.channel) !== undefined && channelWait(str(args.channel) as string) > 0) {
      const retryAfter = channelWait(str(args.channel) as string);
      answer = { ok: false, error: 'ratelimited' };
      record(429, answer, args);
      sendJson(res, 429, answer, { 'retry-after': String(retryAfter) });
      return;
    } else if (rateLimits.has(method)) {
      const retryAfter = takeQueued(rateLimits, method);
      answer = { ok: false, error: 'ratelimited' };
      record(429, answer, args);
      sendJson(res, 429, answer, { 'retry-after': String(retryAfter) });
      return;
    } else {
      const injected = takeQueued(failures, method);
      const handler = handlers[method];
      if (injected !== undefined) answer = { ok: false, error: injected };
      else if (handler === undefined) answer = { ok: false, error: 'unknown_method' };
      else if (badJsonField !== undefined) {
        answer = { ok: false, error: badJsonField === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments' };
      } else answer = handler(args);
    }
    if (takeQueued(drops, method) !== undefined) {
      // Done, but the answer never leaves: the client sees its connection reset.
      record(0, answer, args);
      res.socket?.destroy();
      return;
    }
    record(200, answer, args);
    sendJson(res, 200, answer);
  };

  const answerResponseUrl = (id: string, rawBody: string, res: ServerResponse): void => {
    const uses = (responseUrlUses.get(id) ?? 0) + 1;
    responseUrlUses.set(id, uses);
    let body: unknown = rawBody;
    try {
      body = JSON.parse(rawBody) as unknown;
    } catch {
      // Slack expects JSON; keep the raw text so the assertion shows what was sent.
    }
    const status = uses > RESPONSE_URL_MAX_USES ? 404 : 200;
    responses.add({ seq: responses.items.length, id, body, at: Date.now(), status, rawBody });
    if (status === 200) sendJson(res, 200, { ok: true });
    else sendJson(res, 404, { ok: false, error: 'used_url' });
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    readBody(req).then(
      (rawBody) => {
        if (down) {
          sendJson(res, 503, { ok: false, error: 'service_unavailable' });
          return;
        }
        const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(path);
        const response = /^\/response\/(.+)$/.exec(path);
        if (req.method === 'POST' && api?.[1] !== undefined) answerApi(api[1], req, rawBody, res);
        else if (req.method === 'POST' && response?.[1] !== undefined) answerResponseUrl(response[1], rawBody, res);
        else sendJson(res, 404, { ok: false, error: 'unknown_path' });
      },
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Copies, so a test holding a message sees it as it was when asked.
  const snapshot = (m: StoredMessage): SlackMessage => ({ ...m, history: [...m.history] });
  const allMessages = () =>
    messageOrder.flatMap((k) => {
      const m = messages.get(k);
      return m === undefined ? [] : [snapshot(m)];
    });
  const describeCalls = () => calls.items.map((c) => (c.ok ? c.method : `${c.method}(${c.error ?? c.status})`)).join(', ');

  return {
    url: `${base}/api/`,
    token,
    teamId,
    botUserId,
    botId,
    responseUrl: (id) => `${base}/response/${id ?? `r${++responseUrlSeq}`}`,

    get calls() {
      return calls.items;
    },
    get responses() {
      return responses.items;
    },
    callsTo: (method) => calls.items.filter((c) => c.method === method),
    callCount: (method) => calls.items.filter((c) => c.method === method).length,
    waitFor: (method, predicate = () => true, timeoutMs = DEFAULT_WAIT_MS) =>
      calls.waitFor(
        (c) => c.method === method && predicate(c),
        timeoutMs,
        () => `slack double: no matching ${method} call within ${timeoutMs} ms; calls so far: [${describeCalls()}]`,
      ),
    waitForResponse: (predicate = () => true, timeoutMs = DEFAULT_WAIT_MS) =>
      responses.waitFor(
        predicate,
        timeoutMs,
        () => `slack double: no matching response_url post within ${timeoutMs} ms; posts so far: ${JSON.stringify(responses.items.map((r) => r.body))}`,
      ),

    message: (channel, ts) => {
      const m = messages.get(key(channel, ts));
      return m === undefined ? undefined : snapshot(m);
    },
    buttonValue: (channel, ts, actionId) => {
      const blocks = (messages.get(key(channel, ts))?.blocks ?? []) as Array<{ elements?: Array<{ action_id?: unknown; value?: unknown }> }>;
      for (const block of blocks) {
        for (const element of block.elements ?? []) if (element.action_id === actionId && typeof element.value === 'string') return element.value;
      }
      return undefined;
    },
    messages: (channel) => allMessages().filter((m) => channel === undefined || m.channel === channel),
    threadReplies: (channel, ts) => allMessages().filter((m) => m.channel === channel && m.threadTs === ts),
    ephemerals: (filter = {}) =>
      ephemerals.filter((e) => (filter.channel === undefined || e.channel === filter.channel) && (filter.user === undefined || e.user === filter.user)),
    views: () => [...views],

    setUser: (user) => void users.set(user.id, user),
    setGroup: (groupId, userIds) => void groups.set(groupId, [...userIds]),
    setChannel: (channel) => void channels.set(channel.id, channel),

    failNext: (method, error) => void failures.set(method, [...(failures.get(method) ?? []), error]),
    rateLimitNext: (method, seconds) => void rateLimits.set(method, [...(rateLimits.get(method) ?? []), seconds]),
    outage: (fault) => {
      outageFault =
        fault === null
          ? null
          : {
              status: fault.status ?? 503,
              ...(fault.methods ? { methods: [...fault.methods] } : {}),
              ...(fault.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: fault.retryAfterSeconds }),
            };
    },
    hang: (fault) => {
      hangFault = fault === null ? null : { methods: [...fault.methods], apply: fault.apply ?? false };
      if (fault === null) {
        for (const r of heldResponses) r.socket?.destroy();
        heldResponses.clear();
      }
    },
    dropAnswerNext: (method) => void drops.set(method, [...(drops.get(method) ?? []), true]),
    channelRateLimit: (limit) => {
      channelLimit = limit;
      channelBuckets.clear();
    },
    get held() {
      return heldResponses.size;
    },
    setDown: (d) => {
      down = d;
    },

    everything: () =>
      [...calls.items.flatMap((c) => [c.rawBody, JSON.stringify(c.args), JSON.stringify(c.response)]), ...responses.items.map((r) => r.rawBody)].join('\n'),

    reset: () => {
      calls.clear();
      responses.clear();
      messages.clear();
      messageOrder.length = 0;
      ephemerals = [];
      views = [];
      users.clear();
      groups.clear();
      channels.clear();
      failures.clear();
      rateLimits.clear();
      responseUrlUses.clear();
      outageFault = null;
      hangFault = null;
      for (const r of heldResponses) r.socket?.destroy();
      heldResponses.clear();
      drops.clear();
      channelLimit = null;
      channelBuckets.clear();
      tsSeq = 100;
      viewSeq = 0;
      down = false;
    },

    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const r of heldResponses) r.socket?.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
