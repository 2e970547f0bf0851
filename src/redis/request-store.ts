// redis/: the core's RequestStore, AuditLog and outbox queue on Redis (Lua scripts for atomic transitions).
import type { RedisClient } from './connection';
import { StoreUnavailableError } from '../core/errors';
import type { AuditEvent, ClaimResult, CreateResult, RequestStore, TellWith, TransitionResult, ApproveResult } from '../core/ports';
import type { AuditChain, AuditEntryDraft } from './audit-log';
import type { NewOutboxItem } from './outbox-queue';
import { isFinal, type ApprovalRequest } from '../core/request';
import { decodeRequest, encodeNewRequest, encodeProgress, fieldsFromList } from './request-codec';
import { REQUEST_SCRIPTS, type RequestScriptName } from './request-scripts';
import { toStoreError } from './store-error';

export interface RedisRequestStoreOptions {
  /** Namespace of every key, e.g. `ivs:`. */
  readonly keyPrefix: string;
  /** How long a final request stays readable (`/ivs status`) before Redis drops it. Default 30 days. */
  readonly finalTtlMs?: number;
  /**
   * How long an approved request may wait to be claimed before staleLeases reports it (the replica
   * that approved it normally claims it at once). Default 15 s.
   */
  readonly claimGraceMs?: number;
  /**
   * The workspace whose keys carry no workspace name: the one workspace of the environment settings,
   * whose Redis layout stays exactly the first release's. Every other workspace's open rotation of
   * secret `102` is `rotation:<workspace>:102`, since ids repeat across workspaces.
   */
  readonly unqualifiedWorkspace?: string;
  /**
   * Lets the transitions record the event they are given in their own script (TellWith): the
   * audit chain this process shares with its audit log (which must use the same key prefix), and
   * the outbox items of an event (rendered by the Slack layer). Without it, every TellWith is
   * declined and the caller tells the event itself.
   */
  readonly tellWith?: {
    readonly chain: AuditChain;
    readonly render: (request: ApprovalRequest, event: AuditEvent) => { channel: string; items: NewOutboxItem[] };
    /** Told: the channel has something new to deliver, and `event` is on the audit stream. */
    readonly recorded?: (channel: string, event: AuditEvent) => void;
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a breadcrumb before a POST waits for a replica to have it. */
const REPLICA_WAIT_MS = 500;

interface ScriptReply {
  readonly kind: string;
  readonly extra: string;
  readonly snapshot: unknown;
  /** tell_with's answer ('' when no event was given). */
  readonly told: string;
}

/** A TellWith as the script takes it, and what to do with the script's answer. */
interface EncodedTell {
  /** A TellWith was given (the result then says whether it was told). */
  readonly given: boolean;
  readonly args: string[];
  readonly draft?: AuditEntryDraft;
  readonly channel?: string;
  readonly event?: AuditEvent;
}

type ScriptFn = (...args: string[]) => Promise<unknown>;

export function createRedisRequestStore(redis: RedisClient, opts: RedisRequestStoreOptions): RequestStore {
  const prefix = opts.keyPrefix;
  // Keys built inside Lua do not get ioredis' own keyPrefix, so the scripts see both prefixes.
  const luaPrefix = (redis.options.keyPrefix ?? '') + prefix;
  const finalTtl = String(opts.finalTtlMs ?? 30 * DAY_MS);
  const claimGraceMs = opts.claimGraceMs ?? 15_000;
  const keys = { open: `${prefix}open`, pending: `${prefix}pending`, leases: `${prefix}leases` };

  // Each script declares the request's hash as its one key (the scripts read their keys from ARGV):
  // that is what routes it to the right node on Redis Cluster.
  for (const [name, lua] of Object.entries(REQUEST_SCRIPTS)) {
    redis.defineCommand(name, { lua, numberOfKeys: 1 });
  }
  // defineCommand adds methods ioredis' types cannot know about.
  const commands = redis as unknown as Record<RequestScriptName, ScriptFn>;

  async function run(name: RequestScriptName, id: string, now: number, ...args: string[]): Promise<ScriptReply> {
    let raw: unknown;
    try {
      raw = await commands[name](`${prefix}req:${id}`, luaPrefix, id, String(now), finalTtl, ...args);
    } catch (err) {
      throw toStoreError(err, name);
    }
    if (!Array.isArray(raw) || typeof raw[0] !== 'string' || typeof raw[1] !== 'string') {
      throw new StoreUnavailableError(`Redis answered ${name} with an unexpected reply`);
    }
    return { kind: raw[0], extra: raw[1], snapshot: raw[2], told: typeof raw[3] === 'string' ? raw[3] : '' };
  }

  function encodeTell(tell: TellWith | undefined): EncodedTell {
    if (!tell || !opts.tellWith) return { given: tell !== undefined, args: [''] };
    const { chain, render } = opts.tellWith;
    const event: AuditEvent = { ...tell.event, requestId: tell.request.id, workspace: tell.request.operation.workspace };
    const draft = chain.draft(event);
    const { channel, items } = render(tell.request, { ...tell.event, requestId: tell.request.id });
    const condition = (v: boolean | undefined) => (v === undefined ? '' : v ? '1' : '0');
    return {
      given: true,
      args: [
        '1',
        tell.ifApprovals === undefined ? '' : String(tell.ifApprovals),
        condition(tell.ifRecovering),
        tell.ifState ?? '',
        draft.expectedHead,
        ...draft.fields,
        channel,
        ...items.flatMap((i) => [i.requestId, i.kind, i.text]),
      ],
      draft,
      channel,
      event,
    };
  }

  /**
   * Whether the script recorded the event; the chain learns the head either way. Called before the
   * reply is decoded: an entry the script appended is the chain's head and has notices to deliver
   * even if the request it left cannot be read.
   */
  function settleTell(encoded: EncodedTell, told: string): boolean {
    if (!encoded.draft || !opts.tellWith) return false;
    if (told.startsWith('told ')) {
      opts.tellWith.chain.appended(encoded.draft, told.slice(5));
      if (encoded.channel && encoded.event) opts.tellWith.recorded?.(encoded.channel, encoded.event);
      return true;
    }
    if (told.startsWith('head ')) opts.tellWith.chain.headIs(told.slice(5));
    return false;
  }

  /**
   * Whether the request remembers the entry of the event given (its hash in told_recent): the script
   * ran and recorded exactly that entry, which the chain and the delivery then learn. Each entry is remembered on its own (the last TOLD_KEPT), so
   * an event another transition recorded after it (on any replica) changes nothing of the answer.
   */
  function keptTold(fields: Record<string, string>, encoded: EncodedTell): boolean {
    if (encoded.draft === undefined || !(fields['told_recent'] ?? '').split(' ').includes(encoded.draft.hash)) return false;
    settleTell(encoded, 'told (answer lost)');
    return true;
  }

  /** The request's hash read again after a script's answer was lost; the lost answer's error when Redis cannot answer that either. */
  async function readBack(id: string, lost: unknown): Promise<Record<string, string>> {
    try {
      // ioredis answers HGETALL as an object of field → value.
      return await redis.hgetall(`${prefix}req:${id}`);
    } catch {
      throw lost;
    }
  }

  /**
   * The answer to a script that was given an event was lost: if the request keeps that event's
   * marker, the script ran and recorded it, and the hash read now is its result. Otherwise the
   * original error stands (the caller's own confirmation then decides, and tells the event itself).
   */
  async function toldDespiteLostAnswer(id: string, encoded: EncodedTell, err: unknown): Promise<ApprovalRequest> {
    if (!encoded.draft || !(err instanceof StoreUnavailableError)) throw err;
    const fields = await readBack(id, err);
    if (!keptTold(fields, encoded)) throw err;
    return decodeRequest(id, fields);
  }

  function requestOf(id: string, reply: ScriptReply): ApprovalRequest {
    return decodeRequest(id, fieldsFromList(reply.snapshot));
  }

  function transition(id: string, reply: ScriptReply, encoded: EncodedTell): TransitionResult {
    if (reply.kind === 'not_found') return { kind: 'not_found' };
    const told = reply.kind === 'ok' && encoded.given ? { told: settleTell(encoded, reply.told) } : {};
    const request = requestOf(id, reply);
    if (reply.kind === 'ok') return { kind: 'ok', request, ...told };
    if (reply.kind === 'changed') return { kind: 'changed', request };
    return { kind: 'refused', request, why: reply.extra };
  }

  /**
   * A decision whose answer was lost (the connection dropped after Redis ran the script) is read back,
   * never resent: the script stamps `last_transition` with what it did, who and when, so finding our
   * own stamp means it happened and the hash read now is its result; finding the marker of the
   * event given with it (its hash in told_recent) means the event was recorded with it too. Anything else:
   * it did not happen (or cannot be told), and the original error stands. Only the script's answer
   * is read back: a reply that arrived but cannot be decoded is an error of its own.
   */
  async function decide(
    name: RequestScriptName,
    what: { kind: string; actor: string },
    id: string,
    now: number,
    tell: TellWith | undefined,
    ...args: string[]
  ): Promise<TransitionResult> {
    const encoded = encodeTell(tell);
    let reply: ScriptReply;
    try {
      reply = await run(name, id, now, ...args, ...encoded.args);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      const fields = await readBack(id, err);
      if (fields['last_transition'] !== `${what.kind} ${what.actor} ${now}`) throw err;
      const told = keptTold(fields, encoded);
      return { kind: 'ok', request: decodeRequest(id, fields), ...(encoded.given ? { told } : {}) };
    }
    return transition(id, reply, encoded);
  }

  let replicas = { count: 0, checkedAt: Number.NEGATIVE_INFINITY };
  /**
   * WAIT until one replica has this connection's writes, when the server has replicas (asked with
   * INFO, at most once a minute). Best effort and bounded: a replica that lags makes the write no
   * less done, and a takeover lists Intercom before it POSTs whatever Redis lost. Redis Cluster is
   * left out: WAIT there answers for one node, not for the key's.
   */
  async function onAReplica(): Promise<void> {
    if ('isCluster' in redis && redis.isCluster) return;
    const single = redis as Exclude<RedisClient, { isCluster: true }>;
    try {
      if (Date.now() - replicas.checkedAt > 60_000) {
        const info = await single.info('replication');
        replicas = { count: Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? '0'), checkedAt: Date.now() };
      }
      if (replicas.count > 0) await single.wait(1, REPLICA_WAIT_MS);
    } catch {
      // NOPERM (an ACL without +wait), a timeout: the write stands as it is.
    }
  }

  async function idsBelow(key: string, now: number): Promise<string[]> {
    try {
      return await redis.zrangebyscore(key, '-inf', String(now));
    } catch (err) {
      throw toStoreError(err, 'zrangebyscore');
    }
  }

  const workspace = (request: ApprovalRequest) => request.operation.workspace;
  function rotationKeyOf(request: ApprovalRequest, secretId: string | undefined): string | undefined {
    if (secretId === undefined) return undefined;
    return workspace(request) === opts.unqualifiedWorkspace ? secretId : `${workspace(request)}:${secretId}`;
  }

  /**
   * A rotation opened before IVS_CONFIG replaced the environment settings holds the first release's
   * `rotation:<id>`; it still blocks a second rotation of that secret in its own workspace. New ones
   * are never written under that key by a bot with IVS_CONFIG, so this read races with nothing.
   */
  async function legacyRotation(request: ApprovalRequest, secretId: string): Promise<string | undefined> {
    let holder: string | null;
    try {
      holder = await redis.get(`${prefix}rotation:${secretId}`);
      if (!holder) return undefined;
      const owner = await redis.hget(`${prefix}req:${holder}`, 'workspace');
      return owner === workspace(request) ? holder : undefined;
    } catch (err) {
      throw toStoreError(err, 'get');
    }
  }

  const store: RequestStore = {
    async create({ request, maxOpenPerRequester, rotationOf: secretId }) {
      if (request.state !== 'pending') throw new TypeError('a new request must be pending');
      const rotationOf = rotationKeyOf(request, secretId);
      if (secretId !== undefined && rotationOf !== secretId) {
        const existing = await legacyRotation(request, secretId);
        if (existing) return { kind: 'duplicate_rotation', existing };
      }
      const reply = await run(
        'ivsCreate',
        request.id,
        request.createdAt,
        String(maxOpenPerRequester),
        rotationOf ?? '',
        request.requester,
        String(request.createdAt),
        String(request.expiresAt),
        ...encodeNewRequest(request, rotationOf),
      );
      switch (reply.kind) {
        case 'created':
          return { kind: 'created', request: requestOf(request.id, reply) } satisfies CreateResult;
        case 'id_taken':
          return { kind: 'id_taken' };
        case 'duplicate_rotation':
          return { kind: 'duplicate_rotation', existing: reply.extra };
        case 'limit': {
          const open = Array.isArray(reply.snapshot) ? reply.snapshot.filter((x): x is string => typeof x === 'string') : [];
          return { kind: 'limit', open: open.sort() };
        }
        default:
          throw new StoreUnavailableError(`Redis answered create with ${reply.kind}`);
      }
    },

    async get(id) {
      const reply = await run('ivsGet', id, Date.now());
      return reply.kind === 'not_found' ? null : requestOf(id, reply);
    },

    async approve(id, user, now, seenStep, tell): Promise<ApproveResult> {
      const encoded = encodeTell(tell);
      let reply: ScriptReply;
      try {
        reply = await run('ivsApprove', id, now, user, String(now + claimGraceMs), seenStep, ...encoded.args);
      } catch (err) {
        const stored = await toldDespiteLostAnswer(id, encoded, err);
        return { kind: stored.state === 'pending' ? 'recorded' : 'approved', request: stored, told: true };
      }
      if (reply.kind === 'not_found') return { kind: 'not_found' };
      const told = reply.kind === 'recorded' || reply.kind === 'approved' ? settleTell(encoded, reply.told) : false;
      const request = requestOf(id, reply);
      switch (reply.kind) {
        case 'recorded':
        case 'approved':
          return { kind: reply.kind, request, told };
        case 'already_approved':
        case 'self':
        case 'not_pending':
        case 'expired':
        case 'changed':
          return { kind: reply.kind, request };
        default:
          throw new StoreUnavailableError(`Redis answered approve with ${reply.kind}`);
      }
    },

    async withdraw(id, user, now, seenStep, tell) {
      return decide('ivsWithdraw', { kind: 'withdrawn', actor: user }, id, now, tell, user, seenStep ?? '');
    },

    async reject(id, user, reason, now, seenStep, tell) {
      return decide('ivsReject', { kind: 'rejected', actor: user }, id, now, tell, user, reason, seenStep ?? '');
    },

    async cancel(id, user, now, tell) {
      return decide('ivsCancel', { kind: 'cancelled', actor: user }, id, now, tell, user);
    },

    async expire(id, now, tell) {
      return decide('ivsExpire', { kind: 'expired', actor: 'bot' }, id, now, tell);
    },

    async dueForExpiry(now) {
      return idsBelow(keys.pending, now);
    },

    async listOpen() {
      let ids: string[];
      try {
        ids = await redis.zrange(keys.open, '0', '-1');
      } catch (err) {
        throw toStoreError(err, 'zrange');
      }
      const requests = await Promise.all(ids.map((id) => store.get(id)));
      // A request that closed between the two reads is simply no longer open.
      return requests.filter((r): r is ApprovalRequest => r !== null && !isFinal(r.state));
    },

    async claim(id, owner, leaseMs, now, tell): Promise<ClaimResult> {
      const encoded = encodeTell(tell);
      const reply = await run('ivsClaim', id, now, owner, String(now + leaseMs), ...encoded.args);
      switch (reply.kind) {
        case 'not_found':
          return { kind: 'not_found' };
        case 'busy':
          return { kind: 'busy', holder: reply.extra, firstWait: Array.isArray(reply.snapshot) && reply.snapshot[0] === '1' };
        case 'not_claimable':
          return { kind: 'not_claimable', request: requestOf(id, reply) };
        case 'claimed': {
          const told = settleTell(encoded, reply.told);
          return { kind: 'claimed', request: requestOf(id, reply), recovering: reply.extra === '1', told };
        }
        default:
          throw new StoreUnavailableError(`Redis answered claim with ${reply.kind}`);
      }
    },

    async renewLease(id, owner, leaseMs, now) {
      const reply = await run('ivsRenewLease', id, now, owner, String(now + leaseMs));
      return reply.kind === 'ok';
    },

    async staleLeases(now) {
      return idsBelow(keys.leases, now);
    },

    async recordProgress(id, owner, progress, now, recordOpts) {
      const pairs = Object.entries(encodeProgress(progress)).flat();
      const reply = await run('ivsRecordProgress', id, now, owner, ...pairs);
      if (reply.kind === 'ok' && recordOpts?.replicated) await onAReplica();
      return reply.kind === 'ok';
    },

    async finish(id, owner, result, now, tell) {
      const rotation = result.rotation ? JSON.stringify(result.rotation) : '';
      const encoded = encodeTell(tell);
      let reply: ScriptReply;
      try {
        reply = await run('ivsFinish', id, now, owner, result.state, result.outcome, rotation, ...encoded.args);
      } catch (err) {
        // Finished and told, only the answer lost (whether someone waits is then left to the sweep).
        return { kind: 'ok', request: await toldDespiteLostAnswer(id, encoded, err), told: true };
      }
      const finished = transition(id, reply, encoded);
      return finished.kind === 'ok' && reply.extra === 'waiters' ? { ...finished, someoneWaits: true } : finished;
    },

    async startRetireStep(id, user, expiresAt, now, step, tell) {
      return decide('ivsStartRetireStep', { kind: 'finish_requested', actor: user }, id, now, tell, user, String(expiresAt), step.seen ?? '', step.retire);
    },

    async abandon(id, user, outcome, now, seenStep, tell) {
      return decide('ivsAbandon', { kind: 'abandoned', actor: user }, id, now, tell, user, outcome, seenStep ?? '');
    },
  };
  return store;
}
