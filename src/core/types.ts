import type { SecretMaterial } from './secret-material';

export const PLATFORMS = ['web', 'ios', 'android'] as const;
export type Platform = (typeof PLATFORMS)[number];

export function isPlatform(word: string): word is Platform {
  return (PLATFORMS as readonly string[]).includes(word);
}

/** Slack user id (`U…`/`W…`). */
export type UserId = string;
/** Request id as people type it: `R-` and six characters of an unambiguous alphabet. */
export type RequestId = string;

/** An identity verification secret as Intercom lists it (never with material). */
export interface SecretInfo {
  readonly id: string;
  readonly name: string;
  readonly platforms: readonly Platform[];
  /** Unix seconds, as Intercom gives it. */
  readonly createdAt: number;
}

/** What Intercom's create returns: the listing fields plus the one-time material. */
export interface CreatedSecret extends SecretInfo {
  readonly material: SecretMaterial;
}
