/**
 * The request store's transitions, each one Lua script so that checking the state and updating the
 * request hash and every index happen in one atomic step (SPEC §4.1): ten replicas racing on the
 * same request produce exactly one winner.
 *
 * Calling convention: every script is declared with 1 key, the request's hash (KEYS[1], which routes
 * it to the right node on Redis Cluster), but builds every key it touches from ARGV, since the keys
 * of the indexes depend on the request's own fields (its workspace and requester, say):
 *   ARGV[1] key prefix (connection prefix + store prefix), ARGV[2] request id, ARGV[3] now (ms),
 *   ARGV[4] TTL (ms) a final request's hash keeps, ARGV[5..] script specific.
 * All arithmetic on times happens in TypeScript; Lua only compares with tonumber(), so no timestamp
 * is ever reformatted by Lua's number printing.
 *
 * Replies: { kind, extra, snapshot, told } where snapshot is the request hash as a flat HGETALL list
 * and told is tell_with's answer (transitions given an event only).
 *
 * Key layout (P = prefix):
 *   P req:<id>             hash: the request
 *   P open                 zset: open requests by createdAt
 *   P pending              zset: pending requests by expiresAt (expiry sweep); an orphan's delete
 *                          request (hash field orphan_of) never enters it: it does not expire
 *   P leases               zset: approved/executing requests by lease_until (recovery sweep)
 *   P requester:<user>     set: the user's open requests (flood limit)
 *   P inflight:<workspace> string: the request executing a create/delete in that workspace
 *   P waiting:<workspace>  set: approved requests waiting for that slot
 *   P rotation:<secret id> string: the open rotation of that secret
 *   P outbox:…             the Slack outbox (redis/outbox-queue.ts); create records the card post there
 *   P audit, P audit:head  the audit stream and its chain head (redis/audit-log.ts); every transition
 *                          that tells an event appends it there itself when given one (tell_with)
 */

import { OUTBOX_PUSH_LUA } from './outbox-queue';

/** How many of the entries a request's scripts recorded it remembers, for lost-answer read-backs (tell_with). */
export const TOLD_KEPT = 16;

const PREAMBLE = `${OUTBOX_PUSH_LUA}
local P = ARGV[1]
local id = ARGV[2]
local now = ARGV[3]
local final_ttl = ARGV[4]
local key = P .. 'req:' .. id
local OPEN = P .. 'open'
local PENDING = P .. 'pending'
local LEASES = P .. 'leases'

local function field(name)
  local v = redis.call('HGET', key, name)
  if v == false then return '' end
  return v
end

local function snapshot()
  return redis.call('HGETALL', key)
end

-- The fourth element says whether the event given with the transition was recorded (tell_with).
local function reply(kind, extra, told)
  return { kind, extra or '', snapshot(), told or '' }
end

-- SPEC §8: the event a transition records with itself, in this same step, called once the transition
-- has changed the hash: its audit entry (hashed in Node onto the head it expects, appended only onto
-- that head, exactly as the audit log's own append does) and its Slack notices (the outbox items).
-- ARGV from base: '1' when given; the approvals the request must have after the transition ('' any);
-- '0'/'1' whether the claim must be a takeover ('' any); the state the transition must leave it in
-- ('' any); the head expected; the entry (requestId, type, actor, at, detail, prev, hash); the
-- channel; then (request id, kind, text) outbox triples. Answers '' (none given), 'untold' (a
-- condition did not hold), 'head <head>' (another entry came first: the caller tells it itself) or
-- 'told <entry id>'. The request keeps the hashes of the last TOLD_KEPT entries it recorded
-- (told_recent, oldest first), so a caller whose answer was lost can tell that its own entry was
-- recorded, whatever was told after it: a read-back follows its lost answer within a command
-- timeout, far fewer events than that come between, and the hash stays bounded however often
-- people click.
local function tell_with(base, recovering)
  if ARGV[base] ~= '1' then return '' end
  if ARGV[base + 1] ~= '' then
    local count = 0
    for _ in string.gmatch(field('approvals'), '%S+') do count = count + 1 end
    if tonumber(ARGV[base + 1]) ~= count then return 'untold' end
  end
  if ARGV[base + 2] ~= '' and ARGV[base + 2] ~= recovering then return 'untold' end
  if ARGV[base + 3] ~= '' and ARGV[base + 3] ~= field('state') then return 'untold' end
  local head = redis.call('GET', P .. 'audit:head') or ''
  if head ~= ARGV[base + 4] then return 'head ' .. head end
  local entry = redis.call('XADD', P .. 'audit', '*', 'requestId', ARGV[base + 5], 'type', ARGV[base + 6], 'actor', ARGV[base + 7],
    'at', ARGV[base + 8], 'detail', ARGV[base + 9], 'prev', ARGV[base + 10], 'hash', ARGV[base + 11])
  redis.call('SET', P .. 'audit:head', ARGV[base + 11])
  local kept = {}
  for h in string.gmatch(field('told_recent'), '%S+') do kept[#kept + 1] = h end
  kept[#kept + 1] = ARGV[base + 11]
  while #kept > ${TOLD_KEPT} do table.remove(kept, 1) end
  redis.call('HSET', key, 'told_recent', table.concat(kept, ' '))
  for i = base + 13, #ARGV, 3 do outbox_push(P, ARGV[base + 12], ARGV[i], ARGV[i + 1], ARGV[i + 2], now) end
  return 'told ' .. entry
end

local function release_slot()
  local ws = field('workspace')
  local slot = P .. 'inflight:' .. ws
  if redis.call('GET', slot) == id then redis.call('DEL', slot) end
end

-- Requests approved while another one held the workspace slot, so that whoever frees it knows to
-- start them at once rather than leave them to the next sweep.
local function waiters_key()
  return P .. 'waiting:' .. field('workspace')
end

local function someone_waits()
  return redis.call('SCARD', waiters_key()) > 0
end

-- Final: out of every open index, slot and rotation released, and the hash expires in time
-- (the audit stream is the permanent record).
local function close_request(state)
  redis.call('HSET', key, 'state', state, 'updated_at', now, 'lease_owner', '', 'lease_until', '0')
  redis.call('ZREM', OPEN, id)
  redis.call('ZREM', PENDING, id)
  redis.call('ZREM', LEASES, id)
  redis.call('SREM', P .. 'requester:' .. field('requester'), id)
  redis.call('SREM', waiters_key(), id)
  local rot = field('rotation_of')
  if rot ~= '' then
    local rkey = P .. 'rotation:' .. rot
    if redis.call('GET', rkey) == id then redis.call('DEL', rkey) end
  end
  release_slot()
  redis.call('PEXPIRE', key, final_ttl)
end

-- A rotation whose retire step is rejected or expires goes back to waiting: the successor exists and
-- the old secret is untouched, so Finish (later) and Abandon must stay possible.
local function back_to_finish()
  redis.call('HSET', key, 'state', 'awaiting_finish', 'approvals', '', 'updated_at', now)
  redis.call('HDEL', key, 'rotation_step', 'finish_requested_by', 'retire_fingerprint')
  redis.call('ZREM', PENDING, id)
end

-- The fingerprint of the step the card's buttons decide now: the operation's own, or, for a
-- rotation's delete step, the one startRetireStep recorded (it covers the successor too).
local function current_step()
  if field('rotation_step') == 'retire' then return field('retire_fingerprint') end
  local ok, body = pcall(cjson.decode, field('body'))
  if ok and type(body) == 'table' and type(body.fingerprint) == 'string' then return body.fingerprint end
  return ''
end

-- A click counts only for the step its card showed (the button carries that step's fingerprint):
-- a person must not decide a step they never saw. A typed command names no step ('').
local function saw_another_step(seen)
  if seen == '' then return false end
  local current = current_step()
  return current == '' or seen ~= current
end

-- Every decision that applies stamps what it did, who did it and when: a caller whose answer was
-- lost reads the stamp back to learn that it happened, instead of running it twice or saying
-- "nothing was changed".
local function stamp(kind, actor)
  redis.call('HSET', key, 'last_transition', kind .. ' ' .. actor .. ' ' .. now)
end

local function has_approved(user)
  for a in string.gmatch(field('approvals'), '%S+') do
    if a == user then return true end
  end
  return false
end

if redis.call('EXISTS', key) == 0 then return { 'not_found', '', {} } end
`;

/** Create is the one script that runs before the hash exists, so it does not use the preamble's guard. */
const CREATE = `${OUTBOX_PUSH_LUA}
local P = ARGV[1]
local id = ARGV[2]
local key = P .. 'req:' .. id
local max_open = tonumber(ARGV[5])
local rotation_of = ARGV[6]
local requester = ARGV[7]
local created_at = ARGV[8]
local expires_at = ARGV[9]

if redis.call('EXISTS', key) == 1 then return { 'id_taken', '', {} } end
if rotation_of ~= '' then
  local existing = redis.call('GET', P .. 'rotation:' .. rotation_of)
  if existing then return { 'duplicate_rotation', existing, {} } end
end
local rkey = P .. 'requester:' .. requester
if redis.call('SCARD', rkey) >= max_open then
  return { 'limit', '', redis.call('SMEMBERS', rkey) }
end
redis.call('HSET', key, unpack(ARGV, 10))
redis.call('ZADD', P .. 'open', created_at, id)
-- An orphan's delete request does not expire (SPEC §4: the orphan must not stay active silently),
-- and, opened by the bot, it takes none of its requester's open-request slots: they may hold it open
-- for as long as it takes without being kept from opening requests of their own.
if (redis.call('HGET', key, 'orphan_of') or '') == '' then
  redis.call('ZADD', P .. 'pending', expires_at, id)
  redis.call('SADD', rkey, id)
end
if rotation_of ~= '' then redis.call('SET', P .. 'rotation:' .. rotation_of, id) end
-- Its card post is recorded with it (SPEC §8): a request exists only with a card on its way.
outbox_push(P, cjson.decode(redis.call('HGET', key, 'body')).channel, id, 'card', '', created_at)
return { 'created', '', redis.call('HGETALL', key) }
`;

const GET = `
return reply('ok')
`;

/**
 * ARGV[5] user, ARGV[6] lease_until for an approved request nobody has claimed yet, ARGV[7] the
 * fingerprint of the step the approver saw (required: an approval is always given on a card),
 * ARGV[8..] the 'approved' event to record with it (tell_with).
 */
const APPROVE = `
local user = ARGV[5]
if field('state') ~= 'pending' then return reply('not_pending') end
if ARGV[7] == '' or saw_another_step(ARGV[7]) then return reply('changed') end
if field('orphan_of') == '' and tonumber(field('expires_at')) <= tonumber(now) then return reply('expired') end
-- The person who asked to finish a rotation cannot approve its retire step either.
if user == field('requester') or user == field('finish_requested_by') then return reply('self') end
if has_approved(user) then return reply('already_approved') end
local approvals = field('approvals')
if approvals == '' then approvals = user else approvals = approvals .. ' ' .. user end
redis.call('HSET', key, 'approvals', approvals, 'updated_at', now)
local count = 0
for _ in string.gmatch(approvals, '%S+') do count = count + 1 end
if count < tonumber(field('approvals_required')) then return reply('recorded', '', tell_with(8, nil)) end
redis.call('HSET', key, 'state', 'approved', 'lease_owner', '', 'lease_until', ARGV[6])
redis.call('ZREM', PENDING, id)
redis.call('ZADD', LEASES, ARGV[6], id)
return reply('approved', '', tell_with(8, nil))
`;

/** ARGV[5] user, ARGV[6] fingerprint of the step the card showed ('' for the typed command), ARGV[7..] its event (tell_with). */
const WITHDRAW = `
local user = ARGV[5]
if field('state') ~= 'pending' then return reply('refused', 'the request is no longer pending') end
if saw_another_step(ARGV[6]) then return reply('changed') end
if not has_approved(user) then return reply('refused', 'you have not approved this request') end
local kept = {}
for a in string.gmatch(field('approvals'), '%S+') do
  if a ~= user then kept[#kept + 1] = a end
end
redis.call('HSET', key, 'approvals', table.concat(kept, ' '), 'updated_at', now)
stamp('withdrawn', user)
return reply('ok', '', tell_with(7, nil))
`;

/** ARGV[5] user, ARGV[6] reason, ARGV[7] fingerprint of the step the card showed, ARGV[8..] its event (tell_with). */
const REJECT = `
if field('state') ~= 'pending' then return reply('refused', 'the request is no longer pending') end
if saw_another_step(ARGV[7]) then return reply('changed') end
stamp('rejected', ARGV[5])
if field('rotation_step') == 'retire' then
  back_to_finish()
  return reply('ok', '', tell_with(8, nil))
end
redis.call('HSET', key, 'rejection_by', ARGV[5], 'rejection_reason', ARGV[6])
close_request('rejected')
return reply('ok', '', tell_with(8, nil))
`;

/** ARGV[5] user, ARGV[6..] its event (tell_with). */
const CANCEL = `
local state = field('state')
-- 'approved' is not started yet (it may be waiting for the workspace): still the requester's to call off.
if state ~= 'pending' and state ~= 'approved' and state ~= 'awaiting_finish' then
  return reply('refused', 'it is ' .. state .. ': only a request that has not started executing (or a rotation waiting to finish) can be cancelled')
end
if ARGV[5] ~= field('requester') then return reply('refused', 'only the requester can cancel') end
redis.call('HSET', key, 'cancelled_by', ARGV[5])
stamp('cancelled', ARGV[5])
close_request('cancelled')
return reply('ok', '', tell_with(6, nil))
`;

/** ARGV[5..] its event (tell_with). */
const EXPIRE = `
if field('state') ~= 'pending' then return reply('refused', 'the request is no longer pending') end
if field('orphan_of') ~= '' then return reply('refused', 'the delete request of an orphan does not expire') end
if tonumber(field('expires_at')) > tonumber(now) then return reply('refused', 'the request has not expired yet') end
stamp('expired', 'bot')
if field('rotation_step') == 'retire' then
  back_to_finish()
  return reply('ok', '', tell_with(5, nil))
end
close_request('expired')
return reply('ok', '', tell_with(5, nil))
`;

/** ARGV[5] owner, ARGV[6] lease_until, ARGV[7..] the 'executing' event to record with it (tell_with). */
const CLAIM = `
local state = field('state')
local lease_until = tonumber(field('lease_until')) or 0
local recovering
if state == 'approved' then
  -- Nobody claimed it within the grace: the replica that approved it probably died. A request that
  -- waited for the workspace slot (waiting_for) was never started: nothing to recover.
  recovering = lease_until <= tonumber(now) and field('waiting_for') == ''
elseif state == 'executing' then
  if lease_until > tonumber(now) then return reply('not_claimable') end
  recovering = true
else
  return reply('not_claimable')
end
local slot = P .. 'inflight:' .. field('workspace')
local holder = redis.call('GET', slot)
if holder and holder ~= id then
  -- A slot left behind by a request that is no longer executing must not block the workspace forever.
  if redis.call('HGET', P .. 'req:' .. holder, 'state') == 'executing' then
    -- Due at once for every sweep (and for the holder's replica when it finishes), and told once
    -- per holder: the third element says whether this is the first time.
    local first = field('waiting_for') ~= holder
    redis.call('HSET', key, 'waiting_for', holder, 'lease_until', now)
    redis.call('ZADD', LEASES, now, id)
    redis.call('SADD', waiters_key(), id)
    if first then return { 'busy', holder, { '1' } } end
    return { 'busy', holder, { '0' } }
  end
end
redis.call('SET', slot, id)
redis.call('HDEL', key, 'waiting_for')
redis.call('SREM', waiters_key(), id)
redis.call('HSET', key, 'state', 'executing', 'lease_owner', ARGV[5], 'lease_until', ARGV[6], 'updated_at', now)
redis.call('ZADD', LEASES, ARGV[6], id)
local told = tell_with(7, recovering and '1' or '0')
if recovering then
  -- Counted per step (the retire step starts without breadcrumbs), so recovery gives up in time.
  redis.call('HINCRBY', key, 'progress.takeovers', 1)
  return reply('claimed', '1', told)
end
return reply('claimed', '0', told)
`;

/** ARGV[5] owner, ARGV[6] lease_until. */
const RENEW_LEASE = `
if field('state') ~= 'executing' or field('lease_owner') ~= ARGV[5] then return reply('refused') end
-- Run out already (a long pause, say): another replica may be taking over right now.
if tonumber(field('lease_until')) < tonumber(now) then return reply('refused') end
redis.call('HSET', key, 'lease_until', ARGV[6])
redis.call('ZADD', LEASES, ARGV[6], id)
return reply('ok')
`;

/** ARGV[5] owner, ARGV[6..] field/value pairs (already named progress.<key>). */
const RECORD_PROGRESS = `
if field('state') ~= 'executing' or field('lease_owner') ~= ARGV[5] then return reply('refused') end
-- A holder whose lease ran out (it stalled past it) must not start a side effect another replica may
-- be recovering at the same moment. The times are the holder's own clock, so no skew enters here.
if tonumber(field('lease_until')) < tonumber(now) then return reply('refused') end
if #ARGV >= 6 then redis.call('HSET', key, unpack(ARGV, 6)) end
return reply('ok')
`;

/** ARGV[5] owner, ARGV[6] new state, ARGV[7] outcome, ARGV[8] rotation JSON or '', ARGV[9..] its event (tell_with). */
const FINISH = `
local to = ARGV[6]
if field('state') ~= 'executing' then return reply('refused', 'the request is not executing') end
if field('lease_owner') ~= ARGV[5] then return reply('refused', 'another replica holds the lease') end
local retire_failed = to == 'failed' and field('rotation_step') == 'retire'
if retire_failed then
  -- The old secret was not deleted: both secrets still exist, so, as after a reject, the rotation
  -- waits to be finished again or abandoned.
  to = 'awaiting_finish'
  redis.call('HSET', key, 'approvals', '')
  redis.call('HDEL', key, 'rotation_step', 'finish_requested_by', 'retire_fingerprint')
end
if to == 'awaiting_finish' and field('action') ~= 'rotate' then
  return reply('refused', 'only a rotation can wait to finish')
end
redis.call('HSET', key, 'outcome', ARGV[7])
if ARGV[8] ~= '' then
  redis.call('HSET', key, 'rotation', ARGV[8])
  redis.call('HDEL', key, 'rotation_step', 'finish_requested_by')
end
if to == 'awaiting_finish' then
  redis.call('HSET', key, 'state', to, 'lease_owner', '', 'lease_until', '0', 'updated_at', now)
  redis.call('ZREM', LEASES, id)
  release_slot()
else
  close_request(to)
end
local told = tell_with(9, nil)
if someone_waits() then return reply('ok', 'waiters', told) end
return reply('ok', '', told)
`;

/**
 * ARGV[5] user, ARGV[6] expires_at of the retire step, ARGV[7] fingerprint of the step the card
 * showed, ARGV[8] fingerprint of the retire step (what its Approve buttons will carry), ARGV[9..]
 * its event (tell_with).
 */
const START_RETIRE_STEP = `
if field('state') ~= 'awaiting_finish' then return reply('refused', 'the rotation is not waiting to finish') end
if saw_another_step(ARGV[7]) then return reply('changed') end
redis.call('HSET', key, 'state', 'pending', 'approvals', '', 'expires_at', ARGV[6], 'updated_at', now,
  'rotation_step', 'retire', 'finish_requested_by', ARGV[5], 'retire_fingerprint', ARGV[8])
stamp('finish_requested', ARGV[5])
redis.call('ZADD', PENDING, ARGV[6], id)
-- The first step's breadcrumbs must not make a recovery of this step think it had begun.
for _, name in ipairs(redis.call('HKEYS', key)) do
  if string.sub(name, 1, 9) == 'progress.' then redis.call('HDEL', key, name) end
end
return reply('ok', '', tell_with(9, nil))
`;

/** ARGV[5] user, ARGV[6] outcome, ARGV[7] fingerprint of the step the card showed, ARGV[8..] its event (tell_with). */
const ABANDON = `
if field('state') ~= 'awaiting_finish' then return reply('refused', 'the rotation is not waiting to finish') end
if saw_another_step(ARGV[7]) then return reply('changed') end
redis.call('HSET', key, 'outcome', ARGV[6])
stamp('abandoned', ARGV[5])
close_request('succeeded')
return reply('ok', '', tell_with(8, nil))
`;

export const REQUEST_SCRIPTS = {
  ivsCreate: CREATE,
  ivsGet: PREAMBLE + GET,
  ivsApprove: PREAMBLE + APPROVE,
  ivsWithdraw: PREAMBLE + WITHDRAW,
  ivsReject: PREAMBLE + REJECT,
  ivsCancel: PREAMBLE + CANCEL,
  ivsExpire: PREAMBLE + EXPIRE,
  ivsClaim: PREAMBLE + CLAIM,
  ivsRenewLease: PREAMBLE + RENEW_LEASE,
  ivsRecordProgress: PREAMBLE + RECORD_PROGRESS,
  ivsFinish: PREAMBLE + FINISH,
  ivsStartRetireStep: PREAMBLE + START_RETIRE_STEP,
  ivsAbandon: PREAMBLE + ABANDON,
} as const;

export type RequestScriptName = keyof typeof REQUEST_SCRIPTS;
