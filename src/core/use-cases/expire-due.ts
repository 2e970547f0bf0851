import type { TellWith } from '../ports';
import type { ApprovalRequest } from '../request';
import type { UseCaseDeps } from './deps';

/**
 * The expiry's reply says the approvals the request expired with: the count read, if it still holds;
 * a rotation's retire step goes back to waiting to finish with none.
 */
function expiryTell(request: ApprovalRequest, event: TellWith['event']): TellWith {
  if (request.rotation?.step === 'retire') return { request: { ...request, approvals: [] }, event, ifApprovals: 0, ifState: 'awaiting_finish' };
  return { request, event, ifApprovals: request.approvals.length, ifState: 'expired' };
}

/** Sweeper: expires pending requests past their TTL; how many. Safe on every replica (the store transition is atomic). */
export async function expireDue(deps: UseCaseDeps): Promise<number> {
  const now = deps.clock.now();
  let expired = 0;
  for (const id of await deps.store.dueForExpiry(now)) {
    try {
      const event = { type: 'expired', at: now, detail: {} } as const;
      // Read first so the event can be recorded with the expiry itself (SPEC §8). Every replica
      // sweeps: the one whose expiry applies records it, the others' are refused and record nothing.
      const due = await deps.store.get(id);
      const { result, recorded } = await deps.journal.transition(
        id,
        due ? expiryTell(due, event) : undefined,
        (tell) => deps.store.expire(id, now, tell),
        (r) => (r.kind === 'ok' && !r.told ? { request: r.request, event } : undefined),
      );
      if (result.kind !== 'ok') continue;
      expired++;
      await recorded;
    } catch (err) {
      // One request that cannot be expired (unreadable, say) must not keep the others open.
      deps.log.warn({ err, requestId: id }, 'could not expire a due request');
    }
  }
  return expired;
}
