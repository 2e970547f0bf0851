import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { configWarnings, type Config } from './config';
import type { Executor } from './core/executor';
import type { Clock } from './core/ports';
import type { ApprovalRequest } from './core/request';
import type { WatchOutcome } from './core/rotation-watch';
import { reconcileCurrents } from './core/workflows/reconcile-currents';
import type { Workspaces } from './core/workspace';
import type { Metrics } from './metrics';
import type { RedisClient } from './redis/connection';
import type { SlackDelivery } from './slack/delivery';
import { DELIVERY_DRAIN_MS, DRAIN_TIMEOUT_MS, RECONCILE_INTERVAL_MS, ROTATION_CHECK_INTERVAL_MS } from './tuning';

/** The running bot: start, the periodic sweeps every replica runs, and an orderly shutdown. */

export interface RuntimeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly app: App;
  readonly socketMode: boolean;
  readonly replicaId: string;
  readonly workspaces: Workspaces;
  readonly executor: Executor;
  readonly delivery: SlackDelivery;
  /** Expires the pending requests that are due. */
  expireDue(): Promise<unknown>;
  listOpen(): Promise<ApprovalRequest[]>;
  /** Brings every open card up to date; how many there were. */
  rerenderOpenCards(): Promise<number>;
  checkRotations(): Promise<WatchOutcome>;
  /** Closed at shutdown, after the executions and the outbox: the catalog's change feed, Vault's session, Redis. */
  readonly closing: {
    readonly catalogChanges: { close(): Promise<void> };
    readonly vault: { close(): void };
    readonly redis: RedisClient;
  };
  readonly sweepIntervalMs: number;
  /** Whether sweeps check current/<platform>. */
  readonly reconcileCurrents: boolean;
}

export class BotRuntime {
  private shutdownRequested = false;
  private stopSweeping: (() => void) | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  // Workspaces with a create or delete approved or running (their current/<platform> is left alone).
  private busyWithSecrets: ReadonlySet<string> | 'all' = 'all';
  private lastReconciled = Number.NEGATIVE_INFINITY;
  private lastRotationCheck = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: RuntimeDeps) {}

  /** True from the moment stop() is called (/readyz then says not ready). */
  get shuttingDown(): boolean {
    return this.shutdownRequested;
  }

  // Each part on its own: one that keeps failing (a request that cannot be decoded, say) must not
  // stop the others, above all the recovery of stale leases.
  private readonly sweepParts: ReadonlyArray<readonly [string, () => Promise<void>]> = [
    ['expiring due requests', async () => void (await this.deps.expireDue())],
    ['recovering stale leases', () => this.deps.executor.recoverStale()],
    [
      'counting open requests',
      async () => {
        const { metrics, workspaces } = this.deps;
        const open = await this.deps.listOpen();
        metrics.openRequests.reset();
        for (const r of open) metrics.openRequests.inc({ state: r.state, workspace: workspaces.has(r.operation.workspace) ? r.operation.workspace : '' });
        this.busyWithSecrets = new Set(open.filter((r) => r.state === 'approved' || r.state === 'executing').map((r) => r.operation.workspace));
      },
    ],
    [
      'checking current/<platform>',
      async () => {
        const { clock, workspaces } = this.deps;
        // Not while a create or delete may be repointing it itself; at start, then once a minute.
        if (!this.deps.reconcileCurrents || this.busyWithSecrets === 'all' || clock.now() - this.lastReconciled < RECONCILE_INTERVAL_MS) return;
        this.lastReconciled = clock.now();
        const busy = this.busyWithSecrets;
        // Each workspace on its own: one whose Intercom is down must not keep the others unchecked.
        for (const ws of workspaces.values()) {
          if (busy.has(ws.name)) continue;
          await reconcileCurrents({ intercom: ws.intercom, vault: ws.vault, log: ws.log }).catch((err: unknown) => {
            ws.log.warn({ err }, 'sweep: checking current/<platform> failed; will try again');
          });
        }
      },
    ],
    [
      'checking rotations (reminders, stalled rotations, waiting approvals)',
      async () => {
        // Asks Intercom (with a policy), so not every sweep: at start, then every few minutes.
        if (this.deps.clock.now() - this.lastRotationCheck < ROTATION_CHECK_INTERVAL_MS) return;
        this.lastRotationCheck = this.deps.clock.now();
        await this.deps.checkRotations();
      },
    ],
  ];

  /** One sweep: expire due requests, recover stale leases, and the periodic checks. Runs on a timer after start(). */
  async sweep(): Promise<void> {
    for (const [what, part] of this.sweepParts) {
      if (this.shutdownRequested) return;
      try {
        await part();
      } catch (err) {
        this.deps.logger.warn({ err }, `sweep: ${what} failed; will try again`);
      }
    }
  }

  /** Starts serving; resolves with the bound port (PORT, or a free one for 0). */
  async start(): Promise<{ port: number }> {
    const { app, config, logger, socketMode, delivery } = this.deps;
    // Bolt's Socket Mode receiver listens for the health routes without waiting or handling
    // errors, so a taken PORT would crash the process with a stack trace: check it first.
    if (socketMode) await assertPortFree(config.port);
    await app.init();
    const server = (await app.start(config.port)) as unknown;
    const port = socketMode ? config.port : ((server as Server).address() as AddressInfo).port;
    logger.info({ port, mode: socketMode ? 'socket' : 'http', replicaId: this.deps.replicaId }, 'ivs-bot started');
    for (const warning of configWarnings(config)) logger.warn(warning);
    delivery.start();
    // After a restart: no stale buttons, and whatever a dead replica left behind is picked up.
    try {
      const open = await this.deps.rerenderOpenCards();
      logger.info({ open }, 'open request cards re-rendered');
    } catch (err) {
      logger.warn({ err }, 'could not re-render open cards at start');
    }
    await this.sweep();
    this.stopSweeping = this.deps.clock.every(this.deps.sweepIntervalMs, () => {
      this.sweeping ??= this.sweep().finally(() => {
        this.sweeping = undefined;
      });
    });
    return { port };
  }

  /** Stops taking work, lets executions finish (bounded), closes connections. Idempotent. */
  stop(opts: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.stopped ??= (async () => {
      const { app, executor, delivery, closing, logger } = this.deps;
      this.shutdownRequested = true;
      this.stopSweeping?.();
      await this.sweeping;
      const drained = await executor.drain(opts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      if (!drained) logger.warn({ inFlight: executor.inFlight }, 'executions still running at shutdown: left to lease recovery');
      await app.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the Slack receiver failed'));
      // The thread hears what the drained executions did (bounded); what is not delivered by then
      // stays in Redis for the next replica (or this one after a restart).
      await delivery.stop(Math.min(opts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS, DELIVERY_DRAIN_MS));
      await closing.catalogChanges.close();
      // Token renewal stops with the bot.
      closing.vault.close();
      await closing.redis.quit().catch(() => closing.redis.disconnect());
      logger.info('ivs-bot stopped');
    })();
    return this.stopped;
  }
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `PORT ${port} is already in use` : `PORT ${port} cannot be used (${err.code ?? 'error'})`)),
    );
    probe.listen(port, () => probe.close(() => resolve()));
  });
}
