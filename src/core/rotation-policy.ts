import { OPEN_STATES, type ApprovalRequest } from './request';
import type { DueSecret } from './ports';
import type { SecretInfo } from './types';

/**
 * SPEC §10 "Age": which secrets are due for rotation. Pure, so `/ivs list`, `/ivs plan` and the
 * reminder agree on the same answer.
 */

/** A secret's age at `now` (ms); Intercom gives created_at in seconds. */
export function secretAgeMs(secret: SecretInfo, now: number): number {
  return Math.max(0, now - secret.createdAt * 1000);
}

/** Whether `secret` is older than the policy; never due without a policy. */
export function isDue(secret: SecretInfo, rotateAfterMs: number | undefined, now: number): boolean {
  return rotateAfterMs !== undefined && secretAgeMs(secret, now) > rotateAfterMs;
}

/** The secrets older than the policy, oldest first; none without a policy. */
export function dueSecrets(secrets: readonly SecretInfo[], rotateAfterMs: number | undefined, now: number): DueSecret[] {
  return secrets
    .filter((s) => isDue(s, rotateAfterMs, now))
    .map((secret) => ({ secret, ageMs: secretAgeMs(secret, now) }))
    .sort((a, b) => b.ageMs - a.ageMs || a.secret.id.localeCompare(b.secret.id));
}

/** Ids of secrets that have a rotation in an open state (pending, approved, executing, awaiting finish). */
export function secretsWithOpenRotation(requests: readonly ApprovalRequest[]): Set<string> {
  const open = new Set<string>();
  for (const r of requests) {
    if (r.operation.action === 'rotate' && (OPEN_STATES as readonly string[]).includes(r.state)) open.add(r.operation.secretId);
  }
  return open;
}
