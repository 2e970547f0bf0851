import type { UseCaseDeps } from './deps';

/** On start: cards of open requests are re-rendered from the store, so no stale buttons survive; how many. */
export async function rerenderOpenCards(deps: UseCaseDeps): Promise<number> {
  const open = await deps.store.listOpen();
  for (const request of open) await deps.journal.refreshCard(request);
  return open.length;
}
