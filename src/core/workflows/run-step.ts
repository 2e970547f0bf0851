// core/workflows/: the steps an approved request carries out (create, delete, rotate) against Intercom and Vault.
import { formatDuration } from '../../duration';
import { RetryLaterError } from '../errors';
import type { SecretInfo } from '../types';
import { baseName } from '../request-id';
import { requiredOverlapMs } from '../request';
import { createSecretIntoVault } from './create-secret';
import { deleteSecretEverywhere } from './delete-secret';
import { describeError, failed, type StepContext, type StepResult, succeeded } from './step';

/** Carries out the approved step of a request: create, delete, or one of a rotation's two steps. */
export async function runStep(ctx: StepContext): Promise<StepResult> {
  const op = ctx.request.operation;
  switch (op.action) {
    case 'create': {
      const created = await createSecretIntoVault(ctx, { name: op.name, platforms: op.platforms });
      if (!created.ok) return created.result;
      return succeeded(
        `created secret ${created.secret.id} (${created.secret.name}); material stored at ${created.vaultPath} v${created.vaultVersion}` +
          (created.warnings.length ? `; ${created.warnings.join('; ')}` : ''),
      );
    }
    case 'delete':
      return deleteSecretEverywhere(ctx, {
        secretId: op.secretId,
        secretName: op.secretName,
        platforms: op.platforms,
        acknowledgedImpact: op.force ? ctx.request.impact : null,
      });
    case 'rotate':
      return ctx.request.rotation?.step === 'retire' ? retireOld(ctx) : createSuccessor(ctx);
  }
}

async function createSuccessor(ctx: StepContext): Promise<StepResult> {
  const op = ctx.request.operation;
  if (op.action !== 'rotate') throw new Error('not a rotation');
  const created = await createSecretIntoVault(ctx, { name: baseName(op.secretName), platforms: op.platforms });
  if (!created.ok) return created.result;
  const createdAt = ctx.clock.now();
  return {
    state: 'awaiting_finish',
    outcome:
      `successor ${created.secret.id} created and stored at ${created.vaultPath}; roll it out to every signer, then finish the rotation ` +
      (op.compromised ? '(allowed now: the old secret is compromised)' : `(allowed after ${formatDuration(ctx.minOverlapMs)})`) +
      (created.warnings.length ? `; ${created.warnings.join('; ')}` : ''),
    rotation: {
      step: 'successor',
      successor: { id: created.secret.id, name: created.secret.name, createdAt: created.secret.createdAt },
      successorCreatedAt: createdAt,
    },
  };
}

/** A rotation's second step: only after the overlap, only while the successor lives with its material in Vault. */
async function retireOld(ctx: StepContext): Promise<StepResult> {
  const { request } = ctx;
  const op = request.operation;
  const rotation = request.rotation;
  if (op.action !== 'rotate' || !rotation?.successor || rotation.successorCreatedAt === undefined) {
    return failed('the rotation has no successor on record: nothing was deleted');
  }
  // Taking over after the DELETE may have been sent: when the old secret is gone already, only the
  // cleanup is left (its checks passed before); when Intercom cannot say, look again later rather than
  // report "nothing was deleted". When it is still there, the checks run as on a first attempt.
  if (ctx.recovering && request.progress['phase'] === 'deleting') {
    let listed: readonly SecretInfo[];
    try {
      listed = await ctx.intercom.listSecrets();
    } catch (err) {
      throw new RetryLaterError(`recovery could not list Intercom (${describeError(err)}) to see whether the delete happened`);
    }
    if (!listed.some((s) => s.id === op.secretId)) return retire(ctx, rotation.successor.id);
  }
  // A compromised secret is deleted as soon as its successor exists (SPEC §10); both steps still needed approval.
  const allowedAt = rotation.successorCreatedAt + requiredOverlapMs(op, ctx.minOverlapMs);
  if (ctx.clock.now() < allowedAt) {
    return failed(`refused: the overlap has ${formatDuration(allowedAt - ctx.clock.now())} left: nothing was deleted`);
  }
  const successorId = rotation.successor.id;
  try {
    const secrets = await ctx.intercom.listSecrets();
    if (!secrets.some((s) => s.id === successorId)) return failed(`refused: the successor ${successorId} no longer exists at Intercom: nothing was deleted`);
    const status = (await ctx.vault.materialStatus([successorId])).get(successorId);
    if (status !== 'present') return failed(`refused: Vault holds no material for the successor ${successorId}: nothing was deleted`);
  } catch (err) {
    return failed(`could not check the successor (${describeError(err)}): nothing was deleted`);
  }
  return retire(ctx, successorId);
}

/** Deletes the rotated secret; never leaves a platform without a secret (the guard runs with no acknowledgement). */
async function retire(ctx: StepContext, successorId: string): Promise<StepResult> {
  const op = ctx.request.operation;
  if (op.action !== 'rotate') return failed('not a rotation: nothing was deleted');
  const result = await deleteSecretEverywhere(ctx, { secretId: op.secretId, secretName: op.secretName, platforms: op.platforms, acknowledgedImpact: null });
  return result.state === 'succeeded' ? succeeded(`rotation finished: ${successorId} replaces ${op.secretId}; ${result.outcome}`) : result;
}
