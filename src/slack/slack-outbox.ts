import type { ApprovalRequest } from '../core/request';
import type { AuditEvent, CardPosting, Clock, Notice, Outbox } from '../core/ports';
import type { RequestId } from '../core/types';
import type { NewOutboxItem, OutboxQueue } from '../redis/outbox-queue';
import { CARD_CANNOT_BE_POSTED } from './delivery-errors';
import type { SlackDelivery } from './delivery';
import { renderThreadEvent } from './views/thread-event';

const CARD_STATE_POLL_MS = 200;
/**
 * Recording kicks the channel's delivery this much later: the notices a transition and the steps
 * right after it record (approved, executing, their card updates) then go out in one claim, their
 * card updates coalesced, and the execution's first steps do not share the event loop with Slack calls.
 */
const KICK_DELAY_MS = 25;

/** The outbox items of a request's notices: a reply rendered now (as the request is at that event), a card when delivered. */
export function noticeItems(request: ApprovalRequest, notices: readonly Notice[]): NewOutboxItem[] {
  return notices.map((n) =>
    n.kind === 'card' ? { requestId: request.id, kind: 'card', text: '' } : { requestId: request.id, kind: 'reply', text: renderThreadEvent(request, n.event) },
  );
}

/** What a transition records with its event (TellWith): the card update, then the reply, as Journal.tell does. */
export function eventItems(request: ApprovalRequest, event: AuditEvent): { channel: string; items: NewOutboxItem[] } {
  return { channel: request.channel, items: noticeItems(request, [{ kind: 'card' }, { kind: 'reply', event }]) };
}

/**
 * The core's Outbox on Redis + Slack. A reply is rendered when it is recorded (as the request was
 * at that event); a card is rendered when it is delivered (as the request is then, so updates
 * coalesce). Recording kicks this replica's delivery of the channel; it never waits for Slack.
 */
export class SlackOutbox implements Outbox {
  constructor(
    private readonly queue: OutboxQueue,
    private readonly delivery: SlackDelivery,
    private readonly clock: Clock,
  ) {}

  private readonly kicks = new Map<string, NodeJS.Timeout>();

  /** Something was recorded for `channel` elsewhere (a transition's own script): deliver it soon. */
  recorded(channel: string): void {
    this.kickSoon(channel);
  }

  private kickSoon(channel: string): void {
    if (this.kicks.has(channel)) return;
    const timer = setTimeout(() => {
      this.kicks.delete(channel);
      this.delivery.kick(channel);
    }, KICK_DELAY_MS);
    timer.unref();
    this.kicks.set(channel, timer);
  }

  async record(request: ApprovalRequest, notices: readonly Notice[]): Promise<void> {
    await this.queue.push(request.channel, noticeItems(request, notices), this.clock.now());
    this.kickSoon(request.channel);
  }

  /**
   * This replica usually delivers the card itself (opening a request kicks it), and hears at once;
   * when another replica holds the channel, the request's hash tells (card_ts / card_error).
   */
  cardPosting(id: RequestId, timeoutMs: number): Promise<CardPosting> {
    return new Promise<CardPosting>((resolve) => {
      let settled = false;
      let poller: NodeJS.Timeout | undefined;
      const finish = (posting: CardPosting) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(deadline);
        clearTimeout(poller);
        resolve(posting);
      };
      const unsubscribe = this.delivery.onCardAttempt(id, (attempt) => {
        if (attempt.kind === 'posted') finish({ kind: 'posted' });
        else if (attempt.kind === 'refused' || CARD_CANNOT_BE_POSTED.has(attempt.error)) finish({ kind: 'refused', error: attempt.error });
        else finish({ kind: 'delayed' });
      });
      const deadline = setTimeout(() => finish({ kind: 'delayed' }), timeoutMs);
      const look = () => {
        this.queue.cardState(id).then(
          (state) => {
            if (state.ts) finish({ kind: 'posted' });
            else if (state.error) finish({ kind: 'refused', error: state.error });
            else if (!settled) poller = setTimeout(look, CARD_STATE_POLL_MS);
          },
          () => {
            if (!settled) poller = setTimeout(look, CARD_STATE_POLL_MS);
          },
        );
      };
      poller = setTimeout(look, CARD_STATE_POLL_MS);
    });
  }
}
