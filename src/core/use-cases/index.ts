// core/use-cases: one file per thing a person (or the sweeper) asks of the bot, each (deps, input) → typed outcome.
import type { ApprovalRequest } from '../request';
import type { RequestId } from '../types';
import { abandon } from './abandon';
import { approve, type ApproveDeps } from './approve';
import { cancel } from './cancel';
import type { Actor } from './deps';
import { expireDue } from './expire-due';
import { finishRotation } from './finish-rotation';
import { type OpenDeps, type OpenSpec, openRequest } from './open-request';
import { rerenderOpenCards } from './rerender-cards';
import { reject } from './reject';
import { withdraw } from './withdraw';

export type { AbandonOutcome } from './abandon';
export type { ApproveOutcome } from './approve';
export type { CancelOutcome } from './cancel';
export type { Actor, CardChanged, UseCaseDeps } from './deps';
export type { FinishOutcome } from './finish-rotation';
export { CARD_WAIT_MS, type OpenOutcome, type OpenSpec } from './open-request';
export { openOrphanDelete } from './open-orphan-delete';
export type { RejectOutcome } from './reject';
export type { WithdrawOutcome } from './withdraw';

export type RequestUseCasesDeps = ApproveDeps & OpenDeps;

/**
 * The use cases bound to their ports, for the listeners and the runtime to call by name after ack().
 * Each one's logic lives in its own file; this only saves every caller from passing the ports.
 */
export function requestUseCases(deps: RequestUseCasesDeps) {
  return {
    open: (actor: Actor, channel: string, workspace: string, spec: OpenSpec) => openRequest(deps, actor, channel, workspace, spec),
    approve: (actor: Actor, id: RequestId, seenStep: string) => approve(deps, actor, id, seenStep),
    reject: (actor: Actor, id: RequestId, reason: string, seenStep?: string) => reject(deps, actor, id, reason, seenStep),
    cancel: (actor: Actor, id: RequestId) => cancel(deps, actor, id),
    withdraw: (actor: Actor, id: RequestId, seenStep?: string) => withdraw(deps, actor, id, seenStep),
    finishRotation: (actor: Actor, id: RequestId, seenStep?: string) => finishRotation(deps, actor, id, seenStep),
    abandon: (actor: Actor, id: RequestId, seenStep?: string) => abandon(deps, actor, id, seenStep),
    expireDue: () => expireDue(deps),
    rerenderOpenCards: () => rerenderOpenCards(deps),
    listOpen: (): Promise<ApprovalRequest[]> => deps.store.listOpen(),
    get: (id: RequestId): Promise<ApprovalRequest | null> => deps.store.get(id),
  };
}

export type RequestUseCases = ReturnType<typeof requestUseCases>;
