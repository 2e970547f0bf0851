import { formatDuration } from '../duration';
import { IntercomError } from './errors';
import { Executor } from './executor';
import { platformsLeftWithout } from './impact';
import { Journal } from './journal';
import { confirmingLostAnswer } from './lost-answer';
import { requiredOverlapMs, type ApprovalRequest, type Operation } from './request';
import { fingerprint, newRequestId, stepFingerprint } from './request-id';
import type { AuditLog, Clock, Log, Outbox, RequestStore } from './ports';
import type { Platform, RequestId, SecretInfo, UserId } from './types';
import type { Workspace, Workspaces } from './workspace';

/** Who is acting, as Slack identifies them (ids only; names are for display). */
export interface Actor {
  readonly userId: UserId;
  readonly teamId: string;
}

/** What the person who typed or clicked is told (ephemerally). */
export interface Reply {
  readonly ok: boolean;
  readonly text: string;
  /** The workspace of the request it is about, when known (a metrics label). */
  readonly workspace?: string;
}

export type OpenSpec =
  | { readonly action: 'create'; readonly name: string; readonly platforms: readonly Platform[]; readonly reason: string }
  | { readonly action: 'delete'; readonly secretId: string; readonly reason: string; readonly force: boolean }
  | { readonly action: 'rotate'; readonly secretId: string; readonly reason: string; readonly compromised?: boolean };

export interface RequestSettings {
  readonly maxOpenPerRequester: number;
  readonly leaseMs: number;
  /**
   * How long an executor that lost its lease (a takeover fenced it off) may still be sending a create
   * or storing its material: a takeover waits this long before concluding "nothing was created" or
   * "orphan".
   */
  readonly holderWindowMs: number;
  /** Identifies this replica as a lease holder. */
  readonly replicaId: string;
}

export interface RequestServiceDeps {
  readonly store: RequestStore;
  readonly audit: AuditLog;
  readonly outbox: Outbox;
  /** Each request uses its own workspace's Intercom, Vault and policy, never another's. */
  readonly workspaces: Workspaces;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: RequestSettings;
}

const reply = (ok: boolean, text: string): Reply => ({ ok, text });

/** How long opening a request waits for its card to be posted before saying it is delayed. */
export const CARD_WAIT_MS = 4_000;

/**
 * The approval engine's use cases, in the product's words. Slack listeners call these after ack();
 * every state change is one atomic store operation, then it is told (audit, thread, card).
 */
export class RequestService {
  readonly executor: Executor;
  private readonly journal: Journal;

  constructor(private readonly deps: RequestServiceDeps) {
    this.journal = new Journal(deps.audit, deps.outbox, deps.log);
    this.executor = new Executor({
      store: deps.store,
      workspaces: deps.workspaces,
      journal: this.journal,
      clock: deps.clock,
      log: deps.log,
      owner: deps.settings.replicaId,
      leaseMs: deps.settings.leaseMs,
      holderWindowMs: deps.settings.holderWindowMs,
      openOrphanDelete: (request, secret, why) => this.openOrphanDelete(request, secret, why),
    });
  }

  async open(actor: Actor, channel: string, workspaceName: string, spec: OpenSpec): Promise<Reply> {
    const ws = this.deps.workspaces.get(workspaceName);
    if (!ws) return reply(false, `This bot does not serve a workspace called ${workspaceName}.`);
    const { policy } = ws;
    const allowed = await policy.mayRequest(actor.userId, actor.teamId);
    if (!allowed.ok) return reply(false, `Not allowed: ${allowed.reason}.`);
    // The parser asks for it too; a compromised rotation skips the overlap, so its why is on record.
    if (spec.action === 'rotate' && spec.compromised && spec.reason.trim() === '') {
      return reply(false, 'A compromised rotation needs a reason (what leaked, where, when). Nothing was opened.');
    }
    const possible = await policy.approvalPossible([actor.userId]);
    if (!possible.ok) return reply(false, `This request could never be approved: ${possible.reason}. Nothing was opened.`);

    let operation: Operation;
    let impact: Platform[] = [];
    const workspace = ws.name;
    if (spec.action === 'create') {
      operation = { action: 'create', workspace, name: spec.name, platforms: spec.platforms };
    } else {
      let secrets: SecretInfo[];
      try {
        secrets = await ws.intercom.listSecrets();
      } catch (err) {
        return reply(false, `Could not check secret ${spec.secretId} at Intercom (workspace ${ws.name}): ${intercomProblem(err)}. Nothing was opened.`);
      }
      const target = secrets.find((s) => s.id === spec.secretId);
      if (!target) return reply(false, `There is no secret with id \`${spec.secretId}\` in workspace ${ws.name} (see \`/ivs ${ws.name} list\`).`);
      impact = platformsLeftWithout(secrets, target.id);
      operation =
        spec.action === 'delete'
          ? { action: 'delete', workspace, secretId: target.id, secretName: target.name, platforms: target.platforms, force: spec.force }
          : {
              action: 'rotate',
              workspace,
              secretId: target.id,
              secretName: target.name,
              platforms: target.platforms,
              ...(spec.compromised ? { compromised: true as const } : {}),
            };
      if (spec.action === 'rotate') impact = [];
    }
    return (await this.openRequest(ws, actor, channel, operation, spec.reason, impact, this.deps.settings.maxOpenPerRequester)).reply;
  }

  /** `seenStep`: the fingerprint of the step the approver's card showed; the approval counts for that step only. */
  async approve(actor: Actor, id: RequestId, seenStep: string): Promise<Reply> {
    const request = await this.deps.store.get(id);
    if (!request) return reply(false, `There is no request ${id}.`);
    const say = (ok: boolean, text: string): Reply => ({ ok, text, workspace: request.operation.workspace });
    if (request.state !== 'pending') return say(false, `${id} is ${request.state.replace('_', ' ')}: it cannot be approved now.`);
    const ws = this.workspaceOf(request);
    if (!ws) return say(false, notServed(request));
    const decision = await ws.policy.mayDecide(actor.userId, actor.teamId, request);
    if (!decision.ok) return say(false, `Your approval does not count: ${decision.reason}.`);

    const now = this.deps.clock.now();
    // Recorded with the approval itself (SPEC §8) when the count is still the one read above.
    const approvals = request.approvals.length + 1;
    const event = { type: 'approved', actor: actor.userId, at: now, detail: { approvals, required: request.approvalsRequired } } as const;
    const result = await confirmingLostAnswer(
      () => this.deps.store.approve(id, actor.userId, now, seenStep, { request, event, ifApprovals: approvals }),
      async () => {
        const stored = await this.deps.store.get(id);
        if (!stored?.approvals.includes(actor.userId)) return undefined;
        return { kind: stored.state === 'pending' ? 'recorded' : 'approved', request: stored } as const;
      },
    );
    switch (result.kind) {
      case 'not_found':
        return say(false, `There is no request ${id}.`);
      case 'self':
        return say(false, 'You cannot approve your own request.');
      case 'already_approved':
        return say(false, `You have already approved ${id}; one person counts once.`);
      case 'not_pending':
        return say(false, `${id} is ${result.request.state.replace('_', ' ')}: it cannot be approved now.`);
      case 'expired':
        return say(false, `${id} has expired.`);
      case 'changed':
        return this.cardChanged(result.request, 'counted');
      case 'recorded':
      case 'approved': {
        const r = result.request;
        if (result.told) {
          // Recorded with the approval: the claim may record "executing" with itself too.
          if (result.kind === 'approved') void this.executor.execute(id, r);
          return say(true, `You approved ${id} (${r.approvals.length}/${r.approvalsRequired}).`);
        }
        const told = this.journal.tell(r, {
          type: 'approved',
          actor: actor.userId,
          at: now,
          detail: { approvals: r.approvals.length, required: r.approvalsRequired },
        });
        // The execution starts while "approved" is being recorded: the Journal records a request's
        // events in order, and the execution tells "executing" through it too (no request passed,
        // so the claim records nothing of its own), so it cannot overtake "approved".
        if (result.kind === 'approved') void this.executor.execute(id);
        await told;
        return say(true, `You approved ${id} (${r.approvals.length}/${r.approvalsRequired}).`);
      }
    }
  }

  async reject(actor: Actor, id: RequestId, reason: string, seenStep?: string): Promise<Reply> {
    const request = await this.deps.store.get(id);
    if (!request) return reply(false, `There is no request ${id}.`);
    const say = (ok: boolean, text: string): Reply => ({ ok, text, workspace: request.operation.workspace });
    const ws = this.workspaceOf(request);
    if (!ws) return say(false, notServed(request));
    const decision = await ws.policy.mayDecide(actor.userId, actor.teamId, request);
    if (!decision.ok) return say(false, `You cannot reject ${id}: ${decision.reason}.`);
    const now = this.deps.clock.now();
    const result = await this.deps.store.reject(id, actor.userId, reason, now, seenStep);
    if (result.kind === 'not_found') return say(false, `There is no request ${id}.`);
    if (result.kind === 'changed') return this.cardChanged(result.request, 'rejected');
    if (result.kind === 'refused') return say(false, `${id} cannot be rejected: ${result.why}.`);
    await this.journal.tell(result.request, { type: 'rejected', actor: actor.userId, at: now, detail: { reason } });
    return say(true, `You rejected ${id}.`);
  }

  async cancel(actor: Actor, id: RequestId): Promise<Reply> {
    const now = this.deps.clock.now();
    const result = await this.deps.store.cancel(id, actor.userId, now);
    if (result.kind === 'not_found') return reply(false, `There is no request ${id}.`);
    if (result.kind === 'refused') return reply(false, `${id} cannot be cancelled: ${result.why}.`);
    await this.journal.tell(result.request, { type: 'cancelled', actor: actor.userId, at: now, detail: {} });
    return { ...reply(true, `You cancelled ${id}.`), workspace: result.request.operation.workspace };
  }

  async withdraw(actor: Actor, id: RequestId, seenStep?: string): Promise<Reply> {
    const now = this.deps.clock.now();
    const result = await this.deps.store.withdraw(id, actor.userId, now, seenStep);
    if (result.kind === 'not_found') return reply(false, `There is no request ${id}.`);
    if (result.kind === 'changed') return this.cardChanged(result.request, 'withdrawn');
    if (result.kind === 'refused') return reply(false, `You cannot withdraw an approval of ${id}: ${result.why}.`);
    await this.journal.tell(result.request, {
      type: 'withdrawn',
      actor: actor.userId,
      at: now,
      detail: { approvals: result.request.approvals.length, required: result.request.approvalsRequired },
    });
    return { ...reply(true, `You withdrew your approval of ${id}.`), workspace: result.request.operation.workspace };
  }

  /**
   * A rotation's second step: any requester may ask; refused until IVS_MIN_OVERLAP has passed,
   * except for a compromised secret (allowed as soon as the successor exists).
   */
  async finishRotation(actor: Actor, id: RequestId, seenStep?: string): Promise<Reply> {
    const request = await this.deps.store.get(id);
    if (!request) return reply(false, `There is no request ${id}.`);
    const say = (ok: boolean, text: string): Reply => ({ ok, text, workspace: request.operation.workspace });
    if (request.state !== 'awaiting_finish' || !request.rotation) return say(false, `${id} is not a rotation waiting to be finished.`);
    const ws = this.workspaceOf(request);
    if (!ws) return say(false, notServed(request));
    const allowed = await ws.policy.mayRequest(actor.userId, actor.teamId, request.teamId);
    if (!allowed.ok) return say(false, `Not allowed: ${allowed.reason}.`);
    const now = this.deps.clock.now();
    const overlapMs = requiredOverlapMs(request.operation, ws.minOverlapMs);
    const allowedAt = (request.rotation.successorCreatedAt ?? now) + overlapMs;
    if (now < allowedAt) {
      return say(false, `Too early: both secrets must coexist for ${formatDuration(overlapMs)}; ${formatDuration(allowedAt - now)} left.`);
    }
    const possible = await ws.policy.approvalPossible([request.requester, actor.userId]);
    if (!possible.ok) return say(false, `The delete step could never be approved: ${possible.reason}.`);
    const retire = stepFingerprint({ fingerprint: request.fingerprint, rotation: { ...request.rotation, step: 'retire' } });
    const result = await this.deps.store.startRetireStep(id, actor.userId, now + ws.requestTtlMs, now, {
      ...(seenStep !== undefined ? { seen: seenStep } : {}),
      retire,
    });
    if (result.kind === 'not_found') return say(false, `There is no request ${id}.`);
    if (result.kind === 'changed') return this.cardChanged(result.request, 'finished');
    if (result.kind === 'refused') return say(false, `${id} cannot be finished: ${result.why}.`);
    const oldSecret = request.operation.action === 'rotate' ? request.operation.secretId : '';
    await this.journal.tell(result.request, { type: 'finish_requested', actor: actor.userId, at: now, detail: { secretId: oldSecret } });
    return say(true, `The delete of the old secret in ${id} now needs approval from someone other than you.`);
  }

  async abandon(actor: Actor, id: RequestId, seenStep?: string): Promise<Reply> {
    const request = await this.deps.store.get(id);
    if (!request) return reply(false, `There is no request ${id}.`);
    const say = (ok: boolean, text: string): Reply => ({ ok, text, workspace: request.operation.workspace });
    const ws = this.workspaceOf(request);
    if (!ws) return say(false, notServed(request));
    const allowed = await ws.policy.mayRequest(actor.userId, actor.teamId, request.teamId);
    if (!allowed.ok) return say(false, `Not allowed: ${allowed.reason}.`);
    const now = this.deps.clock.now();
    const result = await this.deps.store.abandon(id, actor.userId, 'rotation abandoned: both secrets kept', now, seenStep);
    if (result.kind === 'not_found') return say(false, `There is no request ${id}.`);
    if (result.kind === 'changed') return this.cardChanged(result.request, 'abandoned');
    if (result.kind === 'refused') return say(false, `${id} cannot be abandoned: ${result.why}.`);
    await this.journal.tell(result.request, { type: 'abandoned', actor: actor.userId, at: now, detail: {} });
    return say(true, `You abandoned the rotation ${id}; both secrets stay.`);
  }

  /**
   * A click from a version of the card that showed another step: nothing happened. The card is
   * re-rendered, so the person's Slack shows what is pending now before they click again.
   */
  private async cardChanged(request: ApprovalRequest, nothing: string): Promise<Reply> {
    await this.journal.refreshCard(request).catch((err: unknown) => this.deps.log.warn({ err, requestId: request.id }, 'could not record the card refresh'));
    return reply(
      false,
      `The card of ${request.id} changed since you saw it (it now shows fingerprint ${stepFingerprint(request)}), so nothing was ${nothing}. Read the card again before you decide.`,
    );
  }

  /** Sweeper: expires pending requests past their TTL. Safe on every replica (the store transition is atomic). */
  async expireDue(): Promise<number> {
    const now = this.deps.clock.now();
    let expired = 0;
    for (const id of await this.deps.store.dueForExpiry(now)) {
      try {
        const result = await this.deps.store.expire(id, now);
        if (result.kind !== 'ok') continue;
        expired++;
        await this.journal.tell(result.request, { type: 'expired', at: now, detail: {} });
      } catch (err) {
        // One request that cannot be expired (unreadable, say) must not keep the others open.
        this.deps.log.warn({ err, requestId: id }, 'could not expire a due request');
      }
    }
    return expired;
  }

  /** On start: cards of open requests are re-rendered from the store, so no stale buttons survive. */
  async rerenderOpenCards(): Promise<number> {
    const open = await this.deps.store.listOpen();
    for (const request of open) await this.journal.refreshCard(request);
    return open.length;
  }

  listOpen(): Promise<ApprovalRequest[]> {
    return this.deps.store.listOpen();
  }

  get(id: RequestId): Promise<ApprovalRequest | null> {
    return this.deps.store.get(id);
  }

  /** The workspace a stored request belongs to; undefined when this bot does not serve it (any more). */
  workspaceOf(request: ApprovalRequest): Workspace | undefined {
    return this.deps.workspaces.get(request.operation.workspace);
  }

  private async openRequest(
    ws: Workspace,
    actor: Actor,
    channel: string,
    operation: Operation,
    reason: string,
    impact: Platform[],
    maxOpen: number,
    waitForCard = true,
    orphanOf?: RequestId,
  ): Promise<{ reply: Reply; id?: RequestId }> {
    const now = this.deps.clock.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = newRequestId();
      const request: ApprovalRequest = {
        id,
        operation,
        fingerprint: fingerprint(id, operation),
        requester: actor.userId,
        teamId: actor.teamId,
        channel,
        reason,
        state: 'pending',
        approvals: [],
        approvalsRequired: ws.policy.approvalsRequired,
        createdAt: now,
        expiresAt: now + ws.requestTtlMs,
        updatedAt: now,
        impact,
        progress: {},
        ...(operation.action === 'rotate' ? { rotation: { step: 'successor' as const } } : {}),
        ...(orphanOf !== undefined ? { orphanOf } : {}),
      };
      const created = await confirmingLostAnswer(
        () =>
          this.deps.store.create({
            request,
            maxOpenPerRequester: maxOpen,
            ...(operation.action === 'rotate' ? { rotationOf: operation.secretId } : {}),
          }),
        async () => {
          const stored = await this.deps.store.get(id);
          return stored?.requester === actor.userId && stored.createdAt === now ? ({ kind: 'created', request: stored } as const) : undefined;
        },
      );
      if (created.kind === 'id_taken') continue;
      if (created.kind === 'limit') {
        return {
          reply: reply(false, `You already have ${created.open.length} open requests (${created.open.join(', ')}); cancel one or wait for it to finish.`),
        };
      }
      if (created.kind === 'duplicate_rotation') {
        const secretId = operation.action === 'create' ? '' : operation.secretId;
        return { reply: reply(false, `Secret ${secretId} already has an open rotation: ${created.existing} (see \`/ivs status ${created.existing}\`).`) };
      }
      // The store recorded the card post with the request (one atomic step); the thread's first
      // reply follows it in the outbox. Listening starts first: the card may go out at once.
      const posting = waitForCard ? this.deps.outbox.cardPosting(id, CARD_WAIT_MS) : undefined;
      await this.journal.tell(
        created.request,
        { type: 'requested', actor: actor.userId, at: now, detail: { action: operation.action, workspace: operation.workspace } },
        { updateCard: false },
      );
      const needs = `${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'}`;
      const opened = `Request ${id} opened; it needs ${needs} from someone else.`;
      // The bot itself (an orphan's delete request, opened during an execution) does not wait for Slack.
      if (!posting) return { reply: reply(true, opened), id };
      const posted = await posting;
      if (posted.kind === 'refused') {
        const cancelled = await this.deps.store.cancel(id, actor.userId, this.deps.clock.now());
        if (cancelled.kind === 'ok') {
          await this.journal.tell(
            cancelled.request,
            { type: 'cancelled', at: this.deps.clock.now(), detail: { why: `card not posted: ${posted.error}` } },
            { updateCard: false },
          );
        }
        return {
          reply: reply(
            false,
            `Could not post the request card in this channel (Slack said \`${posted.error}\`), so ${id} was cancelled. Is the bot a member of the channel?`,
          ),
        };
      }
      if (posted.kind === 'delayed') {
        return {
          reply: reply(
            true,
            `${opened} Slack is not answering right now, so its card is delayed: it is posted here as soon as Slack answers again (\`/ivs status ${id}\` works meanwhile).`,
          ),
          id,
        };
      }
      return { reply: reply(true, opened), id };
    }
    return { reply: reply(false, 'Could not allocate a request id; try again.') };
  }

  /** A secret active at Intercom without material in Vault gets a delete request opened by the bot. */
  private async openOrphanDelete(origin: ApprovalRequest, secret: SecretInfo, why: string): Promise<RequestId | null> {
    const ws = this.workspaceOf(origin);
    if (!ws) return null;
    const operation: Operation = {
      action: 'delete',
      workspace: origin.operation.workspace,
      secretId: secret.id,
      secretName: secret.name,
      platforms: secret.platforms,
      force: true,
    };
    let impact: Platform[] = [];
    try {
      impact = platformsLeftWithout(await ws.intercom.listSecrets(), secret.id);
    } catch {
      impact = [...secret.platforms];
    }
    const opened = await this.openRequest(
      ws,
      { userId: origin.requester, teamId: origin.teamId },
      origin.channel,
      operation,
      `orphan of ${origin.id}: ${why}; its material is not in Vault, so nobody can sign with it`,
      impact,
      Number.MAX_SAFE_INTEGER,
      false,
      // It does not expire: left undecided, the orphan would stay active with nothing open about it.
      origin.id,
    ).catch((err: unknown) => {
      this.deps.log.error({ err, requestId: origin.id }, 'could not open the orphan delete request');
      return null;
    });
    return opened?.id ?? null;
  }
}

function notServed(request: ApprovalRequest): string {
  return `${request.id} belongs to workspace ${request.operation.workspace}, which this bot does not serve (any more): nothing was changed.`;
}

/** Why an Intercom call failed, in words for the person who asked. */
export function intercomProblem(err: unknown): string {
  if (!(err instanceof IntercomError)) return 'an unexpected error';
  switch (err.kind) {
    case 'unauthorized':
      return 'Intercom rejected the access token (401)';
    case 'forbidden':
      return 'the Intercom token lacks the read_secure_mode_secret scope (403)';
    case 'rate_limited':
      return 'Intercom is rate limiting us; try again in a few seconds';
    case 'unavailable':
      return 'Intercom is unavailable right now';
    default:
      return `Intercom answered ${err.details.status ?? err.kind}`;
  }
}
