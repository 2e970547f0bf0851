import type { RequestId } from '../types';
import { cardChanged } from './card-changed';
import { type Actor, type CardChanged, type Labelled, type NoRequest, type NotServed, type Refused, type UseCaseDeps, workspaceOf } from './deps';

export type RejectOutcome = Labelled<
  | NoRequest
  | NotServed
  | CardChanged
  | Refused
  /** The policy's plain reason; `ownRequest`: the requester clicked their own request. */
  | { readonly kind: 'not_allowed'; readonly id: RequestId; readonly reason: string; readonly ownRequest?: true }
  | { readonly kind: 'rejected'; readonly id: RequestId }
>;

/** The reject form's submission (the Reject button asks for a reason first). */
export async function reject(deps: UseCaseDeps, actor: Actor, id: RequestId, reason: string, seenStep?: string): Promise<RejectOutcome> {
  const request = await deps.store.get(id);
  if (!request) return { kind: 'no_request', id };
  const { workspace } = request.operation;
  const ws = workspaceOf(deps, request);
  if (!ws) return { kind: 'not_served', id, workspace };
  const decision = await ws.policy.mayDecide(actor.userId, actor.teamId, request);
  if (!decision.ok) return { kind: 'not_allowed', id, reason: decision.reason, ...(decision.ownRequest ? { ownRequest: true } : {}), workspace };
  const now = deps.clock.now();
  const event = { type: 'rejected', actor: actor.userId, at: now, detail: { reason } } as const;
  // Recorded with the rejection itself (SPEC §8) unless an earlier event is still being recorded.
  const { result, recorded } = await deps.journal.transition(
    id,
    { request, event },
    (tell) => deps.store.reject(id, actor.userId, reason, now, seenStep, tell),
    (r) => (r.kind === 'ok' && !r.told ? { request: r.request, event } : undefined),
  );
  if (result.kind === 'not_found') return { kind: 'no_request', id, workspace };
  if (result.kind === 'changed') return cardChanged(deps, result.request, 'rejected');
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why, workspace };
  await recorded;
  return { kind: 'rejected', id, workspace };
}
