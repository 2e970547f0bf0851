import type { Platform, SecretInfo } from './types';

/** Platforms that `target` covers and no other listed secret does: deleting it leaves them with none. */
export function platformsLeftWithout(secrets: readonly SecretInfo[], targetId: string): Platform[] {
  const target = secrets.find((s) => s.id === targetId);
  if (!target) return [];
  const others = secrets.filter((s) => s.id !== targetId);
  return target.platforms.filter((p) => !others.some((s) => s.platforms.includes(p)));
}

/** Newest secret per platform among those given (what `current/<platform>` should point at). */
export function newestFor(platform: Platform, secrets: readonly SecretInfo[]): SecretInfo | null {
  let newest: SecretInfo | null = null;
  for (const s of secrets) {
    if (!s.platforms.includes(platform)) continue;
    if (!newest || s.createdAt > newest.createdAt || (s.createdAt === newest.createdAt && Number(s.id) > Number(newest.id))) newest = s;
  }
  return newest;
}

export function countByPlatform(secrets: readonly SecretInfo[]): Record<Platform, number> {
  const counts: Record<Platform, number> = { web: 0, ios: 0, android: 0 };
  for (const s of secrets) for (const p of s.platforms) counts[p]++;
  return counts;
}
