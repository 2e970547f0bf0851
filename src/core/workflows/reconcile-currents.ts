import { VaultError } from '../errors';
import { newestFor } from '../impact';
import type { Intercom, Log, SecretVault } from '../ports';
import { PLATFORMS, type Platform } from '../types';

/**
 * `current/<platform>` must hand out the newest active secret of the platform whose material Vault
 * holds. Executions repoint it after every create and delete, but a repoint can fail (Vault down at
 * that moment, a lost answer), and then signers would keep signing with a secret Intercom no longer
 * has. This compares each platform's pointer with what it should be and repoints those that differ.
 * The sweep runs it now and then, while no create or delete is executing. Throws when Intercom or
 * Vault cannot say what is what: not knowing is never a reason to change a pointer.
 */
export async function reconcileCurrents(deps: { readonly intercom: Intercom; readonly vault: SecretVault; readonly log: Log }): Promise<Platform[]> {
  // The pointers first, then Intercom: a create or delete that repoints in between has already
  // changed Intercom, so the listing agrees with it, and its repoint moves the version, so the
  // check-and-set below refuses to overwrite it with an older answer.
  const current = await Promise.all(PLATFORMS.map(async (platform) => ({ platform, ...(await deps.vault.currentTarget(platform)) })));
  const active = await deps.intercom.listSecrets();
  const status = await deps.vault.materialStatus(active.map((s) => s.id));
  const withMaterial = active.filter((s) => status.get(s.id) === 'present');
  const repointed: Platform[] = [];
  for (const { platform, id: have, version } of current) {
    const want = newestFor(platform, withMaterial);
    if ((want?.id ?? null) === have) continue;
    try {
      await deps.vault.repointCurrent(platform, want, { ifVersion: version });
    } catch (err) {
      if (err instanceof VaultError && err.kind === 'conflict') {
        deps.log.info({ platform }, 'current/<platform> was repointed while it was being checked; the next check looks again');
        continue;
      }
      throw err;
    }
    deps.log.warn({ platform, was: have, now: want?.id ?? null }, 'current/<platform> did not hand out the newest active secret with material: repointed it');
    repointed.push(platform);
  }
  return repointed;
}
