import { requiredOverlapMs } from '../request';
import { stepFingerprint } from '../request-id';
import type { RequestId } from '../types';
import { cardChanged } from './card-changed';
import { type Actor, type CardChanged, type Labelled, type NoRequest, type NotServed, type Refused, type UseCaseDeps, workspaceOf } from './deps';

export type FinishOutcome = Labelled<
  | NoRequest
  | NotServed
  | CardChanged
  | Refused
  | { readonly kind: 'not_awaiting_finish'; readonly id: RequestId }
  /** The policy's plain reason. */
  | { readonly kind: 'not_allowed'; readonly reason: string }
  /** Both secrets must coexist for `overlapMs`; `leftMs` of it remain. */
  | { readonly kind: 'too_early'; readonly overlapMs: number; readonly leftMs: number }
  | { readonly kind: 'never_approvable'; readonly reason: string }
  | { readonly kind: 'finish_requested'; readonly id: RequestId }
>;

/**
 * A rotation's second step: any requester may ask; refused until IVS_MIN_OVERLAP has passed,
 * except for a compromised secret (allowed as soon as the successor exists).
 */
export async function finishRotation(deps: UseCaseDeps, actor: Actor, id: RequestId, seenStep?: string): Promise<FinishOutcome> {
  const request = await deps.store.get(id);
  if (!request) return { kind: 'no_request', id };
  const { workspace } = request.operation;
  if (request.state !== 'awaiting_finish' || !request.rotation) return { kind: 'not_awaiting_finish', id, workspace };
  const ws = workspaceOf(deps, request);
  if (!ws) return { kind: 'not_served', id, workspace };
  const allowed = await ws.policy.mayRequest(actor.userId, actor.teamId, request.teamId);
  if (!allowed.ok) return { kind: 'not_allowed', reason: allowed.reason, workspace };
  const now = deps.clock.now();
  const overlapMs = requiredOverlapMs(request.operation, ws.minOverlapMs);
  const allowedAt = (request.rotation.successorCreatedAt ?? now) + overlapMs;
  if (now < allowedAt) return { kind: 'too_early', overlapMs, leftMs: allowedAt - now, workspace };
  const possible = await ws.policy.approvalPossible([request.requester, actor.userId]);
  if (!possible.ok) return { kind: 'never_approvable', reason: possible.reason, workspace };
  const retire = stepFingerprint({ fingerprint: request.fingerprint, rotation: { ...request.rotation, step: 'retire' } });
  const oldSecret = request.operation.action === 'rotate' ? request.operation.secretId : '';
  const event = { type: 'finish_requested', actor: actor.userId, at: now, detail: { secretId: oldSecret } } as const;
  // Recorded with the transition itself (SPEC §8) unless an earlier event is still being recorded.
  const { result, recorded } = await deps.journal.transition(
    id,
    { request, event },
    (tell) =>
      deps.store.startRetireStep(
        id,
        actor.userId,
        now + ws.requestTtlMs,
        now,
        {
          ...(seenStep !== undefined ? { seen: seenStep } : {}),
          retire,
        },
        tell,
      ),
    (r) => (r.kind === 'ok' && !r.told ? { request: r.request, event } : undefined),
  );
  if (result.kind === 'not_found') return { kind: 'no_request', id, workspace };
  if (result.kind === 'changed') return cardChanged(deps, result.request, 'finished');
  if (result.kind === 'refused') return { kind: 'refused', id, why: result.why, workspace };
  await recorded;
  return { kind: 'finish_requested', id, workspace };
}
