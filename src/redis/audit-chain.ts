import { createHash } from 'node:crypto';
import type { StoredAuditEntry } from '../core/ports';

/** The `prev` of the very first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fields the hash covers, as stored: any event to append, and any entry read back, known to this
 * bot or not (so an entry of a type it does not know still verifies).
 */
export interface HashedFields {
  readonly requestId: string;
  readonly type: string;
  readonly actor?: string | undefined;
  readonly at: number;
  readonly detail: unknown;
}

/** The part of an event the hash covers. */
export function hashedEvent(event: HashedFields): Record<string, unknown> {
  return { requestId: event.requestId, type: event.type, actor: event.actor, at: event.at, detail: event.detail };
}

/** An entry read back, with the type as stored (an unreadable entry keeps it apart from `type`). */
function storedFields(entry: StoredAuditEntry): HashedFields {
  return 'unreadable' in entry ? { ...entry, type: entry.storedType } : entry;
}

export function chainHash(prev: string, event: HashedFields): string {
  return createHash('sha256')
    .update(prev + canonicalJson(hashedEvent(event)))
    .digest('hex');
}

export type ChainVerdict = { ok: true } | { ok: false; brokenAt: string; why: string };

/**
 * Walks the stream in order: every entry must link to the hash of the one before and hash to what it
 * says, and the stored head must be one of the chain's hashes (else entries were cut off the end).
 */
export function verifyChain(entries: readonly (StoredAuditEntry | { entryId: string; malformed: string })[], head: string): ChainVerdict {
  let expectedPrev = GENESIS_HASH;
  // No head with entries present means the head key was removed: as suspicious as a cut-off tail.
  let headSeen = head === '' && entries.length === 0;
  for (const entry of entries) {
    if ('malformed' in entry) return { ok: false, brokenAt: entry.entryId, why: `malformed entry: ${entry.malformed}` };
    if (entry.prevHash !== expectedPrev) {
      return { ok: false, brokenAt: entry.entryId, why: 'prev does not match the hash of the entry before it (an entry was removed or inserted)' };
    }
    if (chainHash(entry.prevHash, storedFields(entry)) !== entry.hash) {
      return { ok: false, brokenAt: entry.entryId, why: 'hash does not match the entry content (the entry was altered)' };
    }
    if (entry.hash === head) headSeen = true;
    expectedPrev = entry.hash;
  }
  if (!headSeen) {
    const last = entries[entries.length - 1];
    return { ok: false, brokenAt: last ? last.entryId : 'head', why: 'the newest entries are missing (the stored chain head is not in the stream)' };
  }
  return { ok: true };
}
