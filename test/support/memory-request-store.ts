import type { ApproveResult, AuditEvent, ClaimResult, CreateResult, RequestStore, TellWith, TransitionResult } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { isFinal } from '../../src/core/request';
import { decodeRequest, encodeNewRequest, encodeProgress } from '../../src/redis/request-codec';

/**
 * The RequestStore in memory, for tests that decide in milliseconds what the Redis store decides
 * over the network. It is a line-by-line port of the Lua in src/redis/request-scripts.ts over the
 * same hash fields (encoded and decoded by the same codec), and test/redis/request-store-contract.ts
 * runs one suite against both, so "behaves like Redis" is checked, not hoped. Test-only: production
 * always has Redis, and the sandbox runs a real redis-server.
 *
 * Every method runs synchronously to its end before its promise settles, so each transition is as
 * atomic as a Lua script: two "replicas" (two stores over one MemoryStoreData) race exactly as two
 * connections to one Redis do.
 */

type Hash = Map<string, string>;

/** A sorted set: members by score, read in (score, member) order as Redis does. */
class SortedSet {
  private readonly scores = new Map<string, number>();
  add(member: string, score: number): void {
    this.scores.set(member, score);
  }
  remove(member: string): void {
    this.scores.delete(member);
  }
  score(member: string): number | undefined {
    return this.scores.get(member);
  }
  /** Every member with score ≤ max, lowest first (ZRANGEBYSCORE -inf max). */
  upTo(max: number): string[] {
    return this.ordered().filter((m) => (this.scores.get(m) ?? 0) <= max);
  }
  /** ZRANGE 0 -1. */
  ordered(): string[] {
    return [...this.scores.entries()].sort(([a, sa], [b, sb]) => sa - sb || (a < b ? -1 : a > b ? 1 : 0)).map(([m]) => m);
  }
}

/** A card post the store recorded with the request (what `outbox_push` writes in Redis). */
export interface RecordedCardPost {
  readonly channel: string;
  readonly requestId: string;
  readonly kind: 'card';
  readonly at: number;
}

/** Where the store records its card posts: a MemoryOutbox, or anything that keeps them. */
export interface CardPostSink {
  recordCardPost(post: RecordedCardPost): void;
}

/**
 * Where the transitions record the event they are given (TellWith), in their own step: its audit
 * entry, then its notices (the card update and the reply), as the Redis scripts' tell_with does.
 */
export interface ToldEventSink {
  recordTold(request: ApprovalRequest, event: AuditEvent): void;
}

/** What one Redis holds for the store: share one between two stores to have two replicas. */
export class MemoryStoreData {
  readonly hashes = new Map<string, Hash>();
  /** When a final request's hash is dropped (PEXPIRE), in wall-clock ms. */
  readonly dropAt = new Map<string, number>();
  readonly open = new SortedSet();
  readonly pending = new SortedSet();
  readonly leases = new SortedSet();
  readonly requesters = new Map<string, Set<string>>();
  readonly inflight = new Map<string, string>();
  readonly waiting = new Map<string, Set<string>>();
  /** `rotation:<key>` → the request holding it. */
  readonly rotations = new Map<string, string>();
  /** Card posts recorded by create when no sink was given. */
  readonly cardPosts: RecordedCardPost[] = [];

  constructor(private readonly wallNow: () => number = Date.now) {}

  /** The request's hash, unless it expired (Redis drops it lazily too). */
  hash(id: string): Hash | undefined {
    const drop = this.dropAt.get(id);
    if (drop !== undefined && drop <= this.wallNow()) {
      this.hashes.delete(id);
      this.dropAt.delete(id);
    }
    return this.hashes.get(id);
  }

  /** How long a final request's hash stays (PTTL): -1 when it has no expiry, -2 when it is gone. */
  ttlMs(id: string): number {
    if (!this.hash(id)) return -2;
    const drop = this.dropAt.get(id);
    return drop === undefined ? -1 : drop - this.wallNow();
  }

  setOf(map: Map<string, Set<string>>, key: string): Set<string> {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    return set;
  }

  get now(): number {
    return this.wallNow();
  }
}

export interface MemoryRequestStoreOptions {
  /** As RedisRequestStoreOptions. */
  readonly finalTtlMs?: number;
  readonly claimGraceMs?: number;
  readonly unqualifiedWorkspace?: string;
  /** The "Redis" this store talks to; a fresh one by default. */
  readonly data?: MemoryStoreData;
  /** Where create records the card post (a MemoryOutbox); by default `data.cardPosts`. */
  readonly outbox?: CardPostSink;
  /** Lets the transitions record the event they are given; without it every TellWith is declined (as in Redis). */
  readonly tellWith?: ToldEventSink;
}

const DAY_MS = 24 * 60 * 60 * 1000;

type Reply = { kind: string; extra?: string; request?: ApprovalRequest };

export function createMemoryRequestStore(opts: MemoryRequestStoreOptions = {}): RequestStore & { readonly data: MemoryStoreData } {
  const data = opts.data ?? new MemoryStoreData();
  const finalTtl = opts.finalTtlMs ?? 30 * DAY_MS;
  const claimGraceMs = opts.claimGraceMs ?? 15_000;
  const recordCardPost = (post: RecordedCardPost) => (opts.outbox ? opts.outbox.recordCardPost(post) : data.cardPosts.push(post));

  /**
   * tell_with: records the event in the transition's own step (called once the transition changed
   * the hash) when one is given, the store is wired and the conditions hold. (Redis also declines
   * when another audit entry came first: this store's audit record has no chain head to race for.)
   */
  function tellWith(tell: TellWith | undefined, s: Script, recovering?: boolean): boolean {
    if (!tell || !opts.tellWith) return false;
    if (tell.ifApprovals !== undefined && tell.ifApprovals !== s.approvals().length) return false;
    if (tell.ifRecovering !== undefined && tell.ifRecovering !== recovering) return false;
    if (tell.ifState !== undefined && tell.ifState !== s.field('state')) return false;
    opts.tellWith.recordTold(tell.request, { ...tell.event, requestId: tell.request.id, workspace: tell.request.operation.workspace });
    return true;
  }

  /** The preamble of every script but create: the request's hash and its helpers. */
  function script(id: string, now: number, body: (s: Script) => Reply): Reply {
    const hash = data.hash(id);
    if (!hash) return { kind: 'not_found' };
    return body(new Script(data, id, hash, now, finalTtl));
  }

  /** `told`: whether the TellWith given (if any) was recorded. */
  function transition(reply: Reply, tell?: TellWith, told = false): TransitionResult {
    if (reply.kind === 'not_found' || !reply.request) return { kind: 'not_found' };
    if (reply.kind === 'ok') return { kind: 'ok', request: reply.request, ...(tell ? { told } : {}) };
    if (reply.kind === 'changed') return { kind: 'changed', request: reply.request };
    return { kind: 'refused', request: reply.request, why: reply.extra ?? '' };
  }

  const workspace = (request: ApprovalRequest) => request.operation.workspace;
  function rotationKeyOf(request: ApprovalRequest, secretId: string | undefined): string | undefined {
    if (secretId === undefined) return undefined;
    return workspace(request) === opts.unqualifiedWorkspace ? secretId : `${workspace(request)}:${secretId}`;
  }

  function legacyRotation(request: ApprovalRequest, secretId: string): string | undefined {
    const holder = data.rotations.get(secretId);
    if (!holder) return undefined;
    return data.hash(holder)?.get('workspace') === workspace(request) ? holder : undefined;
  }

  const store: RequestStore = {
    async create({ request, maxOpenPerRequester, rotationOf: secretId }): Promise<CreateResult> {
      if (request.state !== 'pending') throw new TypeError('a new request must be pending');
      const rotationOf = rotationKeyOf(request, secretId);
      if (secretId !== undefined && rotationOf !== secretId) {
        const existing = legacyRotation(request, secretId);
        if (existing) return { kind: 'duplicate_rotation', existing };
      }
      const id = request.id;
      if (data.hash(id)) return { kind: 'id_taken' };
      if (rotationOf) {
        const existing = data.rotations.get(rotationOf);
        if (existing) return { kind: 'duplicate_rotation', existing };
      }
      const mine = data.setOf(data.requesters, request.requester);
      if (mine.size >= maxOpenPerRequester) return { kind: 'limit', open: [...mine].sort() };
      const fields = encodeNewRequest(request, rotationOf);
      const hash: Hash = new Map();
      for (let i = 0; i + 1 < fields.length; i += 2) hash.set(fields[i] as string, fields[i + 1] as string);
      data.hashes.set(id, hash);
      data.open.add(id, request.createdAt);
      // An orphan's delete request does not expire (SPEC §4): it never enters the expiry index, nor
      // takes one of its requester's open-request slots (the bot opened it).
      if (!hash.get('orphan_of')) {
        data.pending.add(id, request.expiresAt);
        mine.add(id);
      }
      if (rotationOf) data.rotations.set(rotationOf, id);
      // Its card post is recorded with it (SPEC §8), as the Redis create pushes it onto the outbox.
      recordCardPost({ channel: request.channel, requestId: id, kind: 'card', at: request.createdAt });
      return { kind: 'created', request: snapshot(id, hash) };
    },

    async get(id) {
      const hash = data.hash(id);
      return hash ? snapshot(id, hash) : null;
    },

    async approve(id, user, now, seenStep, tell): Promise<ApproveResult> {
      let told = false;
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'pending') return s.reply('not_pending');
        if (seenStep === '' || s.sawAnotherStep(seenStep)) return s.reply('changed');
        if (s.field('orphan_of') === '' && Number(s.field('expires_at')) <= now) return s.reply('expired');
        if (user === s.field('requester') || user === s.field('finish_requested_by')) return s.reply('self');
        if (s.hasApproved(user)) return s.reply('already_approved');
        const approvals = s.field('approvals') === '' ? user : `${s.field('approvals')} ${user}`;
        s.set({ approvals, updated_at: String(now) });
        const count = s.approvals().length;
        if (count < Number(s.field('approvals_required'))) {
          told = tellWith(tell, s);
          return s.reply('recorded');
        }
        const leaseUntil = now + claimGraceMs;
        s.set({ state: 'approved', lease_owner: '', lease_until: String(leaseUntil) });
        data.pending.remove(id);
        data.leases.add(id, leaseUntil);
        told = tellWith(tell, s);
        return s.reply('approved');
      });
      if (reply.kind === 'not_found' || !reply.request) return { kind: 'not_found' };
      if (reply.kind === 'recorded' || reply.kind === 'approved') return { kind: reply.kind, request: reply.request, told };
      return { kind: reply.kind as Exclude<ApproveResult['kind'], 'not_found' | 'recorded' | 'approved'>, request: reply.request };
    },

    async withdraw(id, user, now, seenStep, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'pending') return s.reply('refused', 'the request is no longer pending');
        if (s.sawAnotherStep(seenStep ?? '')) return s.reply('changed');
        if (!s.hasApproved(user)) return s.reply('refused', 'you have not approved this request');
        s.set({
          approvals: s
            .approvals()
            .filter((a) => a !== user)
            .join(' '),
          updated_at: String(now),
        });
        s.stamp('withdrawn', user);
        told = tellWith(tell, s);
        return s.reply('ok');
      });
      return transition(reply, tell, told);
    },

    async reject(id, user, reason, now, seenStep, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'pending') return s.reply('refused', 'the request is no longer pending');
        if (s.sawAnotherStep(seenStep ?? '')) return s.reply('changed');
        s.stamp('rejected', user);
        if (s.field('rotation_step') === 'retire') {
          s.backToFinish();
        } else {
          s.set({ rejection_by: user, rejection_reason: reason });
          s.close('rejected');
        }
        told = tellWith(tell, s);
        return s.reply('ok');
      });
      return transition(reply, tell, told);
    },

    async cancel(id, user, now, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        const state = s.field('state');
        if (state !== 'pending' && state !== 'approved' && state !== 'awaiting_finish') {
          return s.reply('refused', `it is ${state}: only a request that has not started executing (or a rotation waiting to finish) can be cancelled`);
        }
        if (user !== s.field('requester')) return s.reply('refused', 'only the requester can cancel');
        s.set({ cancelled_by: user });
        s.stamp('cancelled', user);
        s.close('cancelled');
        told = tellWith(tell, s);
        return s.reply('ok');
      });
      return transition(reply, tell, told);
    },

    async expire(id, now, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'pending') return s.reply('refused', 'the request is no longer pending');
        if (s.field('orphan_of') !== '') return s.reply('refused', 'the delete request of an orphan does not expire');
        if (Number(s.field('expires_at')) > now) return s.reply('refused', 'the request has not expired yet');
        s.stamp('expired', 'bot');
        if (s.field('rotation_step') === 'retire') s.backToFinish();
        else s.close('expired');
        told = tellWith(tell, s);
        return s.reply('ok');
      });
      return transition(reply, tell, told);
    },

    async dueForExpiry(now) {
      return data.pending.upTo(now);
    },

    async listOpen() {
      const requests = await Promise.all(data.open.ordered().map((id) => store.get(id)));
      return requests.filter((r): r is ApprovalRequest => r !== null && !isFinal(r.state));
    },

    async claim(id, owner, leaseMs, now, tell): Promise<ClaimResult> {
      let busy: { holder: string; firstWait: boolean } | undefined;
      let told = false;
      const reply = script(id, now, (s) => {
        const state = s.field('state');
        const leaseUntil = Number(s.field('lease_until')) || 0;
        let recovering: boolean;
        if (state === 'approved') {
          recovering = leaseUntil <= now && s.field('waiting_for') === '';
        } else if (state === 'executing') {
          if (leaseUntil > now) return s.reply('not_claimable');
          recovering = true;
        } else {
          return s.reply('not_claimable');
        }
        const ws = s.field('workspace');
        const holder = data.inflight.get(ws);
        if (holder !== undefined && holder !== id && data.hash(holder)?.get('state') === 'executing') {
          const first = s.field('waiting_for') !== holder;
          s.set({ waiting_for: holder, lease_until: String(now) });
          data.leases.add(id, now);
          data.setOf(data.waiting, ws).add(id);
          busy = { holder, firstWait: first };
          return { kind: 'busy' };
        }
        data.inflight.set(ws, id);
        s.del('waiting_for');
        data.waiting.get(ws)?.delete(id);
        const until = now + leaseMs;
        s.set({ state: 'executing', lease_owner: owner, lease_until: String(until), updated_at: String(now) });
        data.leases.add(id, until);
        told = tellWith(tell, s, recovering);
        if (recovering) {
          s.set({ 'progress.takeovers': String((Number.parseInt(s.field('progress.takeovers'), 10) || 0) + 1) });
          return s.reply('claimed', '1');
        }
        return s.reply('claimed', '0');
      });
      if (busy) return { kind: 'busy', ...busy };
      if (reply.kind === 'not_found' || !reply.request) return { kind: 'not_found' };
      if (reply.kind === 'not_claimable') return { kind: 'not_claimable', request: reply.request };
      return { kind: 'claimed', request: reply.request, recovering: reply.extra === '1', told };
    },

    async renewLease(id, owner, leaseMs, now) {
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'executing' || s.field('lease_owner') !== owner) return s.reply('refused');
        if (Number(s.field('lease_until')) < now) return s.reply('refused');
        s.set({ lease_until: String(now + leaseMs) });
        data.leases.add(id, now + leaseMs);
        return s.reply('ok');
      });
      return reply.kind === 'ok';
    },

    async staleLeases(now) {
      return data.leases.upTo(now);
    },

    async recordProgress(id, owner, progress, now) {
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'executing' || s.field('lease_owner') !== owner) return s.reply('refused');
        if (Number(s.field('lease_until')) < now) return s.reply('refused');
        s.set(encodeProgress(progress));
        return s.reply('ok');
      });
      return reply.kind === 'ok';
    },

    async finish(id, owner, result, now, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        let to: string = result.state;
        if (s.field('state') !== 'executing') return s.reply('refused', 'the request is not executing');
        if (s.field('lease_owner') !== owner) return s.reply('refused', 'another replica holds the lease');
        if (to === 'failed' && s.field('rotation_step') === 'retire') {
          to = 'awaiting_finish';
          s.set({ approvals: '' });
          s.del('rotation_step', 'finish_requested_by', 'retire_fingerprint');
        }
        if (to === 'awaiting_finish' && s.field('action') !== 'rotate') return s.reply('refused', 'only a rotation can wait to finish');
        s.set({ outcome: result.outcome });
        if (result.rotation) {
          s.set({ rotation: JSON.stringify(result.rotation) });
          s.del('rotation_step', 'finish_requested_by');
        }
        if (to === 'awaiting_finish') {
          s.set({ state: to, lease_owner: '', lease_until: '0', updated_at: String(now) });
          data.leases.remove(id);
          s.releaseSlot();
        } else {
          s.close(to);
        }
        told = tellWith(tell, s);
        return s.someoneWaits() ? s.reply('ok', 'waiters') : s.reply('ok');
      });
      const finished = transition(reply, tell, told);
      return finished.kind === 'ok' && reply.extra === 'waiters' ? { ...finished, someoneWaits: true } : finished;
    },

    async startRetireStep(id, user, expiresAt, now, step, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'awaiting_finish') return s.reply('refused', 'the rotation is not waiting to finish');
        if (s.sawAnotherStep(step.seen ?? '')) return s.reply('changed');
        s.set({
          state: 'pending',
          approvals: '',
          expires_at: String(expiresAt),
          updated_at: String(now),
          rotation_step: 'retire',
          finish_requested_by: user,
          retire_fingerprint: step.retire,
        });
        s.stamp('finish_requested', user);
        data.pending.add(id, expiresAt);
        s.del(...[...s.hash.keys()].filter((name) => name.startsWith('progress.')));
        told = tellWith(tell, s);
        return s.reply('ok');
      });
      return transition(reply, tell, told);
    },

    async abandon(id, user, outcome, now, seenStep, tell) {
      let told = false;
      const reply = script(id, now, (s) => {
        if (s.field('state') !== 'awaiting_finish') return s.reply('refused', 'the rotation is not waiting to finish');
        if (s.sawAnotherStep(seenStep ?? '')) return s.reply('changed');
        s.set({ outcome });
        s.stamp('abandoned', user);
        s.close('succeeded');
        told = tellWith(tell, s);
        return s.reply('ok');
      });
      return transition(reply, tell, told);
    },
  };
  return Object.assign(store, { data });
}

function snapshot(id: string, hash: Hash): ApprovalRequest {
  return decodeRequest(id, Object.fromEntries(hash));
}

/** The helpers of the Lua preamble, over one request's hash. */
class Script {
  constructor(
    private readonly data: MemoryStoreData,
    private readonly id: string,
    readonly hash: Hash,
    private readonly now: number,
    private readonly finalTtlMs: number,
  ) {}

  field(name: string): string {
    return this.hash.get(name) ?? '';
  }

  set(fields: Record<string, string>): void {
    for (const [k, v] of Object.entries(fields)) this.hash.set(k, v);
  }

  del(...names: string[]): void {
    for (const name of names) this.hash.delete(name);
  }

  reply(kind: string, extra = ''): Reply {
    return { kind, extra, request: snapshot(this.id, this.hash) };
  }

  approvals(): string[] {
    return this.field('approvals')
      .split(' ')
      .filter((a) => a !== '');
  }

  hasApproved(user: string): boolean {
    return this.approvals().includes(user);
  }

  stamp(kind: string, actor: string): void {
    this.set({ last_transition: `${kind} ${actor} ${this.now}` });
  }

  releaseSlot(): void {
    const ws = this.field('workspace');
    if (this.data.inflight.get(ws) === this.id) this.data.inflight.delete(ws);
  }

  someoneWaits(): boolean {
    return (this.data.waiting.get(this.field('workspace'))?.size ?? 0) > 0;
  }

  close(state: string): void {
    this.set({ state, updated_at: String(this.now), lease_owner: '', lease_until: '0' });
    this.data.open.remove(this.id);
    this.data.pending.remove(this.id);
    this.data.leases.remove(this.id);
    this.data.requesters.get(this.field('requester'))?.delete(this.id);
    this.data.waiting.get(this.field('workspace'))?.delete(this.id);
    const rot = this.field('rotation_of');
    if (rot !== '' && this.data.rotations.get(rot) === this.id) this.data.rotations.delete(rot);
    this.releaseSlot();
    this.data.dropAt.set(this.id, this.data.now + this.finalTtlMs);
  }

  backToFinish(): void {
    this.set({ state: 'awaiting_finish', approvals: '', updated_at: String(this.now) });
    this.del('rotation_step', 'finish_requested_by', 'retire_fingerprint');
    this.data.pending.remove(this.id);
  }

  /** The fingerprint the card's buttons decide now (current_step in Lua). */
  private currentStep(): string {
    if (this.field('rotation_step') === 'retire') return this.field('retire_fingerprint');
    try {
      const body: unknown = JSON.parse(this.field('body'));
      if (typeof body === 'object' && body !== null && 'fingerprint' in body && typeof body.fingerprint === 'string') return body.fingerprint;
    } catch {
      // As Lua's pcall: an unreadable body has no step.
    }
    return '';
  }

  sawAnotherStep(seen: string): boolean {
    if (seen === '') return false;
    const current = this.currentStep();
    return current === '' || seen !== current;
  }
}
