import type { UseCaseDeps } from './deps';

/** Sweeper: expires pending requests past their TTL; how many. Safe on every replica (the store transition is atomic). */
export async function expireDue(deps: UseCaseDeps): Promise<number> {
  const now = deps.clock.now();
  let expired = 0;
  for (const id of await deps.store.dueForExpiry(now)) {
    try {
      const result = await deps.store.expire(id, now);
      if (result.kind !== 'ok') continue;
      expired++;
      await deps.journal.tell(result.request, { type: 'expired', at: now, detail: {} });
    } catch (err) {
      // One request that cannot be expired (unreadable, say) must not keep the others open.
      deps.log.warn({ err, requestId: id }, 'could not expire a due request');
    }
  }
  return expired;
}
