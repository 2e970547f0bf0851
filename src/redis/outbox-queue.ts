import type { RedisClient } from './connection';
import { StoreUnavailableError } from '../core/errors';
import { toStoreError } from './store-error';

/**
 * The Slack outbox in Redis (SPEC §8): what is to be told, per channel, in the order it happened,
 * and which replica is telling it right now.
 *
 * Key layout (P = prefix):
 *   P outbox:<channel>    list: items (JSON) in the order recorded; the head is delivered first
 *   P outbox:due          zset: channel → when it may next be worked on. While a replica delivers a
 *                         channel the score is its lease's end, so the same zset is the lease table.
 *   P outbox:holders      hash: channel → the replica delivering it (fences a replica whose lease ran out)
 *   P outbox:attempting   hash: channel → seq of the item whose Slack call may have been sent; whoever
 *                         delivers that item next looks at Slack before sending it again
 *   P outbox:seq          counter: item sequence numbers (ordering and the id in message metadata)
 *
 * A rotation reminder (SPEC §10) is an item too, `reminder` (it belongs to no request): pushed by
 * `pushIfClaimed`, in the same step that takes its once-per-interval claim (redis/reminder-claims.ts's
 * key and rule), so a reminder whose claim was won is never lost to a Slack outage or a restart.
 *
 * One lease per channel, not per request: Slack's limit (about one message per second) is per
 * channel, so one replica at a time paces a channel, and per-request order follows from channel order.
 */

export type OutboxItemKind = 'card' | 'reply' | 'note' | 'reminder';

export interface OutboxItem {
  /** The stored JSON, exactly: removing an item is LREM of this string. */
  readonly raw: string;
  readonly seq: string;
  readonly requestId: string;
  readonly kind: OutboxItemKind;
  /**
   * A reply's or note's text, rendered when it was recorded; empty for a card; for a reminder, its
   * whole message (`{ text, blocks }` as JSON), rendered when it was recorded.
   */
  readonly text: string;
  /** When it was recorded (ms). */
  readonly at: number;
}

export interface NewOutboxItem {
  readonly requestId: string;
  readonly kind: OutboxItemKind;
  readonly text: string;
}

export interface ClaimedChannel {
  readonly channel: string;
  /** Seq of an item whose call the previous attempt may have sent (its answer was lost), if any. */
  readonly attempting: string | null;
  /** The first items, read in the same step (up to the `peek` count asked for). */
  readonly items: readonly OutboxItem[];
}

/** What a delivery settled besides removing items. */
export interface Settlement {
  /** A card post: where it is, written onto the request in the same step. */
  readonly card?: { readonly requestId: string; readonly channel: string; readonly ts: string };
  /** A card post Slack refused for good: recorded on the request so a waiting replica hears of it. */
  readonly cardError?: { readonly requestId: string; readonly error: string };
  /** The item about to be sent next (its call may be sent from now on). */
  readonly next?: string;
}

export interface OutboxQueue {
  push(channel: string, items: readonly NewOutboxItem[], now: number): Promise<void>;
  /**
   * Takes the claim `key` (a ReminderClaims key, under the same prefix and with the same rule: won
   * while `now` is at or past its last `until`) and, only if won, pushes the items, in one atomic
   * step. True when won (and pushed); false when another caller holds the claim.
   */
  pushIfClaimed(
    claim: { readonly key: string; readonly now: number; readonly until: number },
    channel: string,
    items: readonly NewOutboxItem[],
  ): Promise<boolean>;
  /** Claims due channels (or one named channel if due) for `owner` until `now + leaseMs`, with their first `peek` items. */
  claim(owner: string, now: number, leaseMs: number, opts: { channel?: string; max: number; peek?: number }): Promise<ClaimedChannel[]>;
  peek(channel: string, count: number): Promise<OutboxItem[]>;
  /**
   * Removes delivered (or given up) items and extends the lease. Returns how many items are left, or
   * -1 when `owner` no longer holds the channel. With `releaseIfEmpty`, a channel left empty is let go
   * in the same step (0 then means it is no longer held).
   */
  settle(
    channel: string,
    owner: string,
    leaseUntil: number,
    done: readonly OutboxItem[],
    settlement?: Settlement & { releaseIfEmpty?: boolean },
  ): Promise<number>;
  /**
   * Lets go of the channel: due again at `nextAt` if items remain. `maybeSent` is the seq of an item
   * whose call may have reached Slack (its answer was lost), so whoever sends it next looks first;
   * null when nothing was sent. Returns how many items remain (-1: the lease was lost already).
   */
  release(channel: string, owner: string, nextAt: number, maybeSent: string | null): Promise<number>;
  /** Where the request's card was posted, or why Slack refused it for good (written by settle). */
  cardState(requestId: string): Promise<{ ts?: string; error?: string }>;
  renew(channel: string, owner: string, leaseUntil: number): Promise<boolean>;
  /** Undelivered items and the oldest one's age, for /metrics. */
  backlog(): Promise<{ items: number; oldestAt: number | null }>;
}

/**
 * Pushes items onto a channel's outbox and makes the channel due (unless a holder or a backoff
 * already set its time: ZADD NX). Shared with the request store's create script, so a new request
 * and its card post are recorded in one atomic step.
 */
export const OUTBOX_PUSH_LUA = `
local function outbox_push(P, ch, rid, kind, text, at)
  local seq = redis.call('INCR', P .. 'outbox:seq')
  redis.call('RPUSH', P .. 'outbox:' .. ch, cjson.encode({ s = tostring(seq), r = rid, k = kind, t = text, at = at }))
  redis.call('ZADD', P .. 'outbox:due', 'NX', at, ch)
  return seq
end
`;

const HOLDS = `
local function holds(P, ch, owner)
  return redis.call('HGET', P .. 'outbox:holders', ch) == owner
end
`;

/** KEYS[1] due zset (routing); ARGV[1] prefix, ARGV[2] channel, ARGV[3] now, then (request id, kind, text) triples. */
const PUSH = `${OUTBOX_PUSH_LUA}
local P, ch, now = ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV, 3 do outbox_push(P, ch, ARGV[i], ARGV[i + 1], ARGV[i + 2], now) end
return 1
`;

/**
 * ARGV[1] prefix, ARGV[2] claim key (under the prefix), ARGV[3] now, ARGV[4] until, ARGV[5] the
 * claim key's expiry (ms), ARGV[6] channel, then (request id, kind, text) triples. The claim rule is
 * CLAIM_LUA's (redis/reminder-claims.ts), on the same key, so replicas of either kind agree.
 */
const PUSH_IF_CLAIMED = `${OUTBOX_PUSH_LUA}
local P, claim, now, until_, px, ch = ARGV[1], ARGV[1] .. ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local held = redis.call('GET', claim)
if held and tonumber(held) and tonumber(held) > tonumber(now) then return 0 end
redis.call('SET', claim, until_, 'PX', px)
for i = 7, #ARGV, 3 do outbox_push(P, ch, ARGV[i], ARGV[i + 1], ARGV[i + 2], now) end
return 1
`;

/** ARGV[1] prefix, ARGV[2] now, ARGV[3] owner, ARGV[4] lease until, ARGV[5] max, ARGV[6] one channel or '', ARGV[7] items to read. */
const CLAIM = `
local P, now, owner, until_, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local due = P .. 'outbox:due'
local chans
if ARGV[6] ~= '' then
  local score = redis.call('ZSCORE', due, ARGV[6])
  if score and tonumber(score) <= tonumber(now) then chans = { ARGV[6] } else chans = {} end
else
  chans = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, max)
end
local out = {}
for _, ch in ipairs(chans) do
  if redis.call('LLEN', P .. 'outbox:' .. ch) == 0 then
    redis.call('ZREM', due, ch)
    redis.call('HDEL', P .. 'outbox:holders', ch)
    redis.call('HDEL', P .. 'outbox:attempting', ch)
  else
    redis.call('ZADD', due, until_, ch)
    redis.call('HSET', P .. 'outbox:holders', ch, owner)
    -- What the previous holder may have sent without hearing back; from now on the head may be sent by this one.
    local attempting = redis.call('HGET', P .. 'outbox:attempting', ch)
    local head = cjson.decode(redis.call('LINDEX', P .. 'outbox:' .. ch, 0))
    redis.call('HSET', P .. 'outbox:attempting', ch, head.s)
    local items = redis.call('LRANGE', P .. 'outbox:' .. ch, 0, tonumber(ARGV[7]) - 1)
    out[#out + 1] = ch
    out[#out + 1] = attempting or ''
    out[#out + 1] = items
  end
end
return out
`;

/**
 * ARGV[1] prefix, ARGV[2] channel, ARGV[3] owner, ARGV[4] lease until, ARGV[5] next attempting seq or '',
 * ARGV[6] card request id, ARGV[7] card channel, ARGV[8] card ts, ARGV[9] card error,
 * ARGV[10] '1' to let go of the channel if it is left empty, ARGV[11..] raw items.
 */
const SETTLE = `${HOLDS}
local P, ch, owner = ARGV[1], ARGV[2], ARGV[3]
if not holds(P, ch, owner) then return -1 end
local list = P .. 'outbox:' .. ch
for i = 11, #ARGV do redis.call('LREM', list, 1, ARGV[i]) end
if ARGV[6] ~= '' then
  local req = P .. 'req:' .. ARGV[6]
  if redis.call('EXISTS', req) == 1 then
    if ARGV[8] ~= '' then redis.call('HSET', req, 'card_channel', ARGV[7], 'card_ts', ARGV[8]) end
    if ARGV[9] ~= '' then redis.call('HSET', req, 'card_error', ARGV[9]) end
  end
end
local left = redis.call('LLEN', list)
if left == 0 and ARGV[10] == '1' then
  redis.call('ZREM', P .. 'outbox:due', ch)
  redis.call('HDEL', P .. 'outbox:holders', ch)
  redis.call('HDEL', P .. 'outbox:attempting', ch)
  return 0
end
if ARGV[5] ~= '' then redis.call('HSET', P .. 'outbox:attempting', ch, ARGV[5]) else redis.call('HDEL', P .. 'outbox:attempting', ch) end
redis.call('ZADD', P .. 'outbox:due', 'XX', ARGV[4], ch)
return left
`;

/** ARGV[1] prefix, ARGV[2] channel, ARGV[3] owner, ARGV[4] next at, ARGV[5] seq that may have been sent, or ''. */
const RELEASE = `${HOLDS}
local P, ch, owner = ARGV[1], ARGV[2], ARGV[3]
if not holds(P, ch, owner) then return -1 end
redis.call('HDEL', P .. 'outbox:holders', ch)
if ARGV[5] ~= '' then redis.call('HSET', P .. 'outbox:attempting', ch, ARGV[5]) else redis.call('HDEL', P .. 'outbox:attempting', ch) end
local left = redis.call('LLEN', P .. 'outbox:' .. ch)
if left == 0 then
  redis.call('ZREM', P .. 'outbox:due', ch)
  redis.call('HDEL', P .. 'outbox:attempting', ch)
else
  redis.call('ZADD', P .. 'outbox:due', ARGV[4], ch)
end
return left
`;

/** ARGV[1] prefix, ARGV[2] channel, ARGV[3] owner, ARGV[4] lease until. */
const RENEW = `${HOLDS}
local P, ch, owner = ARGV[1], ARGV[2], ARGV[3]
if not holds(P, ch, owner) then return 0 end
redis.call('ZADD', P .. 'outbox:due', 'XX', ARGV[4], ch)
return 1
`;

/** ARGV[1] prefix. Counts every channel's items and reads each head's time. */
const BACKLOG = `
local P = ARGV[1]
local items, oldest = 0, ''
for _, ch in ipairs(redis.call('ZRANGE', P .. 'outbox:due', 0, -1)) do
  local list = P .. 'outbox:' .. ch
  items = items + redis.call('LLEN', list)
  local head = redis.call('LINDEX', list, 0)
  if head then
    local at = cjson.decode(head).at
    if oldest == '' or tonumber(at) < tonumber(oldest) then oldest = at end
  end
end
return { items, oldest }
`;

const SCRIPTS = {
  ivsOutboxPush: PUSH,
  ivsOutboxPushIfClaimed: PUSH_IF_CLAIMED,
  ivsOutboxClaim: CLAIM,
  ivsOutboxSettle: SETTLE,
  ivsOutboxRelease: RELEASE,
  ivsOutboxRenew: RENEW,
  ivsOutboxBacklog: BACKLOG,
} as const;

type ScriptFn = (...args: string[]) => Promise<unknown>;

export function createRedisOutboxQueue(redis: RedisClient, opts: { keyPrefix: string }): OutboxQueue {
  const prefix = opts.keyPrefix;
  // Keys built inside Lua do not get ioredis' own keyPrefix, so the scripts see both prefixes.
  const luaPrefix = (redis.options.keyPrefix ?? '') + prefix;
  const dueKey = `${prefix}outbox:due`;
  // Each script declares the due zset as its one key: with Cluster that routes it to the node that
  // owns the bot's hash tag, where every other key it touches lives too.
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua, numberOfKeys: 1 });
  const commands = redis as unknown as Record<keyof typeof SCRIPTS, ScriptFn>;

  async function run(name: keyof typeof SCRIPTS, ...args: string[]): Promise<unknown> {
    try {
      return await commands[name](dueKey, luaPrefix, ...args);
    } catch (err) {
      throw toStoreError(err, name);
    }
  }

  return {
    async push(channel, items, now) {
      if (items.length === 0) return;
      await run('ivsOutboxPush', channel, String(now), ...items.flatMap((i) => [i.requestId, i.kind, i.text]));
    },

    async pushIfClaimed(claim, channel, items) {
      const won = await run(
        'ivsOutboxPushIfClaimed',
        claim.key,
        String(claim.now),
        String(claim.until),
        String(Math.max(1, Math.ceil(claim.until - claim.now))),
        channel,
        ...items.flatMap((i) => [i.requestId, i.kind, i.text]),
      );
      return Number(won) === 1;
    },

    async claim(owner, now, leaseMs, { channel, max, peek = 1 }) {
      const reply = await run('ivsOutboxClaim', String(now), owner, String(now + leaseMs), String(max), channel ?? '', String(Math.max(1, peek)));
      if (!Array.isArray(reply)) throw new StoreUnavailableError('Redis answered the outbox claim with an unexpected reply');
      const claimed: ClaimedChannel[] = [];
      for (let i = 0; i + 2 < reply.length; i += 3) {
        const items = Array.isArray(reply[i + 2]) ? (reply[i + 2] as unknown[]).map((raw) => parseItem(String(raw))) : [];
        claimed.push({ channel: String(reply[i]), attempting: reply[i + 1] ? String(reply[i + 1]) : null, items });
      }
      return claimed;
    },

    async peek(channel, count) {
      let raws: string[];
      try {
        raws = await redis.lrange(`${prefix}outbox:${channel}`, 0, count - 1);
      } catch (err) {
        throw toStoreError(err, 'outbox peek');
      }
      return raws.map(parseItem);
    },

    async settle(channel, owner, leaseUntil, done, settlement = {}) {
      const reply = await run(
        'ivsOutboxSettle',
        channel,
        owner,
        String(leaseUntil),
        settlement.next ?? '',
        settlement.card?.requestId ?? settlement.cardError?.requestId ?? '',
        settlement.card?.channel ?? '',
        settlement.card?.ts ?? '',
        settlement.cardError?.error ?? '',
        settlement.releaseIfEmpty ? '1' : '',
        ...done.map((i) => i.raw),
      );
      return Number(reply);
    },

    async release(channel, owner, nextAt, maybeSent) {
      return Number(await run('ivsOutboxRelease', channel, owner, String(nextAt), maybeSent ?? ''));
    },

    async cardState(requestId) {
      let fields: (string | null)[];
      try {
        fields = await redis.hmget(`${prefix}req:${requestId}`, 'card_ts', 'card_error');
      } catch (err) {
        throw toStoreError(err, 'outbox card state');
      }
      const [ts, error] = fields;
      return { ...(ts ? { ts } : {}), ...(error ? { error } : {}) };
    },

    async renew(channel, owner, leaseUntil) {
      return Number(await run('ivsOutboxRenew', channel, owner, String(leaseUntil))) === 1;
    },

    async backlog() {
      const reply = await run('ivsOutboxBacklog');
      if (!Array.isArray(reply)) throw new StoreUnavailableError('Redis answered the outbox backlog with an unexpected reply');
      const oldest = reply[1] ? Number(reply[1]) : null;
      return { items: Number(reply[0]), oldestAt: oldest !== null && Number.isFinite(oldest) ? oldest : null };
    },
  };
}

function parseItem(raw: string): OutboxItem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = {};
  }
  const o = (parsed ?? {}) as Record<string, unknown>;
  const kind = o['k'] === 'card' || o['k'] === 'reply' || o['k'] === 'note' || o['k'] === 'reminder' ? o['k'] : 'note';
  return {
    raw,
    seq: String(o['s'] ?? ''),
    requestId: String(o['r'] ?? ''),
    kind,
    // cjson encodes an empty Lua string as "" but an absent one not at all.
    text: typeof o['t'] === 'string' ? o['t'] : '',
    at: Number(o['at'] ?? 0),
  };
}
