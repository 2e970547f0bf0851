import type { ApprovalRequest } from '../request';
import { stepFingerprint } from '../request-id';
import type { CardChanged, NothingDone, UseCaseDeps } from './deps';

/**
 * A click from a version of the card that showed another step: nothing happened. The card is
 * re-rendered, so the person's Slack shows what is pending now before they click again.
 */
export async function cardChanged(deps: UseCaseDeps, request: ApprovalRequest, nothing: NothingDone): Promise<CardChanged> {
  await deps.journal.refreshCard(request).catch((err: unknown) => deps.log.warn({ err, requestId: request.id }, 'could not record the card refresh'));
  return { kind: 'card_changed', id: request.id, fingerprint: stepFingerprint(request), nothing };
}
