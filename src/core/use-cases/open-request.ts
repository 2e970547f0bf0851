import { platformsLeftWithout } from '../impact';
import { confirmingLostAnswer } from '../lost-answer';
import type { ApprovalRequest, Operation } from '../request';
import { fingerprint, newRequestId } from '../request-id';
import type { Platform, RequestId, SecretInfo } from '../types';
import type { Workspace } from '../workspace';
import type { Actor, UseCaseDeps } from './deps';

export type OpenSpec =
  | { readonly action: 'create'; readonly name: string; readonly platforms: readonly Platform[]; readonly reason: string }
  | { readonly action: 'delete'; readonly secretId: string; readonly reason: string; readonly force: boolean }
  | { readonly action: 'rotate'; readonly secretId: string; readonly reason: string; readonly compromised?: boolean };

/** What opening a request recorded: the request, and whether its card went out while we waited. */
export type Opened = {
  readonly kind: 'opened';
  readonly id: RequestId;
  readonly approvalsRequired: number;
  /** `not_awaited`: the bot opened it itself and did not wait for Slack. */
  readonly card: 'posted' | 'delayed' | 'not_awaited';
};

/** The outcomes of the id loop and the card wait, shared with the bot's own orphan deletes. */
export type NewRequestOutcome =
  | Opened
  | { readonly kind: 'too_many_open'; readonly open: readonly RequestId[] }
  | { readonly kind: 'rotation_open'; readonly secretId: string; readonly existing: RequestId }
  | { readonly kind: 'card_refused'; readonly id: RequestId; readonly error: string }
  | { readonly kind: 'no_id' };

export type OpenOutcome =
  | NewRequestOutcome
  | { readonly kind: 'no_such_workspace'; readonly name: string }
  | { readonly kind: 'not_allowed'; readonly reason: string }
  | { readonly kind: 'compromised_needs_reason' }
  | { readonly kind: 'never_approvable'; readonly reason: string }
  /** `cause`: what the Intercom call threw (an IntercomError, usually). */
  | { readonly kind: 'intercom_unreachable'; readonly secretId: string; readonly workspace: string; readonly cause: unknown }
  | { readonly kind: 'no_such_secret'; readonly secretId: string; readonly workspace: string };

export type OpenDeps = UseCaseDeps & { readonly maxOpenPerRequester: number };

/** How long opening a request waits for its card to be posted before saying it is delayed. */
export const CARD_WAIT_MS = 4_000;

/** `/ivs create|delete|rotate` (and a reminder's Rotate button): checks who asks and what for, then opens. */
export async function openRequest(deps: OpenDeps, actor: Actor, channel: string, workspaceName: string, spec: OpenSpec): Promise<OpenOutcome> {
  const ws = deps.workspaces.get(workspaceName);
  if (!ws) return { kind: 'no_such_workspace', name: workspaceName };
  const { policy } = ws;
  const allowed = await policy.mayRequest(actor.userId, actor.teamId);
  if (!allowed.ok) return { kind: 'not_allowed', reason: allowed.reason };
  // The parser asks for it too; a compromised rotation skips the overlap, so its why is on record.
  if (spec.action === 'rotate' && spec.compromised && spec.reason.trim() === '') return { kind: 'compromised_needs_reason' };
  const possible = await policy.approvalPossible([actor.userId]);
  if (!possible.ok) return { kind: 'never_approvable', reason: possible.reason };

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
      return { kind: 'intercom_unreachable', secretId: spec.secretId, workspace: ws.name, cause: err };
    }
    const target = secrets.find((s) => s.id === spec.secretId);
    if (!target) return { kind: 'no_such_secret', secretId: spec.secretId, workspace: ws.name };
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
  return openWithNewId(deps, ws, actor, channel, operation, spec.reason, impact, deps.maxOpenPerRequester);
}

/**
 * Records a new request under a fresh id (another on the rare collision), tells "requested", and,
 * unless `waitForCard` is false, waits up to CARD_WAIT_MS for its card: a card Slack refuses cancels
 * the request.
 */
export async function openWithNewId(
  deps: UseCaseDeps,
  ws: Workspace,
  actor: Actor,
  channel: string,
  operation: Operation,
  reason: string,
  impact: Platform[],
  maxOpen: number,
  waitForCard = true,
  orphanOf?: RequestId,
): Promise<NewRequestOutcome> {
  const now = deps.clock.now();
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
        deps.store.create({
          request,
          maxOpenPerRequester: maxOpen,
          ...(operation.action === 'rotate' ? { rotationOf: operation.secretId } : {}),
        }),
      async () => {
        const stored = await deps.store.get(id);
        return stored?.requester === actor.userId && stored.createdAt === now ? ({ kind: 'created', request: stored } as const) : undefined;
      },
    );
    if (created.kind === 'id_taken') continue;
    if (created.kind === 'limit') return { kind: 'too_many_open', open: created.open };
    if (created.kind === 'duplicate_rotation') {
      const secretId = operation.action === 'create' ? '' : operation.secretId;
      return { kind: 'rotation_open', secretId, existing: created.existing };
    }
    // The store recorded the card post with the request (one atomic step); the thread's first
    // reply follows it in the outbox. Listening starts first: the card may go out at once.
    const posting = waitForCard ? deps.outbox.cardPosting(id, CARD_WAIT_MS) : undefined;
    await deps.journal.tell(
      created.request,
      { type: 'requested', actor: actor.userId, at: now, detail: { action: operation.action, workspace: operation.workspace } },
      { updateCard: false },
    );
    const opened = (card: Opened['card']): Opened => ({ kind: 'opened', id, approvalsRequired: request.approvalsRequired, card });
    // The bot itself (an orphan's delete request, opened during an execution) does not wait for Slack.
    if (!posting) return opened('not_awaited');
    const posted = await posting;
    if (posted.kind === 'refused') {
      const { recorded } = await deps.journal.transition(
        id,
        undefined,
        () => deps.store.cancel(id, actor.userId, deps.clock.now()),
        (cancelled) =>
          cancelled.kind === 'ok'
            ? {
                request: cancelled.request,
                event: { type: 'cancelled', at: deps.clock.now(), detail: { why: `card not posted: ${posted.error}` } },
                updateCard: false,
              }
            : undefined,
      );
      await recorded;
      return { kind: 'card_refused', id, error: posted.error };
    }
    if (posted.kind === 'delayed') return opened('delayed');
    return opened('posted');
  }
  return { kind: 'no_id' };
}
