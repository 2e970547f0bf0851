import type { ApprovalRequest } from './request';
import type { AuditEvent, AuditLog, Log, Notifier } from './ports';

/**
 * Tells one event everywhere it must be told: the audit stream (and its `audit: true` log line), the
 * card's thread, and the card itself. The state change already happened atomically in the store;
 * a failure to tell is logged, never allowed to undo or repeat the change.
 */
export class Journal {
  constructor(
    private readonly audit: AuditLog,
    private readonly notifier: Notifier,
    private readonly log: Log,
  ) {}

  async tell(request: ApprovalRequest, event: Omit<AuditEvent, 'requestId'>, opts: { updateCard?: boolean } = {}): Promise<void> {
    const full: AuditEvent = { ...event, requestId: request.id, workspace: request.operation.workspace };
    try {
      await this.audit.append(full);
    } catch (err) {
      this.log.error({ err, requestId: request.id, event: event.type }, 'audit append failed');
    }
    // Card first, then the thread: whoever reads the reply finds the card already current.
    if (opts.updateCard !== false) await this.notifier.updateCard(request);
    await this.notifier.threadReply(request, full);
  }
}
