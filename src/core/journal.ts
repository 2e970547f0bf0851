import type { ApprovalRequest } from './request';
import type { AuditEvent, AuditLog, EventToTell, Log, Notice, Outbox, TellWith } from './ports';
import type { RequestId } from './types';

/** The event a transition's caller tells itself when the store did not record it with the transition. */
export interface Untold {
  readonly request: ApprovalRequest;
  readonly event: EventToTell;
  readonly updateCard?: boolean;
}

/** A transition run through the Journal: the store's result, and the recording of its event. */
export interface JournalTransition<R> {
  readonly result: R;
  /**
   * Resolves once the event the store did not record is recorded (or its failure logged), after
   * everything told for the request before the transition; never rejects.
   */
  readonly recorded: Promise<void>;
}

/**
 * Tells one event everywhere it must be told: the audit stream (and its `audit: true` log line), and
 * the outbox (the card's thread, and the card itself), both in Redis. The state change already
 * happened atomically in the store; Slack gets it later from the outbox, so nothing here waits for
 * Slack. A failure to record is logged, never allowed to undo or repeat the change.
 *
 * A request's events are recorded one after another, in the order they were told, whoever awaits
 * them: so a step that goes on without waiting for its event to be recorded (an execution does not
 * wait for "approved" or "executing" on its way to Vault) cannot overtake it in the audit stream
 * or in the thread. A transition that may record its event in its own step (TellWith) runs through
 * `transition`, which holds the request's place in that order from the moment the store call leaves.
 */
export class Journal {
  constructor(
    private readonly audit: AuditLog,
    private readonly outbox: Outbox,
    private readonly log: Log,
  ) {}

  /** Each request's last told event or transition, while its store call or its recording is under way. */
  private readonly recording = new Map<RequestId, Promise<void>>();

  /**
   * Runs one store transition of the request (`apply`) and tells its event in the request's order.
   * The request's place is taken in this tick, before the store call leaves, so whatever is told or
   * transitioned for the request after it (including a transition whose event is still in the store
   * call) waits behind it. `tell` is handed to `apply` only when nothing before it is still being
   * recorded or still in a store call: an event the store records in its own step then cannot
   * overtake one told before it (the Redis calls of whatever comes after leave after it, on the same
   * connection). When the store did not record it, `untold` says what to tell from the result
   * (undefined: nothing), and it is recorded in that same place.
   */
  async transition<R>(
    id: RequestId,
    tell: TellWith | undefined,
    apply: (tell: TellWith | undefined) => Promise<R>,
    untold: (result: R) => Untold | undefined,
  ): Promise<JournalTransition<R>> {
    const before = this.recording.get(id);
    let applied: Promise<R>;
    try {
      applied = apply(before ? undefined : tell);
    } catch (err) {
      applied = Promise.reject(err);
    }
    const recorded: Promise<void> = this.recordAfter(id, before, applied, untold).then(() => {
      // Freed before anyone awaiting it resumes: a transition started then may record its own event.
      if (this.recording.get(id) === recorded) this.recording.delete(id);
    });
    this.recording.set(id, recorded);
    return { result: await applied, recorded };
  }

  /** Never rejects: whatever is told after the transition waits for it. */
  private async recordAfter<R>(
    id: RequestId,
    before: Promise<void> | undefined,
    applied: Promise<R>,
    untold: (result: R) => Untold | undefined,
  ): Promise<void> {
    let told: Untold | undefined;
    try {
      const result = await applied;
      try {
        told = untold(result);
      } catch (err) {
        this.log.error({ err, requestId: id }, 'could not say what a transition tells');
      }
    } catch {
      // The store call failed (its caller gets the error): nothing to tell.
    }
    if (before) await before;
    if (told) await this.record(told.request, told.event, { updateCard: told.updateCard });
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

  /** Never rejects (a request's place in the order is freed only once its recording settles). */
  private async record(request: ApprovalRequest, event: EventToTell, opts: { updateCard?: boolean }): Promise<void> {
    try {
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
    } catch (err) {
      this.log.error({ err, requestId: request.id, event: event.type }, 'could not record an event');
    }
  }

  /** Only the card, brought up to date (at start, so no stale buttons survive a restart). */
  async refreshCard(request: ApprovalRequest): Promise<void> {
    await this.outbox.record(request, [{ kind: 'card' }]);
  }
}
