import type { Intercom, Log, MaterialStatus, SecretVault } from './ports';
import type { SecretInfo } from './types';

export interface SecretListing {
  readonly secrets: SecretInfo[];
  /** Absent when Vault could not be asked: the list still shows, and says so. */
  readonly material?: Map<string, MaterialStatus>;
}

/** `/ivs list`: the secrets as Intercom lists them, and whether Vault holds each one's material. */
export async function listSecrets(intercom: Intercom, vault: SecretVault, log: Log): Promise<SecretListing> {
  const secrets = await intercom.listSecrets();
  try {
    return { secrets, material: await vault.materialStatus(secrets.map((s) => s.id)) };
  } catch (err) {
    log.warn({ err }, 'Vault could not be asked about material for /ivs list');
    return { secrets };
  }
}
