import type { ApprovalRequest } from '../src/core/request';
import { isFinal } from '../src/core/request';
import { findLeaks, materialForms } from '../test/support/leak-canary';
import { eventTypeOfReply } from './thread-events';

/**
 * What the drill sees from outside once everything has settled: Intercom's, Vault's and Slack's
 * recorded state, what Redis holds, and everything anyone could read. The checks below are pure
 * functions of it, so test/drill/invariants.test.ts can hand them a fabricated world.
 */
export interface Snapshot {
  /** Every secret Intercom ever held, deleted ones included, with its material. */
  readonly intercom: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly platforms: readonly string[];
    readonly createdAt: number;
    readonly material: string;
    readonly deleted: boolean;
  }>;
  /** Secrets that existed before the drill: no request created them. */
  readonly seededIds: ReadonlySet<string>;
  /** Vault's `secrets/<id>` entries: the newest version's material, and whether it is soft-deleted. */
  readonly vaultSecrets: ReadonlyMap<string, { readonly material: string | undefined; readonly deleted: boolean }>;
  /** Vault's `current/<platform>`: the id and material it hands out, or null when absent or deleted. */
  readonly vaultCurrent: Readonly<Record<string, { readonly id: string; readonly material: string | undefined } | null>>;
  readonly requests: ReadonlyArray<{ readonly request: ApprovalRequest; readonly leaseOwner: string | undefined }>;
  /** Members of the lease set. */
  readonly leases: readonly string[];
  /** Channels with undelivered Slack notices. */
  readonly outboxDue: number;
  /** The audit chain's verdict over the whole stream. */
  readonly chain: { readonly ok: true } | { readonly ok: false; readonly why: string };
  /** Audit entries by request id, in stream order. */
  readonly audit: ReadonlyMap<string, readonly AuditedEvent[]>;
  /** Thread replies under each request's card, oldest first (their current text); absent when no card was posted. */
  readonly threads: ReadonlyMap<string, readonly string[]>;
  /** Every material anyone ever minted (what must be nowhere readable). */
  readonly materials: readonly string[];
  /** Where to look for it: name → everything that place holds (logs, Redis dump, Slack traffic, HTTP answers, metrics). */
  readonly haystacks: Readonly<Record<string, string>>;
}

/** One audit entry of a request: its type and when it happened (ms, the teller's clock). */
export interface AuditedEvent {
  readonly type: string;
  readonly at: number;
}

/**
 * Events of one request closer together than this happened "at the same moment" (two approvals on
 * two replicas, an approval and a waiting note): either order of them is their order.
 */
export const SAME_MOMENT_MS = 1_000;

export const INVARIANTS = [
  '1. one Intercom create per request, none without a request',
  '2. every active created secret has its material in Vault (or an open orphan delete)',
  '3. current/<platform> holds the newest active secret with material',
  '4. every request final, none executing, no lease held',
  '5. audit chain verifies; each thread holds every event, in order',
  '6. no material in logs, Redis, Slack, HTTP answers or metrics',
] as const;

export type Violations = ReadonlyArray<readonly string[]>;

const TAG = /\[(R-[0-9A-Z]{6})\]\s*$/;

/** The request id a secret's name carries (`Drill 7 [R-7F3K2Q]`), if any. */
export function requestTagOf(name: string): string | undefined {
  return TAG.exec(name)?.[1];
}

/** Each invariant's violations, in INVARIANTS order; each entry says what is wrong in one line. */
export function checkInvariants(s: Snapshot): Violations {
  return [oneCreatePerRequest(s), materialInVault(s), currentPointers(s), everythingFinal(s), auditAndThreads(s), noLeaks(s)];
}

function oneCreatePerRequest(s: Snapshot): string[] {
  const out: string[] = [];
  const known = new Set(s.requests.map((r) => r.request.id));
  const byTag = new Map<string, string[]>();
  for (const secret of s.intercom) {
    if (s.seededIds.has(secret.id)) continue;
    const tag = requestTagOf(secret.name);
    if (!tag) {
      out.push(`Intercom secret ${secret.id} ("${secret.name}") carries no request id`);
      continue;
    }
    if (!known.has(tag)) out.push(`Intercom secret ${secret.id} names ${tag}, which Redis does not know`);
    byTag.set(tag, [...(byTag.get(tag) ?? []), secret.id]);
  }
  for (const [tag, ids] of byTag) if (ids.length > 1) out.push(`${tag} caused ${ids.length} Intercom creates (${ids.join(', ')})`);
  return out;
}

function materialInVault(s: Snapshot): string[] {
  const out: string[] = [];
  for (const secret of s.intercom) {
    if (secret.deleted || s.seededIds.has(secret.id)) continue;
    const stored = s.vaultSecrets.get(secret.id);
    if (stored && !stored.deleted && stored.material === secret.material) continue;
    const origin = requestTagOf(secret.name);
    const openDelete = s.requests.some(({ request: r }) => !isFinal(r.state) && r.operation.action === 'delete' && r.operation.secretId === secret.id);
    const told = origin !== undefined && (s.threads.get(origin) ?? []).some((t) => eventTypeOfReply(t) === 'orphan' && t.includes(secret.id));
    if (openDelete && told) continue;
    const what = !stored ? 'no Vault entry' : stored.deleted ? 'its Vault entry is deleted' : 'Vault holds other material';
    out.push(`active Intercom secret ${secret.id} (${origin ?? 'no request'}): ${what}, and no open orphan delete${told ? '' : ' nor a thread saying so'}`);
  }
  return out;
}

function currentPointers(s: Snapshot): string[] {
  const out: string[] = [];
  const withMaterial = s.intercom.filter((x) => {
    if (x.deleted) return false;
    const v = s.vaultSecrets.get(x.id);
    return v !== undefined && !v.deleted && v.material === x.material;
  });
  for (const platform of ['web', 'ios', 'android']) {
    let want: (typeof withMaterial)[number] | undefined;
    for (const x of withMaterial) {
      if (!x.platforms.includes(platform)) continue;
      if (!want || x.createdAt > want.createdAt || (x.createdAt === want.createdAt && Number(x.id) > Number(want.id))) want = x;
    }
    const have = s.vaultCurrent[platform] ?? null;
    if (!want) {
      if (have) out.push(`current/${platform} hands out ${have.id}, but no active ${platform} secret has material`);
      continue;
    }
    if (!have) out.push(`current/${platform} is empty, but ${want.id} is the newest active ${platform} secret with material`);
    else if (have.id !== want.id) out.push(`current/${platform} hands out ${have.id}, not the newest active one with material, ${want.id}`);
    else if (have.material !== want.material) out.push(`current/${platform} names ${want.id} but holds other material`);
  }
  return out;
}

function everythingFinal(s: Snapshot): string[] {
  const out: string[] = [];
  for (const { request, leaseOwner } of s.requests) {
    if (!isFinal(request.state)) out.push(`${request.id} (${request.operation.action}) is ${request.state}`);
    if (leaseOwner) out.push(`${request.id} still names lease owner ${leaseOwner}`);
  }
  for (const id of s.leases) out.push(`lease set still holds ${id}`);
  return out;
}

/** The event that tells each final state (an abandoned rotation ends succeeded: both secrets kept). */
const FINAL_EVENTS: Partial<Record<string, readonly string[]>> = {
  succeeded: ['succeeded', 'abandoned'],
  failed: ['failed'],
  rejected: ['rejected'],
  cancelled: ['cancelled'],
  expired: ['expired'],
};

function auditAndThreads(s: Snapshot): string[] {
  const out: string[] = [];
  if (!s.chain.ok) out.push(`audit chain does not verify: ${s.chain.why}`);
  if (s.outboxDue > 0) out.push(`${s.outboxDue} channel(s) still hold undelivered Slack notices`);
  for (const { request } of s.requests) {
    const events = s.audit.get(request.id) ?? [];
    const types = events.map((e) => e.type);
    if (types[0] !== 'requested') out.push(`${request.id}: the audit stream does not start with "requested" (${types.join(', ') || 'no entries'})`);
    // An event lost from both the stream and the thread would look consistent; the final state says what must be there.
    const ending = FINAL_EVENTS[request.state];
    if (ending && !types.some((t) => ending.includes(t)))
      out.push(`${request.id} is ${request.state}, but the audit stream has no ${ending.join(' or ')} event`);
    const thread = s.threads.get(request.id);
    if (!thread) {
      out.push(`${request.id}: no card in the channel`);
      continue;
    }
    const told = thread.map((t) => eventTypeOfReply(t) ?? `unrecognised reply "${t.slice(0, 40)}"`);
    const problem = threadOrderProblem(told, events);
    if (problem) out.push(`${request.id}: ${problem}: thread tells [${told.join(', ')}], audit has [${types.join(', ')}]`);
  }
  return out;
}

/**
 * Whether the thread tells exactly the audited events (none missing, none twice) in the order they
 * happened: each reply is matched to the earliest unmatched entry of its type, and no reply may tell
 * an event that happened (SAME_MOMENT_MS or more) before one told above it. The stream's own order
 * is not the measure: two replicas telling at once may append in either order (see auditOutOfOrder).
 */
export function threadOrderProblem(told: readonly string[], events: readonly AuditedEvent[]): string | undefined {
  const byTime = events.map((e, i) => ({ ...e, i })).sort((a, b) => a.at - b.at || a.i - b.i);
  const used = new Set<number>();
  let latest = Number.NEGATIVE_INFINITY;
  for (const type of told) {
    const match = byTime.find((e) => e.type === type && !used.has(e.i));
    if (!match) return `a "${type}" reply the audit stream does not have`;
    used.add(match.i);
    if (match.at < latest - SAME_MOMENT_MS) return `a "${type}" reply out of order`;
    latest = Math.max(latest, match.at);
  }
  const missing = events.filter((_, i) => !used.has(i)).map((e) => e.type);
  return missing.length ? `the thread misses ${missing.join(', ')}` : undefined;
}

/** Entries appended after an entry of the same request that happened later (SAME_MOMENT_MS or more): a note, not an invariant. */
export function auditOutOfOrder(s: Pick<Snapshot, 'audit'>): number {
  let n = 0;
  for (const events of s.audit.values()) {
    let latest = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      if (e.at < latest - SAME_MOMENT_MS) n += 1;
      latest = Math.max(latest, e.at);
    }
  }
  return n;
}

function noLeaks(s: Snapshot): string[] {
  return findLeaks(materialForms(s.materials), s.haystacks);
}

/** Requests by action and state (`create succeeded`, `rotate cancelled`, …). */
export function outcomes(s: Pick<Snapshot, 'requests'>): Map<string, number> {
  const out = new Map<string, number>();
  for (const { request } of s.requests) {
    const key = `${request.operation.action} ${request.state}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}
