import type { Clock, Intercom, Log, MaterialStatus, SecretVault } from './ports';
import type { SecretInfo } from './types';

export interface SecretListing {
  readonly secrets: SecretInfo[];
  /** Absent when Vault could not be asked: the list still shows, and says so. */
  readonly material?: Map<string, MaterialStatus>;
  /** When Intercom was asked (ms since the epoch): the age people are shown. */
  readonly listedAt: number;
}

export interface CatalogOptions {
  readonly clock: Clock;
  /** How long a complete listing may be shown again without asking Intercom and Vault; 0 never. */
  readonly maxAgeMs: number;
  /**
   * Whether a change made by another replica would reach this one right now (see `changed`). While it
   * would not, nothing is reused: a listing that cannot be invalidated is not trusted.
   */
  readonly hearsChanges: () => boolean;
}

/**
 * `/ivs list`: the secrets as Intercom lists them, and whether Vault holds each one's material.
 *
 * During an incident people type `/ivs list` together, and each would otherwise cost Intercom rate
 * limit (which creates and deletes need too) and Vault reads for the same answer. So lists asked for
 * while one is being fetched share it (single flight), and a complete listing is reused for
 * `maxAgeMs` — but only until anything is created or deleted, here or on another replica
 * (`changed`), and only while such changes can be heard. Changes made outside the bot (Intercom's
 * UI, someone else's script) show after at most `maxAgeMs`.
 */
export class SecretCatalog {
  /** Bumped by every change: a listing fetched under an older generation is never kept or shared. */
  private generation = 0;
  private inFlight: { readonly generation: number; readonly listing: Promise<SecretListing> } | undefined;
  /** The last complete listing; `changed()` drops it. */
  private kept: SecretListing | undefined;

  constructor(
    private readonly intercom: Intercom,
    private readonly vault: SecretVault,
    private readonly log: Log,
    private readonly opts: CatalogOptions,
  ) {}

  /** A complete listing young enough to show again, without asking anyone; undefined if there is none. */
  reusable(): SecretListing | undefined {
    const kept = this.kept;
    if (!kept || !this.opts.hearsChanges()) return undefined;
    return this.opts.clock.now() - kept.listedAt < this.opts.maxAgeMs ? kept : undefined;
  }

  list(): Promise<SecretListing> {
    const reusable = this.reusable();
    if (reusable) return Promise.resolve(reusable);
    if (this.inFlight?.generation === this.generation) return this.inFlight.listing;
    const generation = this.generation;
    const listing = this.fetch().then((l) => {
      // Only a complete answer is worth keeping: one without Vault's column asks again next time.
      if (generation === this.generation && l.material && this.opts.maxAgeMs > 0) this.kept = l;
      return l;
    });
    const entry = { generation, listing };
    this.inFlight = entry;
    const clear = () => {
      if (this.inFlight === entry) this.inFlight = undefined;
    };
    listing.then(clear, clear);
    return listing;
  }

  /** A secret was (or may have been) created or deleted, here or elsewhere: forget what was listed before. */
  changed(): void {
    this.generation++;
    this.kept = undefined;
  }

  private async fetch(): Promise<SecretListing> {
    const listedAt = this.opts.clock.now();
    const secrets = await this.intercom.listSecrets();
    try {
      return { secrets, material: await this.vault.materialStatus(secrets.map((s) => s.id)), listedAt };
    } catch (err) {
      this.log.warn({ err }, 'Vault could not be asked about material for /ivs list');
      return { secrets, listedAt };
    }
  }
}
