import type { ApprovalRequest } from './request';
import type { AuditEvent, AuditLog, EventToTell, Log, Notice, Outbox } from './ports';
import type { RequestId } from './types';

/**
 * Tells one event everywhere it must be told: the audit stream (and its `audit: true` log line), and
 * the outbox (the card's thread, and the card itself), both in Redis. The state change already
 * happened atomically in the store; Slack gets it later from the outbox, so nothing here waits for
 * Slack. A failure to record is logged, never allowed to undo or repeat the change.
 *
 * A request's events are recorded one after another, in the order they were told, whoever awaits
 * them: so a step that goes on without waiting for its event to be recorded (an execution does not
 * wait for "approved" or "executing" on its way to Vault) cannot overtake it in the audit stream
 * or in the thread.
 */
export class Journal {
  constructor(
    private readonly audit: AuditLog,
    private readonly outbox: Outbox,
    private readonly log: Log,
  ) {}

  /** The recording of each request's last told event, while it is under way. */
  private readonly recording = new Map<RequestId, Promise<void>>();

  /**
   * Nothing told for the request is still being recorded: an event a transition records in its own
   * step now (TellWith) cannot overtake one told before it. Checked in the tick the transition is
   * sent: the Redis calls of whatever is told after it leave after it, on the same connection.
   */
  idle(id: RequestId): boolean {
    return !this.recording.has(id);
  }

  /** Resolves once the event is recorded (or its failure logged); never rejects. */
  tell(request: ApprovalRequest, event: EventToTell, opts: { updateCard?: boolean } = {}): Promise<void> {
    const before = this.recording.get(request.id);
    // Nothing under way: recorded at once (its Redis calls leave in this tick), else after the one before.
    const told = before ? before.then(() => this.record(request, event, opts)) : this.record(request, event, opts);
    this.recording.set(request.id, told);
    void told.then(() => {
      if (this.recording.get(request.id) === told) this.recording.delete(request.id);
    });
    return told;
  }

  private async record(request: ApprovalRequest, event: EventToTell, opts: { updateCard?: boolean }): Promise<void> {
    const full: AuditEvent = { ...event, requestId: request.id, workspace: request.operation.workspace };
    // Card first, then the thread: whoever reads the reply finds the card already current.
    const notices: Notice[] = opts.updateCard === false ? [{ kind: 'reply', event: full }] : [{ kind: 'card' }, { kind: 'reply', event: full }];
    // Two independent writes, sent together: one round trip of waiting, not two.
    await Promise.all([
      this.audit.append(full).catch((err: unknown) => this.log.error({ err, requestId: request.id, event: event.type }, 'audit append failed')),
      this.outbox
        .record(request, notices)
        .catch((err: unknown) => this.log.error({ err, requestId: request.id, event: event.type }, 'recording the Slack notice failed')),
    ]);
  }

  /** Only the card, brought up to date (at start, so no stale buttons survive a restart). */
  async refreshCard(request: ApprovalRequest): Promise<void> {
    await this.outbox.record(request, [{ kind: 'card' }]);
  }
}
