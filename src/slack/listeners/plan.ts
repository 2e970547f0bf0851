import { planOperation, type PlanSpec } from '../../core/plan';
import { dueSecrets } from '../../core/rotation-policy';
import { intercomProblem } from '../../core/requests';
import { formatDuration } from '../../duration';
import type { CreateCommand, DeleteCommand, RotateCommand } from '../command-parser';
import { renderPlan } from '../views/plan';
import type { ListenerDeps } from './context';

/** Lists once (a read) and computes; no write anywhere. */
export async function runPlan(target: CreateCommand | DeleteCommand | RotateCommand, deps: ListenerDeps): Promise<string> {
  let secrets;
  try {
    secrets = await deps.intercom.listSecrets();
  } catch (err) {
    return `Could not plan: ${intercomProblem(err)}.`;
  }
  const spec: PlanSpec =
    target.kind === 'create'
      ? { action: 'create', name: target.name, platforms: target.platforms }
      : target.kind === 'delete'
        ? { action: 'delete', secretId: target.secretId, force: target.force }
        : { action: 'rotate', secretId: target.secretId, compromised: target.compromised };
  const plan = planOperation(secrets, spec, deps.config.ivs.approvalsRequired, formatDuration(deps.config.ivs.minOverlapMs));
  return renderPlan(plan, dueSecrets(secrets, deps.config.ivs.rotateAfterMs, deps.now()), deps.config.ivs.rotateAfterMs);
}
