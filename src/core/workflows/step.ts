import type { ApprovalRequest, RotationProgress } from '../request';
import type { AuditEventWithout, Clock, Intercom, Log, SecretVault } from '../ports';
import { IntercomError, VaultError } from '../errors';
import { newestFor } from '../impact';
import type { Platform, RequestId, SecretInfo } from '../types';

/** What a workflow step may use. No Slack, Redis or HTTP: only ports. */
export interface StepContext {
  readonly request: ApprovalRequest;
  /** True when this replica took over an execution whose lease ran out (a crashed replica). */
  readonly recovering: boolean;
  /**
   * Set when the re-check at execution refused the request but a recovery must still finish what the
   * crashed replica started: the reason. No new create or delete may be sent to Intercom then.
   */
  readonly approvalWithdrawn?: string;
  readonly intercom: Intercom;
  readonly vault: SecretVault;
  readonly clock: Clock;
  readonly log: Log;
  readonly minOverlapMs: number;
  /**
   * How long a previous executor of this request, fenced off by a takeover, may still be sending a
   * create or storing its material (its POST and Vault write are bounded by their timeouts).
   */
  readonly holderWindowMs: number;
  /** Thread reply + audit entry for an intermediate event. */
  tell(event: AuditEventWithout<'requestId' | 'workspace' | 'at'>): Promise<void>;
  /** Breadcrumbs in the store, for recovery after a crash. */
  progress(crumbs: Record<string, string>, opts?: { replicated?: boolean }): Promise<void>;
  /** Opens a delete request for a secret whose material is not in Vault. */
  openOrphanDelete(secret: SecretInfo, why: string): Promise<RequestId | null>;
}

export interface StepResult {
  readonly state: 'succeeded' | 'failed' | 'awaiting_finish';
  readonly outcome: string;
  readonly rotation?: RotationProgress;
}

export const succeeded = (outcome: string): StepResult => ({ state: 'succeeded', outcome });
export const failed = (outcome: string): StepResult => ({ state: 'failed', outcome });

export function platformList(platforms: readonly Platform[]): string {
  return platforms.join(', ');
}

/**
 * After a create or a delete, points each touched `current/<platform>` at the newest active secret
 * of that platform whose material Vault holds. Returns what could not be updated (not fatal: the
 * material itself is safe in `secrets/<id>`).
 */
export async function repointCurrents(
  ctx: Pick<StepContext, 'vault' | 'log' | 'request'>,
  platforms: readonly Platform[],
  active: readonly SecretInfo[],
): Promise<string[]> {
  const problems: string[] = [];
  let status: Map<string, string>;
  try {
    status = await ctx.vault.materialStatus(active.map((s) => s.id));
  } catch (err) {
    // Not knowing which secrets have material is not "none has": current/<platform> stays as it is
    // rather than being cleared under the signers' feet.
    ctx.log.error({ err, requestId: ctx.request.id }, 'Vault could not say which secrets have material; current/<platform> left as it is');
    return platforms.map((p) => `current/${p} not updated (Vault could not say which secrets have material: ${describeError(err)})`);
  }
  const withMaterial = active.filter((s) => status.get(s.id) === 'present');
  for (const platform of platforms) {
    const newest = newestFor(platform, withMaterial);
    try {
      await ctx.vault.repointCurrent(platform, newest);
    } catch (err) {
      ctx.log.error({ err, requestId: ctx.request.id, platform }, 'current/<platform> not updated');
      problems.push(`current/${platform} not updated (${err instanceof Error ? err.message : 'unknown error'})`);
    }
  }
  return problems;
}

/** A failure in a few words for a thread reply: kind, status and codes; never a message body. */
export function describeError(err: unknown): string {
  if (err instanceof IntercomError)
    return `${err.kind}${err.details.status ? ` ${err.details.status}` : ''}${err.details.codes?.length ? ` ${err.details.codes.join(',')}` : ''}`;
  if (err instanceof VaultError) return `${err.kind}: ${err.message}`;
  if (err instanceof Error) return err.name;
  return 'unknown error';
}
