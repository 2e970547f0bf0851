import type { RequestId } from '../types';
import type { Actor, Labelled, NoRequest, Refused, UseCaseDeps } from './deps';

export type CancelOutcome = Labelled<NoRequest | Refused | { readonly kind: 'cancelled'; readonly id: RequestId }>;

/** `/ivs cancel <id>`: the requester takes their own open request back. */
export async function cancel(deps: UseCaseDeps, actor: Actor, id: RequestId): Promise<CancelOutcome> {
  // Read first so the reply can be recorded with the cancellation itself (SPEC §8).
  const request = await deps.store.get(id);
  const now = deps.clock.now();
  const event = { type: 'cancelled', actor: actor.userId, at: now, detail: {} } as const;
  const { result, recorded } = await deps.journal.transition(
    id,
    request ? { request, event } : undefined,
    (tell) => deps.store.cancel(id, actor.userId, now, tell),
    (r) => (r.kind === 'not_found' || r.kind === 'refused' || (r.kind === 'ok' && r.told) ? undefined : { request: r.request, event }),
  );
  if (result.kind === 'not_found') return { kind: 'no_request', id };
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why };
  await recorded;
  return { kind: 'cancelled', id, workspace: result.request.operation.workspace };
}
