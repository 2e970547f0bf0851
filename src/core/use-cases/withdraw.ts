import type { TellWith } from '../ports';
import type { ApprovalRequest } from '../request';
import type { RequestId } from '../types';
import { cardChanged } from './card-changed';
import type { Actor, CardChanged, Labelled, NoRequest, Refused, UseCaseDeps } from './deps';

export type WithdrawOutcome = Labelled<NoRequest | CardChanged | Refused | { readonly kind: 'withdrawn'; readonly id: RequestId }>;

/** The Withdraw button or `/ivs withdraw <id>`: an approver takes their approval back while the request is pending. */
export async function withdraw(deps: UseCaseDeps, actor: Actor, id: RequestId, seenStep?: string): Promise<WithdrawOutcome> {
  // Read first so the event can be recorded with the withdrawal itself (SPEC §8), when the count
  // it says (the approvals left) is still the one read here.
  const before = await deps.store.get(id);
  const now = deps.clock.now();
  const withdrawnEvent = (request: ApprovalRequest) =>
    ({ type: 'withdrawn', actor: actor.userId, at: now, detail: { approvals: request.approvals.length, required: request.approvalsRequired } }) as const;
  let tell: TellWith | undefined;
  if (before?.approvals.includes(actor.userId)) {
    const left = { ...before, approvals: before.approvals.filter((a) => a !== actor.userId) };
    tell = { request: left, event: withdrawnEvent(left), ifApprovals: left.approvals.length };
  }
  const { result, recorded } = await deps.journal.transition(
    id,
    tell,
    (given) => deps.store.withdraw(id, actor.userId, now, seenStep, given),
    (r) => (r.kind === 'ok' && !r.told ? { request: r.request, event: withdrawnEvent(r.request) } : undefined),
  );
  if (result.kind === 'not_found') return { kind: 'no_request', id };
  if (result.kind === 'changed') return cardChanged(deps, result.request, 'withdrawn');
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why };
  await recorded;
  return { kind: 'withdrawn', id, workspace: result.request.operation.workspace };
}
