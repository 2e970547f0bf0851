import type { RequestId } from '../types';
import { cardChanged } from './card-changed';
import { type Actor, type CardChanged, type Labelled, type NoRequest, type NotServed, type Refused, type UseCaseDeps, workspaceOf } from './deps';

export type AbandonOutcome = Labelled<
  | NoRequest
  | NotServed
  | CardChanged
  | Refused
  /** The policy's plain reason. */
  | { readonly kind: 'not_allowed'; readonly reason: string }
  | { readonly kind: 'abandoned'; readonly id: RequestId }
>;

/** The Abandon button of a rotation waiting to finish: both secrets are kept, the rotation ends. */
export async function abandon(deps: UseCaseDeps, actor: Actor, id: RequestId, seenStep?: string): Promise<AbandonOutcome> {
  const request = await deps.store.get(id);
  if (!request) return { kind: 'no_request', id };
  const { workspace } = request.operation;
  const ws = workspaceOf(deps, request);
  if (!ws) return { kind: 'not_served', id, workspace };
  const allowed = await ws.policy.mayRequest(actor.userId, actor.teamId, request.teamId);
  if (!allowed.ok) return { kind: 'not_allowed', reason: allowed.reason, workspace };
  const now = deps.clock.now();
  const event = { type: 'abandoned', actor: actor.userId, at: now, detail: {} } as const;
  // Recorded with the transition itself (SPEC §8) unless an earlier event is still being recorded.
  const { result, recorded } = await deps.journal.transition(
    id,
    { request, event },
    (tell) => deps.store.abandon(id, actor.userId, 'rotation abandoned: both secrets kept', now, seenStep, tell),
    (r) => (r.kind === 'ok' && !r.told ? { request: r.request, event } : undefined),
  );
  if (result.kind === 'not_found') return { kind: 'no_request', id, workspace };
  if (result.kind === 'changed') return cardChanged(deps, result.request, 'abandoned');
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why, workspace };
  await recorded;
  return { kind: 'abandoned', id, workspace };
}
