import type { Replica } from '../sandbox/server/replicas';
import type { Random } from './random';
import { FAULT_KINDS, type FaultEvent, type FaultKind } from './schedule';
import type { DrillWorld } from './world';

/** How long a create held by the Intercom hang goes unanswered: past the bot's 10 s Intercom timeout. */
const HANG_MS = 20_000;

/**
 * Applies the schedule's faults to the stand-ins, Redis and the replicas, each through the switch
 * the stand-in offers (the same ones the tests and the sandbox use). Windows of the same stand-in
 * may overlap: each switch is on while any window that needs it is open.
 */
export class FaultInjector {
  readonly applied: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Kills not done because no other replica was alive (Slack would have had nobody to talk to). */
  skippedKills = 0;
  private readonly open: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly down = new Set<string>();
  private stopped = false;

  constructor(
    private readonly world: DrillWorld,
    private readonly random: Random,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs the schedule from now on; resolves when its last event has started (windows may still be open). */
  async run(events: readonly FaultEvent[]): Promise<void> {
    const start = Date.now();
    for (const event of events) {
      const wait = start + event.at - Date.now();
      if (wait > 0) await this.sleep(wait);
      if (this.stopped) return;
      this.track(this.apply(event));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.log(`fault failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async apply(event: FaultEvent): Promise<void> {
    const { kind } = event;
    switch (kind) {
      case 'replica_kill':
        await this.killAndRestart(event);
        return;
      case 'redis_restart':
        this.applied[kind] += 1;
        this.log(`redis-server killed (down ${event.durationMs} ms)`);
        await this.world.redis.kill();
        await this.sleep(event.durationMs);
        await this.world.redis.start();
        this.log('redis-server started again (AOF kept its data)');
        return;
      case 'intercom_lost_create':
        this.applied[kind] += 1;
        // The next create is made at Intercom, then its connection drops before the 201 leaves.
        this.world.intercom.failNext('create', { kind: 'apply-then-drop' });
        return;
      case 'intercom_hang':
        this.applied[kind] += 1;
        // The next create is made, and its answer comes only long after the bot gave up on it.
        this.world.intercom.failNext('create', { kind: 'apply-then-stall', ms: HANG_MS });
        return;
      default:
        await this.window(kind, event);
    }
  }

  private async window(kind: FaultKind, event: FaultEvent): Promise<void> {
    this.applied[kind] += 1;
    this.open[kind] += 1;
    this.sync(event);
    await this.sleep(event.durationMs);
    this.open[kind] -= 1;
    this.sync(event);
  }

  /** Sets every window switch to what the open windows ask for. */
  private sync(event?: FaultEvent): void {
    const { intercom, vault, slack } = this.world;
    const on = (k: FaultKind) => this.open[k] > 0;
    intercom.setStandingFault(on('intercom_5xx') ? { status: 503 } : on('intercom_429') ? { status: 429 } : null);
    vault.failWrites(on('vault_write_failing') ? Number.POSITIVE_INFINITY : 0);
    if (on('vault_sealed') && !vault.sealed) vault.seal();
    if (!on('vault_sealed') && vault.sealed) vault.unseal();
    if (on('slack_503')) slack.outage({ status: 503 });
    else if (on('slack_429')) slack.outage({ status: 429, retryAfterSeconds: event?.retryAfterSeconds ?? 1 });
    else slack.outage(null);
  }

  private async killAndRestart(event: FaultEvent): Promise<void> {
    const replicas = this.world.replicas;
    const live = replicas.filter((r) => r.alive && !this.down.has(r.name));
    if (live.length < 2) {
      this.skippedKills += 1;
      return;
    }
    const wanted = replicas[event.replica ?? 0];
    const victim: Replica = wanted && live.includes(wanted) ? wanted : this.random.pick(live);
    this.applied.replica_kill += 1;
    this.down.add(victim.name);
    this.world.expectExit(victim.name);
    this.log(`replica ${victim.name} SIGKILLed (restart in ${event.durationMs} ms)`);
    await victim.kill();
    await this.sleep(event.durationMs);
    await victim.start();
    this.down.delete(victim.name);
    this.log(`replica ${victim.name} started again`);
  }

  /**
   * Every fault off: waits (bounded) for the faults under way to end by themselves (the schedule
   * sized them to end with it; a restart takes what a start takes), then closes any window still
   * open, forgets queued Intercom and Vault faults, and makes sure Redis and every replica are up.
   */
  async stop(timeoutMs = 60_000): Promise<void> {
    this.stopped = true;
    const all = Promise.all([...this.pending]).then(() => true);
    const late = await Promise.race([all, new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref())]);
    if (!late) this.log(`faults still under way after ${timeoutMs} ms: turning them off regardless`);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const k of FAULT_KINDS) this.open[k] = 0;
    this.sync();
    this.world.intercom.clearFaults();
    this.world.vault.clearFaults();
    await this.world.redis.start();
    for (const r of this.world.replicas) if (!r.alive) await r.start();
    this.down.clear();
  }
}
