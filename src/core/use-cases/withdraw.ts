import type { RequestId } from '../types';
import { cardChanged } from './card-changed';
import type { Actor, CardChanged, Labelled, NoRequest, Refused, UseCaseDeps } from './deps';

export type WithdrawOutcome = Labelled<NoRequest | CardChanged | Refused | { readonly kind: 'withdrawn'; readonly id: RequestId }>;

/** The Withdraw button or `/ivs withdraw <id>`: an approver takes their approval back while the request is pending. */
export async function withdraw(deps: UseCaseDeps, actor: Actor, id: RequestId, seenStep?: string): Promise<WithdrawOutcome> {
  const now = deps.clock.now();
  const result = await deps.store.withdraw(id, actor.userId, now, seenStep);
  if (result.kind === 'not_found') return { kind: 'no_request', id };
  if (result.kind === 'changed') return cardChanged(deps, result.request, 'withdrawn');
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why };
  await deps.journal.tell(result.request, {
    type: 'withdrawn',
    actor: actor.userId,
    at: now,
    detail: { approvals: result.request.approvals.length, required: result.request.approvalsRequired },
  });
  return { kind: 'withdrawn', id, workspace: result.request.operation.workspace };
}
