import type { Random } from './random';

/** Every kind of fault the drill throws, in the order the table lists them. */
export const FAULT_KINDS = [
  'replica_kill',
  'redis_restart',
  'intercom_429',
  'intercom_5xx',
  'intercom_lost_create',
  'intercom_hang',
  'vault_write_failing',
  'vault_sealed',
  'slack_503',
  'slack_429',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that last a while (a window); the others happen once (the restart follows after `durationMs`). */
const WINDOWS: ReadonlySet<FaultKind> = new Set(['intercom_429', 'intercom_5xx', 'vault_write_failing', 'vault_sealed', 'slack_503', 'slack_429']);

export interface FaultEvent {
  /** Milliseconds after the schedule starts. */
  readonly at: number;
  readonly kind: FaultKind;
  /** A window's length; for a kill or a Redis restart, how long it stays down; 0 for the one-shot Intercom faults. */
  readonly durationMs: number;
  /** For a kill: which replica (an index; the applier moves on to a live one if that one is down). */
  readonly replica?: number;
  /** For a Slack 429 window: the Retry-After it answers. */
  readonly retryAfterSeconds?: number;
}

/** How many of each kind a schedule of `durationMs` gets: about 1.5 kills and 0.7 of each other fault a minute, at least one each. */
function countOf(kind: FaultKind, minutes: number): number {
  if (kind === 'redis_restart') return 1;
  if (kind === 'replica_kill') return Math.max(1, Math.round(minutes * 1.5));
  return Math.max(1, Math.round(minutes * 0.7));
}

/**
 * The seeded fault schedule: the same seed, duration and replica count give the same events. Each
 * starts between 5% and 85% of the way through and ends before the schedule does, so the last
 * stretch runs without new faults and the drill's final wait starts from a quiet system.
 */
export function faultSchedule(random: Random, durationMs: number, replicas: number): FaultEvent[] {
  const minutes = durationMs / 60_000;
  const events: FaultEvent[] = [];
  const startAt = () => Math.round(durationMs * (0.05 + 0.8 * random.next()));
  const longest = Math.max(2_000, Math.min(12_000, Math.round(durationMs / 10)));
  for (const kind of FAULT_KINDS) {
    for (let i = 0; i < countOf(kind, minutes); i++) {
      const at = startAt();
      const room = Math.max(500, durationMs - at);
      let down: number;
      if (kind === 'replica_kill') down = random.int(1_000, 6_000);
      else if (kind === 'redis_restart') down = random.int(500, 3_000);
      else if (WINDOWS.has(kind)) down = random.int(2_000, longest);
      else down = 0;
      events.push({
        at,
        kind,
        durationMs: Math.min(down, room),
        ...(kind === 'replica_kill' ? { replica: random.int(0, replicas - 1) } : {}),
        ...(kind === 'slack_429' ? { retryAfterSeconds: random.int(1, 3) } : {}),
      });
    }
  }
  return events.sort((a, b) => a.at - b.at || a.kind.localeCompare(b.kind));
}
