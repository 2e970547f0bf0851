import { formatDuration } from '../duration';
import { DirectoryUnavailableError, LeaseLostError, RetryLaterError } from './errors';
import { confirmingLostAnswer } from './lost-answer';
import { expiresAfterTtl, type ApprovalRequest, type RequestState } from './request';
import type { Policy } from './policy';
import type { Journal } from './journal';
import type { Clock, EventToTell, Log, RequestStore } from './ports';
import type { RequestId, SecretInfo } from './types';
import type { Workspace, Workspaces } from './workspace';
import { runStep } from './workflows/run-step';
import type { StepResult } from './workflows/step';

export interface ExecutorDeps {
  readonly store: RequestStore;
  /** A request is carried out with its own workspace's Intercom, Vault and policy. */
  readonly workspaces: Workspaces;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly log: Log;
  /** Identifies this replica as a lease holder. */
  readonly owner: string;
  /** About 15 s; renewed at a third of that while the step runs. */
  readonly leaseMs: number;
  readonly holderWindowMs: number;
  openOrphanDelete(request: ApprovalRequest, secret: Pick<SecretInfo, 'id' | 'name' | 'platforms'>, why: string): Promise<RequestId | null>;
}

/** The event that opens a step's execution: "executing", or "recovered" for a takeover. */
function executingEvent(request: ApprovalRequest, recovering: boolean, at: number): EventToTell {
  if (recovering) return { type: 'recovered', at, detail: { note: 'took over after the previous executor stopped' } };
  return { type: 'executing', at, detail: { step: request.rotation?.step ?? request.operation.action } };
}

/** How many takeovers of one step recovery tries before it gives up and says so. */
export const MAX_TAKEOVERS = 5;

/**
 * Moves approved requests to `executing` under a lease, runs the step, and finishes them. Exactly one
 * replica wins the claim (an atomic store operation); a replica that dies leaves a lease that runs
 * out, and any replica's sweep takes the request over with `recovering: true`.
 */
export class Executor {
  private readonly running = new Map<RequestId, Promise<void>>();
  private accepting = true;

  constructor(private readonly deps: ExecutorDeps) {}

  /**
   * Claims and runs `id` if it is ready; a no-op when another replica (or this one) already has it.
   * `approved`: the request as its decisive approval left it, when that approval's event is already
   * recorded: the claim then records "executing" in its own step (TellWith), unless the Journal still
   * records something for the request. Without it, "executing" is told through the Journal, after
   * whatever it still records for the request.
   */
  execute(id: RequestId, approved?: ApprovalRequest): Promise<void> {
    if (!this.accepting) return Promise.resolve();
    const existing = this.running.get(id);
    if (existing) return existing;
    const run = this.claimAndRun(id, approved)
      .catch((err: unknown) => this.deps.log.error({ err, requestId: id }, 'execution crashed'))
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
    return run;
  }

  /**
   * Takes over approved-but-unclaimed and executing-with-expired-lease requests. Resolves once they
   * are started: each runs on by itself (drain() waits for it), so a slow recovery holds up no sweep
   * and no start.
   */
  async recoverStale(): Promise<void> {
    const ids = await this.deps.store.staleLeases(this.deps.clock.now());
    for (const id of ids) void this.execute(id);
  }

  /** SIGTERM: take no new executions, wait (bounded) for the running ones; the rest are left to lease recovery. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.accepting = false;
    if (this.running.size === 0) return true;
    const doneWaiting = new AbortController();
    const timeout = this.deps.clock.sleep(timeoutMs, doneWaiting.signal).then(() => false as const);
    const done = Promise.all([...this.running.values()]).then(() => true as const);
    const finished = await Promise.race([done, timeout]);
    doneWaiting.abort();
    return finished;
  }

  get inFlight(): number {
    return this.running.size;
  }

  private async claimAndRun(id: RequestId, approved: ApprovalRequest | undefined): Promise<void> {
    const { store, clock, owner, leaseMs, log, journal } = this.deps;
    const now = clock.now();
    const tell = approved ? { request: approved, event: executingEvent(approved, false, now), ifRecovering: false } : undefined;
    const { result: claim, recorded } = await journal.transition(
      id,
      tell,
      (given) => store.claim(id, owner, leaseMs, now, given),
      // Nothing is told of a request this replica does not serve (it is left alone, below).
      (c) =>
        c.kind === 'claimed' && !c.told && this.deps.workspaces.has(c.request.operation.workspace)
          ? { request: c.request, event: executingEvent(c.request, c.recovering, clock.now()) }
          : undefined,
    );
    if (claim.kind === 'busy') {
      if (!claim.firstWait) return;
      log.info({ requestId: id, holder: claim.holder }, 'another create/delete is executing in this workspace; waiting for it');
      const waiting = await store.get(id);
      if (waiting) await journal.tell(waiting, { type: 'waiting', at: clock.now(), detail: { holder: claim.holder } }, { updateCard: false });
      return;
    }
    if (claim.kind !== 'claimed') return;
    const ws = this.deps.workspaces.get(claim.request.operation.workspace);
    if (!ws) {
      // Not served here (removed from IVS_CONFIG, or a replica with an older file): touch nothing;
      // the lease runs out and a replica that serves the workspace takes it over.
      log.error({ requestId: id, workspace: claim.request.operation.workspace }, 'approved request of a workspace this replica does not serve: left alone');
      return;
    }
    await this.run(ws, claim.request, claim.recovering, recorded);
  }

  /** `telling`: the recording of "executing" (by the claim itself, or by the Journal after it). */
  private async run(ws: Workspace, request: ApprovalRequest, recovering: boolean, telling: Promise<void>): Promise<void> {
    const { store, clock, owner, leaseMs, journal } = this.deps;
    const log = ws.log;
    const id = request.id;

    const stopRenewing = clock.every(Math.max(1_000, Math.floor(leaseMs / 3)), () => {
      store.renewLease(id, owner, leaseMs, clock.now()).then(
        (held) => {
          if (!held) log.error({ requestId: id }, 'lost the execution lease while running');
        },
        (err: unknown) => log.warn({ err, requestId: id }, 'lease renewal failed'),
      );
    });

    // "executing" is not awaited before the step starts: the Journal records the request's events in
    // order (this one before the step's own), and Intercom and Vault need nothing of it. Awaited
    // before the run ends, so a drain on SIGTERM also waits for it.
    try {
      const takeovers = Number(request.progress['takeovers'] ?? '0');
      // Only a step that may have sent something (a breadcrumb says so, or a takeover already had to
      // look at Intercom) gives up: one that never started waits, bounded by the request's expiry
      // (an orphan's delete, which never expires, waits on), for whatever kept it from starting
      // (Slack's directory, say).
      const mayHaveSent = Boolean(request.progress['phase'] || request.progress['firstLookAt']);
      if (recovering && takeovers > MAX_TAKEOVERS && mayHaveSent) {
        await this.giveUp(request, takeovers);
        return;
      }

      let result: StepResult;
      try {
        result = await this.carryOut(ws, request, recovering);
      } catch (err) {
        if (!(err instanceof RetryLaterError)) throw err;
        // Left unfinished on purpose: the lease runs out and a sweep (here or elsewhere) looks again.
        log.warn({ requestId: id, why: err.message }, 'execution left for recovery to look again');
        // Told once per reason: a long outage is one thread reply, not one per takeover.
        if (request.progress['retrying'] !== err.message) {
          await store.recordProgress(id, owner, { retrying: err.message }, clock.now()).catch(() => false);
          await journal.tell(request, { type: 'retrying', at: clock.now(), detail: { why: err.message } }, { updateCard: false });
        }
        return;
      }

      await this.recordOutcome(request, result);
    } finally {
      stopRenewing();
      await telling;
    }
  }

  /** Re-checks the approval and runs the step. */
  private async carryOut(ws: Workspace, request: ApprovalRequest, recovering: boolean): Promise<StepResult> {
    const { store, clock, owner, journal } = this.deps;
    const log = ws.log;
    const id = request.id;
    let stillApproved: Awaited<ReturnType<Policy['stillApproved']>>;
    try {
      stillApproved = await ws.policy.stillApproved(request);
    } catch (err) {
      // Not knowing who may approve is not "nobody may": wait for Slack, never decide on a guess.
      if (err instanceof DirectoryUnavailableError) {
        throw new RetryLaterError(`Slack could not say who may approve right now (${err.message}); nothing new was sent, trying again shortly`);
      }
      throw err;
    }
    // A takeover after a side effect may have happened (a POST or DELETE sent) still finishes or
    // cleans up what was started, even when the approval no longer holds; it starts nothing new.
    // A create taken over counts as possibly started even without breadcrumbs (they can be lost on a
    // Redis failover): it looks at Intercom first, and sends nothing new if the re-check fails.
    const creates = request.operation.action === 'create' || (request.operation.action === 'rotate' && request.rotation?.step !== 'retire');
    const started = recovering && (Boolean(request.progress['phase']) || creates);
    if (!stillApproved.ok && !started) {
      return { state: 'failed', outcome: `re-check at execution refused it: ${stillApproved.reason}; nothing was changed` };
    }
    // An approval holds until the request's expiry: one that waited past it (for the workspace slot,
    // or for a recovery) starts nothing. A step already begun is still finished or cleaned up. An
    // orphan's delete request has no expiry: its approval holds until it runs.
    if (!started && expiresAfterTtl(request) && clock.now() >= request.expiresAt) {
      return {
        state: 'failed',
        outcome: `re-check at execution refused it: the request expired ${formatDuration(clock.now() - request.expiresAt)} ago before it could start; nothing was changed`,
      };
    }
    return runStep({
      request,
      recovering,
      ...(stillApproved.ok ? {} : { approvalWithdrawn: stillApproved.reason }),
      intercom: ws.intercom,
      vault: ws.vault,
      clock,
      log,
      minOverlapMs: ws.minOverlapMs,
      holderWindowMs: this.deps.holderWindowMs,
      tell: (event) => journal.tell(request, { ...event, at: clock.now() }, { updateCard: false }),
      progress: async (crumbs, opts) => {
        // Another replica took the request over, or the lease ran out: stop before touching Intercom or Vault again.
        if (!(await store.recordProgress(id, owner, crumbs, clock.now(), opts))) throw new LeaseLostError(id);
      },
      openOrphanDelete: (secret, why) => this.deps.openOrphanDelete(request, secret, why),
    });
  }

  /**
   * Ends the step in the store and tells the thread and card: with the finish itself (SPEC §8) when
   * nothing told before it is still being recorded (the "executing" of a step that ended at once, say),
   * else through the Journal right after.
   */
  private async recordOutcome(request: ApprovalRequest, stepResult: StepResult): Promise<void> {
    const { store, clock, owner, log, journal } = this.deps;
    const id = request.id;
    const result = await this.orphanStillActive(request, stepResult);
    const outcomeEvent = (finishedIn: RequestState): EventToTell => {
      // A rotation's retire step that failed (its text says what was, or was not, deleted): the store
      // puts it back to waiting to finish.
      const backToFinish = result.state === 'failed' && finishedIn === 'awaiting_finish';
      const outcome = backToFinish ? `${result.outcome}. Finish rotation again, or Abandon` : result.outcome;
      return {
        type: result.state === 'failed' ? 'failed' : 'succeeded',
        at: clock.now(),
        detail: { outcome, state: finishedIn, action: request.operation.action, step: request.rotation?.step ?? request.operation.action },
      };
    };
    const expected: RequestState = result.state === 'failed' && request.rotation?.step === 'retire' ? 'awaiting_finish' : result.state;
    // The reply falls back on the request's outcome: the one this finish stores.
    const tell = { request: { ...request, outcome: result.outcome }, event: outcomeEvent(expected), ifState: expected };
    const { result: finished, recorded } = await journal.transition(
      id,
      tell,
      (given) =>
        confirmingLostAnswer(
          () => store.finish(id, owner, result, clock.now(), given),
          async () => {
            const stored = await store.get(id);
            return stored && stored.state !== 'executing' && stored.outcome === result.outcome ? ({ kind: 'ok', request: stored } as const) : undefined;
          },
        ),
      (f) => (f.kind === 'ok' && !f.told ? { request: f.request, event: outcomeEvent(f.request.state) } : undefined),
    );
    if (finished.kind !== 'ok') {
      log.error({ requestId: id, result: finished.kind }, 'could not record the outcome: the lease was lost');
      return;
    }
    await recorded;
    // The workspace slot is free again: whatever waited for it need not wait for the next sweep.
    if (finished.someoneWaits && this.accepting) {
      this.recoverStale().catch((err: unknown) => log.warn({ err }, 'starting the requests that waited for the workspace failed'));
    }
  }

  /**
   * An orphan's delete that failed (Vault sealed, Intercom down, a re-check, a give-up) leaves the
   * orphan active: it must not stay so with nothing open about it (SPEC §4), so another delete
   * request is opened for it and the outcome names it. Only while this replica still holds the
   * lease, so a replica fenced off by a takeover does not open a second one.
   */
  private async orphanStillActive(request: ApprovalRequest, result: StepResult): Promise<StepResult> {
    const op = request.operation;
    if (result.state !== 'failed' || request.orphanOf === undefined || op.action !== 'delete') return result;
    const { store, clock, owner, leaseMs } = this.deps;
    if (!(await store.renewLease(request.id, owner, leaseMs, clock.now()).catch(() => false))) return result;
    const secret = { id: op.secretId, name: op.secretName, platforms: op.platforms };
    const again = await this.deps.openOrphanDelete(request, secret, `its delete request ${request.id} failed`);
    return {
      ...result,
      outcome: `${result.outcome}; ${again ? `delete request ${again} opened again for the orphan` : `the orphan ${op.secretId} is still active: delete it by hand`}`,
    };
  }

  /** Recovery kept failing to finish the step: say so, loudly, rather than try forever. */
  private async giveUp(request: ApprovalRequest, takeovers: number): Promise<void> {
    const phase = request.progress['phase'];
    const op = request.operation;
    const where =
      op.action === 'delete' || (op.action === 'rotate' && request.rotation?.step === 'retire')
        ? `check at Intercom whether secret ${op.secretId} still exists`
        : `check at Intercom for a secret whose name carries [${request.id}], and whether Vault holds its material`;
    await this.recordOutcome(request, {
      state: 'failed',
      outcome: `gave up after ${takeovers - 1} takeovers that could not finish an interrupted execution${phase ? ` (it got as far as: ${phase})` : ''}: ${where}, by hand`,
    });
  }
}
