import type { RedisClient } from './connection';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../core/errors';
import { decodeAuditEvent } from '../core/audit-events';
import type { AuditEvent, AuditLog, StoredAuditEntry } from '../core/ports';
import { GENESIS_HASH, chainHash, verifyChain } from './audit-chain';
import { toStoreError } from './store-error';

export interface RedisAuditLogOptions {
  /** Namespace of the keys, e.g. `ivs:`: the stream is `<prefix>audit`, its head `<prefix>audit:head`. */
  readonly keyPrefix: string;
  readonly logger: Logger;
  /** This process's view of the chain head, shared with the transitions that append entries themselves. */
  readonly chain?: AuditChain;
}

/** One entry, hashed onto the head this process last saw, ready for a script to append. */
export interface AuditEntryDraft {
  /** The head the entry was chained on ('' when none was seen): the script appends only onto it. */
  readonly expectedHead: string;
  /** requestId, type, actor, at, detail, prev, hash: what APPEND_LUA stores, in its order. */
  readonly fields: readonly string[];
  readonly hash: string;
  readonly stored: AuditEvent;
  readonly workspace: string | undefined;
}

/**
 * The chain head as this process knows it, shared by everything that appends entries (the audit log,
 * and a request transition that records its event in its own script, SPEC §8). Hashing stays in
 * Node (Redis' Lua has no SHA-256): an entry is hashed onto the head last seen, and the script
 * appends it only if that is still the head. A wrong guess costs a retry, never a fork of the chain.
 */
export interface AuditChain {
  draft(event: AuditEvent): AuditEntryDraft;
  /** The draft was appended as `entryId`: it is the head now. Logged as every entry is (`audit: true`). */
  appended(draft: AuditEntryDraft, entryId: string): void;
  /** The head is another one than guessed (someone else appended): the next draft chains onto it. */
  headIs(head: string): void;
}

export function createAuditChain(logger: Logger): AuditChain {
  let knownHead = '';
  return {
    draft(event) {
      checkDetail(event.detail);
      const { workspace, ...recorded } = event;
      const stored: AuditEvent = { ...recorded, actor: event.actor || undefined };
      const prev = knownHead === '' ? GENESIS_HASH : knownHead;
      const hash = chainHash(prev, stored);
      return {
        expectedHead: knownHead,
        fields: [stored.requestId, stored.type, stored.actor ?? '', String(stored.at), JSON.stringify(stored.detail), prev, hash],
        hash,
        stored,
        workspace,
      };
    },
    appended(draft, entryId) {
      knownHead = draft.hash;
      const { stored } = draft;
      logger.info(
        {
          audit: true,
          requestId: stored.requestId,
          workspace: draft.workspace,
          type: stored.type,
          actor: stored.actor,
          detail: stored.detail,
          entryId,
          hash: draft.hash,
        },
        `audit: ${stored.type}`,
      );
    },
    headIs(head) {
      knownHead = head;
    },
  };
}

/**
 * Appends only if the head is still the one the hash was computed from; otherwise answers the
 * current head so the caller can recompute and try again. Redis' Lua has no SHA-256, so hashing
 * stays in Node and Lua is the compare-and-append. Nothing trims the stream: it is the permanent record.
 */
export const APPEND_LUA = `
local head = redis.call('GET', KEYS[2])
if head == false then head = '' end
if head ~= ARGV[1] then return { 0, head } end
local id = redis.call('XADD', KEYS[1], '*', 'requestId', ARGV[2], 'type', ARGV[3], 'actor', ARGV[4],
  'at', ARGV[5], 'detail', ARGV[6], 'prev', ARGV[7], 'hash', ARGV[8])
redis.call('SET', KEYS[2], ARGV[8])
return { 1, id }
`;

const MAX_APPEND_ATTEMPTS = 50;
const PAGE = 500;

type AppendFn = (stream: string, head: string, ...args: string[]) => Promise<unknown>;

export function createRedisAuditLog(redis: RedisClient, opts: RedisAuditLogOptions): AuditLog {
  const streamKey = `${opts.keyPrefix}audit`;
  const headKey = `${opts.keyPrefix}audit:head`;
  redis.defineCommand('ivsAuditAppend', { lua: APPEND_LUA, numberOfKeys: 2 });
  const append = (redis as unknown as { ivsAuditAppend: AppendFn }).ivsAuditAppend.bind(redis);
  const chain = opts.chain ?? createAuditChain(opts.logger);

  return {
    async append(event) {
      for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
        const draft = chain.draft(event);
        let reply: unknown;
        try {
          reply = await append(streamKey, headKey, draft.expectedHead, ...draft.fields);
        } catch (err) {
          throw toStoreError(err, 'audit append');
        }
        if (!Array.isArray(reply) || typeof reply[1] !== 'string') {
          throw new StoreUnavailableError('Redis answered the audit append with an unexpected reply');
        }
        if (Number(reply[0]) === 1) {
          chain.appended(draft, reply[1]);
          return;
        }
        chain.headIs(reply[1]);
      }
      throw new StoreUnavailableError('the audit chain head kept moving; the event was not appended');
    },

    async history(id) {
      let head: string;
      let newestAtHead: { entryId: string; hash: string | undefined } | undefined;
      const all: (StoredAuditEntry | { entryId: string; malformed: string })[] = [];
      try {
        // The head and the first page in one transaction, so an append racing with this read cannot
        // look like a cut-off chain; entries appended later land after the head and change nothing.
        // The newest entry is read in the same transaction: the append script moves the head with
        // every entry it adds, so at any instant the head is the newest entry's hash. An entry added
        // behind the script's back (a forged tail with a valid prev/hash) shows as a newest entry
        // that is not the head.
        const first = await redis.multi().get(headKey).xrevrange(streamKey, '+', '-', 'COUNT', 1).xrange(streamKey, '-', '+', 'COUNT', PAGE).exec();
        const [headReply, newestReply, firstPage] = first ?? [];
        if (!headReply || !newestReply || !firstPage || headReply[0] || newestReply[0] || firstPage[0]) {
          throw headReply?.[0] ?? newestReply?.[0] ?? firstPage?.[0] ?? new Error('transaction aborted');
        }
        head = typeof headReply[1] === 'string' ? headReply[1] : '';
        const newest = (newestReply[1] as [string, string[]][])[0];
        if (newest) newestAtHead = { entryId: newest[0], hash: fieldOf(newest[1], 'hash') };
        let page = firstPage[1] as [string, string[]][];
        for (;;) {
          for (const [entryId, flat] of page) all.push(parseEntry(entryId, flat));
          const last = page[page.length - 1];
          if (page.length < PAGE || !last) break;
          page = await redis.xrange(streamKey, `(${last[0]}`, '+', 'COUNT', PAGE);
        }
      } catch (err) {
        throw toStoreError(err, 'audit history');
      }
      let chain = verifyChain(all, head);
      if (chain.ok && newestAtHead && newestAtHead.hash !== head) {
        chain = { ok: false, brokenAt: newestAtHead.entryId, why: "the newest entry is not the chain head (it was added behind the bot's back)" };
      }
      const entries = all.filter((e): e is StoredAuditEntry => !('malformed' in e) && e.requestId === id);
      return { entries, chain };
    },
  };
}

function fieldOf(flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

function checkDetail(detail: AuditEvent['detail']): void {
  for (const [k, v] of Object.entries(detail)) {
    // NaN or Infinity would be stored as null and the entry could never verify again.
    if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError(`audit detail ${k} is not a finite number`);
  }
}

/**
 * Decoding is the trust boundary: a stream entry becomes one of the events the readers know, or,
 * when its type or detail is not one this bot writes (a newer bot's, an older one's, an edit), an
 * unreadable entry that still verifies in the chain (its hash covers the fields as stored) and is
 * shown as stored. Only an entry whose fields cannot be hashed as any bot writes them (missing
 * fields, a detail that is not JSON) is malformed, and breaks the chain.
 */
function parseEntry(entryId: string, flat: readonly string[]): StoredAuditEntry | { entryId: string; malformed: string } {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
  const { requestId, type, actor, at, detail, prev, hash } = f;
  if (requestId === undefined || type === undefined || at === undefined || detail === undefined || prev === undefined || hash === undefined) {
    return { entryId, malformed: 'missing fields' };
  }
  let parsedDetail: unknown;
  try {
    parsedDetail = JSON.parse(detail);
  } catch {
    return { entryId, malformed: 'detail is not JSON' };
  }
  const stored = { requestId, type, at: Number(at), detail: parsedDetail, ...(actor ? { actor } : {}) };
  const decoded = decodeAuditEvent(stored);
  if (decoded.ok) return { ...decoded.event, entryId, prevHash: prev, hash };
  const { type: storedType, ...rest } = stored;
  return { ...rest, storedType, entryId, prevHash: prev, hash, unreadable: decoded.why };
}
