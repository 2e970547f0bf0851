import type { Executor } from '../executor';
import { confirmingLostAnswer } from '../lost-answer';
import type { RequestId } from '../types';
import { cardChanged } from './card-changed';
import { type Actor, type CardChanged, type Labelled, type NoRequest, type NotPending, type NotServed, type UseCaseDeps, workspaceOf } from './deps';

export type ApproveOutcome = Labelled<
  | NoRequest
  | NotPending
  | NotServed
  | CardChanged
  /** The policy's plain reason (SPEC §3); `ownRequest`: the requester clicked their own request. */
  | { readonly kind: 'not_allowed'; readonly reason: string; readonly ownRequest?: true }
  | { readonly kind: 'own_request' }
  | { readonly kind: 'already_approved'; readonly id: RequestId }
  | { readonly kind: 'expired'; readonly id: RequestId }
  /** Counted: `approvals` of `required` (the execution has started when they are equal). */
  | { readonly kind: 'approved'; readonly id: RequestId; readonly approvals: number; readonly required: number }
>;

export type ApproveDeps = UseCaseDeps & { readonly executor: Pick<Executor, 'execute'> };

/**
 * The Approve button. `seenStep`: the fingerprint of the step the approver's card showed; the
 * approval counts for that step only. The decisive approval starts the execution.
 */
export async function approve(deps: ApproveDeps, actor: Actor, id: RequestId, seenStep: string): Promise<ApproveOutcome> {
  const request = await deps.store.get(id);
  if (!request) return { kind: 'no_request', id };
  const { workspace } = request.operation;
  if (request.state !== 'pending') return { kind: 'not_pending', id, state: request.state, workspace };
  const ws = workspaceOf(deps, request);
  if (!ws) return { kind: 'not_served', id, workspace };
  const decision = await ws.policy.mayDecide(actor.userId, actor.teamId, request);
  if (!decision.ok) return { kind: 'not_allowed', reason: decision.reason, ...(decision.ownRequest ? { ownRequest: true } : {}), workspace };

  const now = deps.clock.now();
  // Recorded with the approval itself (SPEC §8) when the count is still the one read above.
  const approvals = request.approvals.length + 1;
  const event = { type: 'approved', actor: actor.userId, at: now, detail: { approvals, required: request.approvalsRequired } } as const;
  const { result, recorded } = await deps.journal.transition(
    id,
    { request, event, ifApprovals: approvals },
    (tell) =>
      confirmingLostAnswer(
        () => deps.store.approve(id, actor.userId, now, seenStep, tell),
        async () => {
          const stored = await deps.store.get(id);
          if (!stored?.approvals.includes(actor.userId)) return undefined;
          return { kind: stored.state === 'pending' ? 'recorded' : 'approved', request: stored } as const;
        },
      ),
    (r) =>
      (r.kind === 'recorded' || r.kind === 'approved') && !r.told
        ? {
            request: r.request,
            event: { type: 'approved', actor: actor.userId, at: now, detail: { approvals: r.request.approvals.length, required: r.request.approvalsRequired } },
          }
        : undefined,
  );
  switch (result.kind) {
    case 'not_found':
      return { kind: 'no_request', id, workspace };
    case 'self':
      return { kind: 'own_request', workspace };
    case 'already_approved':
      return { kind: 'already_approved', id, workspace };
    case 'not_pending':
      return { kind: 'not_pending', id, state: result.request.state, workspace };
    case 'expired':
      return { kind: 'expired', id, workspace };
    case 'changed':
      return cardChanged(deps, result.request, 'counted');
    case 'recorded':
    case 'approved': {
      const r = result.request;
      const approved = { kind: 'approved', id, approvals: r.approvals.length, required: r.approvalsRequired, workspace } as const;
      if (result.told) {
        // Recorded with the approval: once the Journal has let the request go, the claim may record
        // "executing" with itself too.
        await recorded;
        if (result.kind === 'approved') void deps.executor.execute(id, r);
        return approved;
      }
      // The execution starts while "approved" is being recorded: the Journal records a request's
      // events in order, and the claim runs through it too (behind this approval, so it records
      // nothing of its own), so "executing" cannot overtake "approved".
      if (result.kind === 'approved') void deps.executor.execute(id);
      await recorded;
      return approved;
    }
  }
}
