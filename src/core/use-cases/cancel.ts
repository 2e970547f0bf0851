import type { RequestId } from '../types';
import type { Actor, Labelled, NoRequest, Refused, UseCaseDeps } from './deps';

export type CancelOutcome = Labelled<NoRequest | Refused | { readonly kind: 'cancelled'; readonly id: RequestId }>;

/** `/ivs cancel <id>`: the requester takes their own open request back. */
export async function cancel(deps: UseCaseDeps, actor: Actor, id: RequestId): Promise<CancelOutcome> {
  const now = deps.clock.now();
  const result = await deps.store.cancel(id, actor.userId, now);
  if (result.kind === 'not_found') return { kind: 'no_request', id };
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why };
  await deps.journal.tell(result.request, { type: 'cancelled', actor: actor.userId, at: now, detail: {} });
  return { kind: 'cancelled', id, workspace: result.request.operation.workspace };
}
