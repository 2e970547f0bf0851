import { RetryLaterError } from '../errors';
import { platformsLeftWithout } from '../impact';
import type { Platform, SecretInfo } from '../types';
import { describeError, failed, platformList, repointCurrents, type StepContext, type StepResult, succeeded } from './step';

export interface DeleteSpec {
  readonly secretId: string;
  readonly secretName: string;
  /** The secret's platforms when the request was opened: whose current/<platform> may still name it. */
  readonly platforms: readonly Platform[];
  /** The request said --force and its card showed exactly these platforms as left without a secret. */
  readonly acknowledgedImpact: readonly Platform[] | null;
}

/**
 * SPEC §4 step 5: re-list, check the secret is still the one named, apply the impact guard, DELETE,
 * then mark the Vault entry deleted and repoint `current/<platform>`. A 404 is "already gone".
 */
export async function deleteSecretEverywhere(ctx: StepContext, spec: DeleteSpec): Promise<StepResult> {
  let secrets: SecretInfo[];
  try {
    secrets = await ctx.intercom.listSecrets();
  } catch (err) {
    // Taking over a delete that may already have been sent: "nothing was deleted" could be false.
    if (ctx.recovering && ctx.request.progress['phase'] === 'deleting') {
      throw new RetryLaterError(`recovery could not list Intercom (${describeError(err)}) to see whether the delete happened`);
    }
    return failed(`could not list Intercom secrets (${describeError(err)}): nothing was deleted`);
  }
  const target = secrets.find((s) => s.id === spec.secretId);
  if (!target) {
    await ctx.tell({ type: 'already_gone', detail: { intercomId: spec.secretId } });
    const vaultNote = await markVaultDeleted(ctx, spec.secretId);
    // Gone already (deleted by hand, or by a replica that died right after its DELETE): its
    // platforms' current/<platform> may still hand signers its material, so repoint them too.
    const problems = await repointCurrents(ctx, spec.platforms, secrets);
    return succeeded(`secret ${spec.secretId} was already gone at Intercom${vaultNote}${problems.length ? `; ${problems.join('; ')}` : ''}`);
  }
  if (target.name !== spec.secretName) {
    return failed(`secret ${spec.secretId} is now named "${target.name}", not "${spec.secretName}" as approved: nothing was deleted`);
  }

  const impact = platformsLeftWithout(secrets, target.id);
  if (impact.length > 0) {
    const acknowledged = spec.acknowledgedImpact !== null && impact.every((p) => spec.acknowledgedImpact?.includes(p));
    if (!acknowledged) {
      return failed(
        `refused: deleting ${target.id} would leave ${platformList(impact)} with no secret` +
          (spec.acknowledgedImpact === null ? ' (open the request with --force to acknowledge that)' : ' (more than the card warned about)') +
          '; nothing was deleted',
      );
    }
  }

  if (ctx.approvalWithdrawn) {
    return failed(`re-check at execution refused it: ${ctx.approvalWithdrawn}; nothing was deleted (secret ${target.id} is still active)`);
  }
  // Before Intercom is touched: a delete Vault could not then record would leave live material and
  // a current/<platform> naming a secret that no longer verifies.
  try {
    await ctx.vault.preflight('delete');
  } catch (err) {
    return failed(`Vault is not ready for the delete (${describeError(err)}): nothing was deleted`);
  }
  await ctx.progress({ phase: 'deleting', intercomSecretId: target.id });
  let result: 'deleted' | 'already_gone';
  try {
    result = await ctx.intercom.deleteSecret(target.id);
  } catch (err) {
    // The DELETE may have been carried out even though no answer said so (a reset, then 5xx on the
    // retries): ask Intercom before telling anyone nothing happened.
    const gone = await ctx.intercom.listSecrets().then(
      (now) => !now.some((s) => s.id === target.id),
      () => undefined,
    );
    if (gone === undefined) {
      throw new RetryLaterError(
        `Intercom did not answer the delete of secret ${target.id} (${describeError(err)}) and could not be listed to see whether it happened`,
      );
    }
    if (!gone) return failed(`Intercom did not delete secret ${target.id} (${describeError(err)}): it is still active`);
    ctx.log.warn({ err, requestId: ctx.request.id, intercomId: target.id }, 'the DELETE failed but Intercom no longer lists the secret');
    result = 'deleted';
  }
  await ctx.tell({ type: result === 'deleted' ? 'deleted' : 'already_gone', detail: { intercomId: target.id, name: target.name } });

  const vaultNote = await markVaultDeleted(ctx, target.id);
  const remaining = secrets.filter((s) => s.id !== target.id);
  const problems = await repointCurrents(ctx, target.platforms, remaining);
  const what = result === 'deleted' ? `deleted secret ${target.id} (${target.name})` : `secret ${target.id} was already gone`;
  return succeeded(`${what}${vaultNote}${problems.length ? `; ${problems.join('; ')}` : ''}`);
}

async function markVaultDeleted(ctx: StepContext, id: string): Promise<string> {
  try {
    const { path } = await ctx.vault.markDeleted(id, new Date(ctx.clock.now()));
    return `; Vault entry ${path} marked deleted`;
  } catch (err) {
    ctx.log.error({ err, requestId: ctx.request.id, intercomId: id }, 'marking the Vault entry deleted failed');
    return `; marking the Vault entry deleted failed (${describeError(err)})`;
  }
}
