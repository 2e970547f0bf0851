import type { SecretInfo } from '../../core/types';
import { planOperation, type PlanSpec } from '../../core/plan';
import { dueSecrets } from '../../core/rotation-policy';
import { formatDuration } from '../../duration';
import type { CreateCommand, DeleteCommand, RotateCommand } from '../command-parser';
import { renderPlan } from '../views/plan';
import { intercomProblem } from '../views/replies';
import type { ServedWorkspace } from '../workspaces';

/** Lists once (a read) and computes; no write anywhere. */
export async function runPlan(target: CreateCommand | DeleteCommand | RotateCommand, workspace: ServedWorkspace, now: number): Promise<string> {
  let secrets: SecretInfo[];
  try {
    secrets = await workspace.intercom.listSecrets();
  } catch (err) {
    return `Could not plan in workspace ${workspace.name}: ${intercomProblem(err)}.`;
  }
  const spec: PlanSpec =
    target.kind === 'create'
      ? { action: 'create', name: target.name, platforms: target.platforms }
      : target.kind === 'delete'
        ? { action: 'delete', secretId: target.secretId, force: target.force }
        : { action: 'rotate', secretId: target.secretId, compromised: target.compromised };
  const plan = planOperation(secrets, spec, workspace.approvalsRequired, formatDuration(workspace.minOverlapMs));
  return renderPlan(plan, workspace.name, dueSecrets(secrets, workspace.rotateAfterMs, now), workspace.rotateAfterMs);
}
