// slack/: the Slack side: Bolt listeners, views (state → blocks and words), and the outbox's delivery to Slack.
import { EventEmitter } from 'node:events';
import type { KnownBlock, WebClient } from '@slack/web-api';
import type { CardRef } from '../core/request';
import type { Clock, Log, RequestStore } from '../core/ports';
import type { Metrics } from '../metrics';
import type { ClaimedChannel, OutboxItem, OutboxQueue, Settlement } from '../redis/outbox-queue';
import { classifyDeliveryError, type DeliveryFailure } from './delivery-errors';
import { renderRequestCard } from './views/request-card';
import { renderDeliveryGap } from './views/thread-event';

/** Message metadata on everything the outbox posts: which item it is, so a retry can look for it. */
export const NOTICE_EVENT_TYPE = 'ivs_notice';

export interface DeliveryOptions {
  /** Identifies this replica as the holder of a channel. */
  readonly owner: string;
  /** How long a claimed channel stays this replica's without renewal. */
  readonly leaseMs: number;
  /** How often this replica looks for channels that are due (recorded elsewhere, or retried). */
  readonly pollMs: number;
  /** IVS_DELIVERY_MAX_AGE: older items are given up, logged, counted, and the thread told. */
  readonly maxAgeMs: number;
  /** chat.postMessage per channel: a token bucket (Slack allows about 1/s with short bursts). */
  readonly pacing: { readonly perSecond: number; readonly burst: number };
  /** Backoff after a failure without Retry-After: base doubling up to max, jittered. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** IVS_MIN_OVERLAP of a workspace, for the card of an awaiting rotation. */
  readonly minOverlapMs: (workspace: string) => number | undefined;
}

export const DEFAULT_DELIVERY: Omit<DeliveryOptions, 'owner' | 'maxAgeMs' | 'minOverlapMs'> = {
  leaseMs: 15_000,
  pollMs: 1_000,
  pacing: { perSecond: 1, burst: 3 },
  backoff: { baseMs: 1_000, maxMs: 15_000 },
};

/** How the first post of a card went, told to a replica waiting for it in this process. */
export type CardAttempt = { readonly kind: 'posted' } | { readonly kind: 'refused' | 'delayed'; readonly error: string };

type Outcome =
  | { readonly kind: 'done'; readonly also: readonly OutboxItem[]; readonly settlement?: Settlement }
  | { readonly kind: 'dropped'; readonly code: string; readonly settlement?: Settlement }
  | { readonly kind: 'failed'; readonly failure: Extract<DeliveryFailure, { kind: 'retry' }> };

const PEEK = 50;
const CLAIM_BATCH = 20;
const CARD_CACHE_MAX = 2_000;
const STOP_WAIT_MS = 2_000;
/**
 * How many of the newest messages (of the channel, for a card; of the thread, for a reply) are
 * looked through after a lost answer. A lost answer is retried within seconds, so the item, if it
 * was posted, is among the newest; a thread of more than this many replies is not this bot's.
 */
const LOOK_BACK = 200;

/**
 * Sends the outbox to Slack. Any replica may deliver any channel; the channel's lease in Redis makes
 * sure only one does at a time, in order. Each item is sent once: removed from Redis in the step that
 * records its success, and an item whose answer was lost is looked for in Slack before it is sent
 * again. Nothing here is awaited by an execution.
 */
export class SlackDelivery {
  private readonly working = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly cards = new Map<string, CardRef>();
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private polls = 0;
  private stopping = false;

  constructor(
    private readonly client: WebClient,
    private readonly queue: OutboxQueue,
    private readonly store: RequestStore,
    private readonly clock: Clock,
    private readonly log: Log,
    private readonly metrics: Metrics,
    private readonly opts: DeliveryOptions,
  ) {
    this.events.setMaxListeners(0);
  }

  start(): void {
    this.stopping = false;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /**
   * Stops delivering. First, for up to `drainMs`, what is due is still delivered (a SIGTERM after an
   * execution lets its thread hear the outcome); then channels in hand are let go at the next item,
   * so another replica carries on at once. What is left stays in Redis.
   */
  async stop(drainMs = 0): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (drainMs > 0 && !this.stopping) {
      await this.poll();
      await this.settledWithin(drainMs);
    }
    this.stopping = true;
    await this.settledWithin(STOP_WAIT_MS);
  }

  private async settledWithin(ms: number): Promise<void> {
    const end = Date.now() + ms;
    // Workers end and new ones start (a kick after the last item): wait until none is left, or time is up.
    while (this.working.size > 0 && Date.now() < end) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.working.values()]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, end - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** Something was recorded for `channel`: deliver it now if no replica is delivering it already. */
  kick(channel: string): void {
    if (this.stopping) return;
    if (this.working.has(channel)) {
      this.again.add(channel);
      return;
    }
    this.queue
      .claim(this.opts.owner, this.clock.now(), this.opts.leaseMs, { channel, max: 1, peek: PEEK })
      .then((claimed) => {
        for (const c of claimed) this.begin(c);
      })
      .catch((err: unknown) => this.log.warn({ err }, 'could not claim a channel to deliver; the next poll tries again'));
  }

  /** The next local attempt to post this request's card, as it went. */
  onCardAttempt(requestId: string, listener: (attempt: CardAttempt) => void): () => void {
    this.events.on(requestId, listener);
    return () => this.events.off(requestId, listener);
  }

  private async poll(): Promise<void> {
    if (this.stopping) return;
    this.polls++;
    try {
      const claimed = await this.queue.claim(this.opts.owner, this.clock.now(), this.opts.leaseMs, { max: CLAIM_BATCH, peek: PEEK });
      for (const c of claimed) this.begin(c);
    } catch (err) {
      this.log.warn({ err }, 'could not look for Slack deliveries that are due');
    }
    if (this.polls % 5 === 1) await this.measureBacklog();
  }

  async measureBacklog(): Promise<void> {
    try {
      const { items, oldestAt } = await this.queue.backlog();
      this.metrics.deliveryBacklog.set(items);
      this.metrics.deliveryOldestSeconds.set(oldestAt === null ? 0 : Math.max(0, (this.clock.now() - oldestAt) / 1000));
    } catch {
      // Redis is down: the readiness probe says so; the gauges keep their last value.
    }
  }

  private begin(claimed: ClaimedChannel): void {
    const { channel } = claimed;
    if (this.working.has(channel)) return;
    const run = this.work(claimed)
      .catch((err: unknown) => this.log.error({ err }, 'Slack delivery stopped unexpectedly; the channel is retried after its lease'))
      .finally(() => {
        this.working.delete(channel);
        if (this.again.delete(channel)) this.kick(channel);
      });
    this.working.set(channel, run);
  }

  /**
   * Delivers one channel's items in order until it is empty, fails, or this replica stops. In the
   * common case an event costs two Redis round trips here: the claim (which reads the items) and the
   * settle (which removes the delivered one and, after the last, lets go of the channel).
   */
  private async work(claimed: ClaimedChannel): Promise<void> {
    const { queue, opts } = this;
    const { channel } = claimed;
    const renew = setInterval(
      () => {
        queue.renew(channel, opts.owner, this.clock.now() + opts.leaseMs).catch(() => undefined);
      },
      Math.max(500, Math.floor(opts.leaseMs / 3)),
    );
    renew.unref();
    // Only the item that was head when the channel was claimed can have been sent by someone else.
    let lookFirst = claimed.attempting;
    let items: readonly OutboxItem[] = claimed.items;
    try {
      for (;;) {
        this.again.delete(channel);
        if (items.length === 0 || this.stopping) {
          const left = await this.letGo(channel, this.clock.now(), null);
          if (left > 0 && !this.stopping) this.again.add(channel);
          return;
        }
        // Coalesced card items further on are gone from Redis once settled: skipped here too.
        const coalesced = new Set<OutboxItem>();
        let left = 1;
        for (let i = 0; i < items.length; i++) {
          const item = items[i] as OutboxItem;
          if (coalesced.has(item)) continue;
          if (this.stopping) {
            await this.letGo(channel, this.clock.now(), null);
            return;
          }
          const now = this.clock.now();
          // A card is never too old: it is rendered from the request as it is now, and without it
          // nobody could act on the request or read its thread.
          if (item.kind !== 'card' && now - item.at > opts.maxAgeMs) {
            const stale = items.slice(i).filter((x) => x.kind !== 'card' && now - x.at > opts.maxAgeMs);
            if (!(await this.giveUp(channel, stale))) return;
            left = 1; // read again: what was given up is gone, notes were added at the end
            break;
          }
          const check = lookFirst === item.seq;
          lookFirst = null;
          const outcome = await this.deliver(channel, item, items, check);
          if (outcome.kind === 'failed') {
            const f = outcome.failure;
            const n = (this.failures.get(channel) ?? 0) + 1;
            this.failures.set(channel, n);
            this.metrics.deliveryRetries.inc({ reason: f.reason });
            const delay = f.afterMs !== undefined ? f.afterMs : this.backoff(n, f.reason);
            this.log.warn(
              { channel, requestId: item.requestId, kind: item.kind, code: f.code, retryInMs: Math.round(delay), maybePosted: f.maybePosted || check },
              'Slack did not take a notice; it stays in the outbox',
            );
            // A failed look (check) settled nothing: the item may still be in Slack from before, so
            // whoever comes next looks again rather than post it a second time.
            await this.letGo(channel, this.clock.now() + delay, f.maybePosted || check ? item.seq : null);
            return;
          }
          this.failures.delete(channel);
          const done = outcome.kind === 'done' ? [item, ...outcome.also] : [item];
          for (const d of done) coalesced.add(d);
          const next = items.slice(i + 1).find((x) => !coalesced.has(x));
          const settlement = { ...(outcome.settlement ?? {}), ...(next ? { next: next.seq } : { releaseIfEmpty: true }) };
          try {
            left = await queue.settle(channel, opts.owner, this.clock.now() + opts.leaseMs, done, settlement);
          } catch (err) {
            // Slack has it but Redis does not know: the head stays marked as possibly sent, so
            // whoever delivers it next looks in Slack before sending it again.
            this.log.warn({ err, requestId: item.requestId }, 'delivered, but could not record it; it will be looked for before any retry');
            return;
          }
          if (left < 0) {
            this.log.warn({ channel }, 'lost the delivery lease of a channel; another replica carries on');
            return;
          }
          if (outcome.kind === 'done') {
            for (const d of done) this.metrics.deliveryLatency.observe({ kind: d.kind }, Math.max(0, (this.clock.now() - d.at) / 1000));
          } else {
            this.metrics.deliveryGiveUps.inc({ reason: 'refused' });
            this.log.error({ channel, requestId: item.requestId, kind: item.kind, code: outcome.code }, 'Slack refused a notice for good; it was dropped');
          }
          // The last one of the snapshot, and nothing came meanwhile: the settle let go of the channel.
          if (!next && left === 0) return;
        }
        try {
          items = left > 0 ? await queue.peek(channel, PEEK) : [];
        } catch (err) {
          this.log.warn({ err }, 'could not read the outbox; trying again later');
          await this.letGo(channel, this.clock.now() + opts.backoff.maxMs, null);
          return;
        }
      }
    } finally {
      clearInterval(renew);
    }
  }

  private async letGo(channel: string, nextAt: number, maybeSent: string | null): Promise<number> {
    try {
      return await this.queue.release(channel, this.opts.owner, nextAt, maybeSent);
    } catch (err) {
      this.log.warn({ err, channel }, 'could not let go of a channel; its lease runs out by itself');
      return 0;
    }
  }

  private backoff(failures: number, reason: string): number {
    if (reason === 'auth') return this.opts.backoff.maxMs * 4;
    const base = Math.min(this.opts.backoff.maxMs, this.opts.backoff.baseMs * 2 ** Math.min(failures - 1, 10));
    return base * (0.8 + Math.random() * 0.4);
  }

  /** Older than IVS_DELIVERY_MAX_AGE: dropped, counted, and each request's thread told where to read what it missed. */
  private async giveUp(channel: string, stale: readonly OutboxItem[]): Promise<boolean> {
    const left = await this.queue.settle(channel, this.opts.owner, this.clock.now() + this.opts.leaseMs, stale).catch(() => -1);
    if (left < 0) return false;
    this.metrics.deliveryGiveUps.inc({ reason: 'max_age' }, stale.length);
    // Only a request's thread can be told (a reminder has none: the next interval brings a new one).
    const requests = [...new Set(stale.filter((i) => i.kind === 'reply').map((i) => i.requestId))];
    this.log.error({ channel, items: stale.length, requestIds: requests }, 'Slack notices older than IVS_DELIVERY_MAX_AGE were given up');
    if (requests.length) {
      await this.queue
        .push(
          channel,
          requests.map((requestId) => ({ requestId, kind: 'note' as const, text: renderDeliveryGap(requestId) })),
          this.clock.now(),
        )
        .catch((err: unknown) => this.log.warn({ err }, 'could not record the note about undelivered events'));
    }
    return true;
  }

  private async deliver(channel: string, item: OutboxItem, snapshot: readonly OutboxItem[], lookFirst: boolean): Promise<Outcome> {
    try {
      if (item.kind === 'card') return await this.deliverCard(channel, item, snapshot, lookFirst);
      if (item.kind === 'reminder') return await this.deliverReminder(channel, item, lookFirst);
      return await this.deliverReply(channel, item, lookFirst);
    } catch (err) {
      const failure = classifyDeliveryError(err);
      if (item.kind === 'card')
        this.events.emit(item.requestId, { kind: failure.kind === 'permanent' ? 'refused' : 'delayed', error: failure.code } satisfies CardAttempt);
      if (failure.kind === 'permanent') {
        return {
          kind: 'dropped',
          code: failure.code,
          ...(item.kind === 'card' ? { settlement: { cardError: { requestId: item.requestId, error: failure.code } } } : {}),
        };
      }
      return { kind: 'failed', failure };
    }
  }

  private async deliverCard(channel: string, item: OutboxItem, snapshot: readonly OutboxItem[], lookFirst: boolean): Promise<Outcome> {
    // Rendered from the stored request as it is now: every card item recorded before this read is served by it.
    const request = await this.readRequest(item.requestId);
    const also = snapshot.filter((x) => x !== item && x.kind === 'card' && x.requestId === item.requestId);
    if (!request) return { kind: 'dropped', code: 'request_gone' };
    const minOverlapMs = this.opts.minOverlapMs(request.operation.workspace);
    let card: ReturnType<typeof renderRequestCard>;
    try {
      card = renderRequestCard(request, { now: this.clock.now(), ...(minOverlapMs !== undefined ? { minOverlapMs } : {}) });
    } catch (err) {
      // A card that cannot be rendered will not render on a retry either: given up, and a request
      // still being opened is cancelled (none may stay open without a card people can see).
      this.log.error({ err, requestId: item.requestId }, 'the request card could not be rendered');
      this.events.emit(item.requestId, { kind: 'refused', error: 'render_failed' } satisfies CardAttempt);
      return {
        kind: 'dropped',
        code: 'render_failed',
        ...(request.card ? {} : { settlement: { cardError: { requestId: item.requestId, error: 'render_failed' } } }),
      };
    }
    if (request.card) {
      await this.client.chat.update({ channel: request.card.channel, ts: request.card.ts, text: card.text, blocks: card.blocks });
      return { kind: 'done', also };
    }
    if (lookFirst) {
      const found = await this.lookFor(item, () =>
        this.client.conversations.history({ channel: request.channel, include_all_metadata: true, limit: LOOK_BACK }),
      );
      if (found) return this.cardPosted(item, { channel: request.channel, ts: found }, also);
    }
    await this.pace(channel);
    const res = await this.client.chat.postMessage({ channel: request.channel, text: card.text, blocks: card.blocks, metadata: metadataOf(item) });
    if (!res.ts) throw Object.assign(new Error('chat.postMessage answered without a ts'), { code: 'slack_webapi_platform_error', data: { error: 'no_ts' } });
    return this.cardPosted(item, { channel: res.channel ?? request.channel, ts: res.ts }, also);
  }

  private cardPosted(item: OutboxItem, card: CardRef, also: readonly OutboxItem[]): Outcome {
    this.remember(item.requestId, card);
    this.events.emit(item.requestId, { kind: 'posted' } satisfies CardAttempt);
    // The card just posted was rendered as of now; card items after it need no update of their own.
    return { kind: 'done', also, settlement: { card: { requestId: item.requestId, ...card } } };
  }

  private async deliverReply(channel: string, item: OutboxItem, lookFirst: boolean): Promise<Outcome> {
    const card = await this.cardOf(item.requestId);
    // No card (it was refused for good, or the request is gone): there is no thread to reply in.
    if (!card) return { kind: 'dropped', code: 'no_card' };
    if (lookFirst) {
      const found = await this.lookFor(item, () =>
        this.client.conversations.replies({ channel: card.channel, ts: card.ts, include_all_metadata: true, limit: LOOK_BACK }),
      );
      if (found) return { kind: 'done', also: [] };
    }
    await this.pace(channel);
    await this.client.chat.postMessage({ channel: card.channel, thread_ts: card.ts, text: item.text, metadata: metadataOf(item) });
    return { kind: 'done', also: [] };
  }

  /** A rotation reminder: a message of its own in the channel, as rendered when it was recorded. */
  private async deliverReminder(channel: string, item: OutboxItem, lookFirst: boolean): Promise<Outcome> {
    let message: { text: string; blocks: KnownBlock[] };
    try {
      message = JSON.parse(item.text) as { text: string; blocks: KnownBlock[] };
    } catch {
      return { kind: 'dropped', code: 'unreadable_reminder' };
    }
    if (lookFirst) {
      const found = await this.lookFor(item, () => this.client.conversations.history({ channel, include_all_metadata: true, limit: LOOK_BACK }));
      if (found) return { kind: 'done', also: [] };
    }
    await this.pace(channel);
    await this.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, metadata: metadataOf(item) });
    return { kind: 'done', also: [] };
  }

  /**
   * After a lost answer: is the item already in Slack? Found → its ts. A conversation the bot may
   * not read (no `channels:history`/`groups:history` scope) cannot say: the item is sent again and
   * may show twice, which beats a hole in the trail.
   */
  private async lookFor(
    item: OutboxItem,
    read: () => Promise<{ messages?: Array<{ ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }> }>,
  ): Promise<string | null> {
    let messages: NonNullable<Awaited<ReturnType<typeof read>>['messages']>;
    try {
      messages = (await read()).messages ?? [];
    } catch (err) {
      const failure = classifyDeliveryError(err);
      if (failure.kind === 'retry') throw err;
      this.log.warn({ requestId: item.requestId, code: failure.code }, 'cannot look in Slack for a notice whose answer was lost; sending it again');
      return null;
    }
    const found = messages.find((m) => m.metadata?.event_type === NOTICE_EVENT_TYPE && String(m.metadata.event_payload?.['item'] ?? '') === item.seq);
    if (found?.ts) this.log.info({ requestId: item.requestId, kind: item.kind }, 'a notice whose answer was lost had been posted; not sending it again');
    return found?.ts ?? null;
  }

  private async readRequest(id: string) {
    const request = await this.store.get(id).catch((err: unknown) => {
      // Redis down: nothing was sent, try again later.
      throw Object.assign(new Error('request store unavailable'), { code: 'slack_webapi_request_error', original: { code: 'ECONNREFUSED' }, cause: err });
    });
    if (request?.card) this.remember(id, request.card);
    return request;
  }

  private async cardOf(requestId: string): Promise<CardRef | undefined> {
    return this.cards.get(requestId) ?? (await this.readRequest(requestId))?.card;
  }

  private remember(requestId: string, card: CardRef): void {
    if (this.cards.size >= CARD_CACHE_MAX) this.cards.delete(this.cards.keys().next().value as string);
    this.cards.set(requestId, card);
  }

  /** About one chat.postMessage per second per channel, with a short burst (Slack's own limit). */
  private async pace(channel: string): Promise<void> {
    const { perSecond, burst } = this.opts.pacing;
    const now = this.clock.now();
    const b = this.buckets.get(channel) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const waitMs = ((1 - b.tokens) / perSecond) * 1000;
    b.tokens = 0;
    b.at = now + waitMs;
    await this.clock.sleep(waitMs);
  }
}

function metadataOf(item: OutboxItem) {
  return { event_type: NOTICE_EVENT_TYPE, event_payload: { request_id: item.requestId, item: item.seq } };
}
