import type { Intercom, Log, MaterialStatus, SecretVault } from './ports';
import type { SecretInfo } from './types';

export interface SecretListing {
  readonly secrets: SecretInfo[];
  /** Absent when Vault could not be asked: the list still shows, and says so. */
  readonly material?: Map<string, MaterialStatus>;
}

/**
 * `/ivs list`: the secrets as Intercom lists them, and whether Vault holds each one's material.
 * Lists asked for while one is already being fetched share its answer (single flight): during an
 * incident people type `/ivs list` together, and each would otherwise cost Intercom rate limit and
 * Vault reads for the same answer. Nothing is cached beyond that moment.
 */
export class SecretCatalog {
  private inFlight: Promise<SecretListing> | undefined;

  constructor(
    private readonly intercom: Intercom,
    private readonly vault: SecretVault,
    private readonly log: Log,
  ) {}

  list(): Promise<SecretListing> {
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<SecretListing> {
    const secrets = await this.intercom.listSecrets();
    try {
      return { secrets, material: await this.vault.materialStatus(secrets.map((s) => s.id)) };
    } catch (err) {
      this.log.warn({ err }, 'Vault could not be asked about material for /ivs list');
      return { secrets };
    }
  }
}
