import type { ApprovalRequest } from './request';
import type { AuditEvent, AuditLog, Log, Notice, Outbox } from './ports';

/**
 * Tells one event everywhere it must be told: the audit stream (and its `audit: true` log line), and
 * the outbox (the card's thread, and the card itself), both in Redis. The state change already
 * happened atomically in the store; Slack gets it later from the outbox, so nothing here waits for
 * Slack. A failure to record is logged, never allowed to undo or repeat the change.
 */
export class Journal {
  constructor(
    private readonly audit: AuditLog,
    private readonly outbox: Outbox,
    private readonly log: Log,
  ) {}

  async tell(request: ApprovalRequest, event: Omit<AuditEvent, 'requestId'>, opts: { updateCard?: boolean } = {}): Promise<void> {
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
