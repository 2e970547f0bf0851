import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';
import { configWarnings, type Config } from './config';
import { SecretCatalog } from './core/catalog';
import { Policy } from './core/policy';
import type { AuditLog, Clock, Intercom, Outbox, RequestStore, SecretVault } from './core/ports';
import type { Workspace, Workspaces } from './core/workspace';
import { systemClock } from './clock';
import { RequestService } from './core/requests';
import { reconcileCurrents } from './core/workflows/reconcile-currents';
import { Journal } from './core/journal';
import { RotationWatch, type WatchOutcome } from './core/rotation-watch';
import { createRedisReminderClaims } from './redis/reminder-claims';
import { OutboxRotationReminders } from './slack/rotation-reminders';
import { operationalRoutes } from './http/routes';
import { announcingWrites, countingAuditLog, instrumentPort } from './instrumentation';
import { createIntercomClient } from './intercom';
import { boltLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createAuditChain, createRedisAuditLog } from './redis/audit-log';
import { watchCatalogChanges } from './redis/catalog-changes';
import { connectRedisClient, type RedisClient } from './redis/connection';
import { createRedisRequestStore } from './redis/request-store';
import { SlackDirectory } from './slack/directory';
import { registerListeners } from './slack/listeners';
import { createRedisOutboxQueue } from './redis/outbox-queue';
import { DEFAULT_DELIVERY, SlackDelivery, type DeliveryOptions } from './slack/delivery';
import { eventItems, SlackOutbox } from './slack/slack-outbox';
import { TimedWebClient } from './slack/timed-client';
import { createSecretVault, type VaultAdapter } from './vault';
import { ServedWorkspaces } from './slack/workspaces';
import { fileOffsetClock } from './sandbox-clock';

/** Lease of an executing request; renewed at a third of this while the step runs (SPEC §4 item 2). */
export const LEASE_MS = 15_000;
/** How often each replica expires due requests and looks for stale leases. */
export const SWEEP_INTERVAL_MS = 5_000;
/** How often a replica checks that every current/<platform> hands out the right secret. */
export const RECONCILE_INTERVAL_MS = 60_000;
/** How often a replica checks for due secrets, stalled rotations and waiting approvals (SPEC §10); also at start. */
export const ROTATION_CHECK_INTERVAL_MS = 5 * 60_000;
/** How long SIGTERM waits for running executions before leaving them to lease recovery. */
export const DRAIN_TIMEOUT_MS = 20_000;
/** Every Slack Web API call (and response_url post) gives up after this long without an answer. */
export const SLACK_CALL_TIMEOUT_MS = 10_000;
/** How long SIGTERM lets the Slack outbox deliver what is due before the process exits. */
export const DELIVERY_DRAIN_MS = 5_000;
/** users.info and usergroups.users.list answer fast or not at all; a decision must not hang on them. */
export const DIRECTORY_TIMEOUT_MS = 5_000;

export interface BotOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Test seams; production builds them all from the config. */
  readonly leaseMs?: number;
  readonly sweepIntervalMs?: number;
  readonly intercomRetry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRateLimitWaitMs?: number };
  readonly intercomTimeoutMs?: number;
  /** How long a fenced-off executor may still be writing (see RequestSettings.holderWindowMs). */
  readonly holderWindowMs?: number;
  readonly replicaId?: string;
  /** Whether sweeps check current/<platform> (default true); the test harness turns it off unless a test wants it. */
  readonly reconcileCurrents?: boolean;
  /** Slack delivery: lease, polling, pacing and backoff (production: DEFAULT_DELIVERY). */
  readonly delivery?: Partial<Pick<DeliveryOptions, 'leaseMs' | 'pollMs' | 'pacing' | 'backoff'>>;
  readonly slackTimeoutMs?: number;
}

export interface Bot {
  readonly app: App;
  readonly requests: RequestService;
  readonly metrics: Metrics;
  readonly redis: RedisClient;
  readonly delivery: SlackDelivery;
  /** What everything told to Slack goes through (for use cases outside the request service, e.g. reminders). */
  readonly outbox: Outbox;
  /** Starts serving; resolves with the bound port (PORT, or a free one for 0). */
  start(): Promise<{ port: number }>;
  /** Stops taking work, lets executions finish (bounded), closes connections. Idempotent. */
  stop(opts?: { drainTimeoutMs?: number }): Promise<void>;
  /** One sweep: expire due requests, recover stale leases. Runs on a timer after start(). */
  sweep(): Promise<void>;
  /** Reminders and nudges now (SPEC §10); sweeps run it at start and every ROTATION_CHECK_INTERVAL_MS. */
  checkRotations(): Promise<WatchOutcome>;
}

/** Builds the whole bot from a validated config: adapters at the edges, the core in the middle. */
export function createBot(config: Config, opts: BotOptions): Bot {
  const { logger } = opts;
  const clock = opts.clock ?? (config.sandbox ? fileOffsetClock(config.sandbox.clockFile) : systemClock);
  const metrics = createMetrics();
  const replicaId = opts.replicaId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;

  const redis = connectRedisClient(config.redis.url, { logger });
  // One view of the audit chain's head for the audit log and for the transitions that append their
  // own event (approve, claim: SPEC §8, notices in the same atomic step).
  const auditChain = createAuditChain(logger);
  // The outbox is built further down; what a transition recorded is delivered once it exists.
  let kickOutbox: (channel: string) => void = () => undefined;
  const store: RequestStore = createRedisRequestStore(redis, {
    keyPrefix: config.redis.keyPrefix,
    // The environment's one workspace keeps the first release's keys exactly (SPEC §9).
    ...(config.ivs.configFile ? {} : { unqualifiedWorkspace: config.workspaces[0]?.name ?? 'default' }),
    tellWith: { chain: auditChain, render: eventItems, recorded: (channel) => kickOutbox(channel) },
  });
  const audit: AuditLog = countingAuditLog(createRedisAuditLog(redis, { keyPrefix: config.redis.keyPrefix, logger, chain: auditChain }), metrics);
  // The first workspace's Vault adapter owns the connection (one login); the others share it.
  let vaultOwner: VaultAdapter | undefined;
  // Any write to Intercom or to a secret's Vault entry, in any workspace, on any replica, drops every
  // kept listing (a listing is small; telling which workspace changed is not worth a second channel).
  const catalogs: SecretCatalog[] = [];
  const catalogChanges = watchCatalogChanges(redis, {
    channel: `${config.redis.keyPrefix}secrets-changed`,
    onChange: () => {
      for (const c of catalogs) c.changed();
    },
    logger,
  });
  const perWorkspace = config.workspaces.map((w) => {
    const log = logger.child({ workspace: w.name });
    const intercomClient: Intercom = instrumentPort(
      createIntercomClient({
        baseUrl: w.intercom.apiUrl,
        accessToken: w.intercom.accessToken,
        logger: log,
        ...(opts.intercomTimeoutMs ? { timeoutMs: opts.intercomTimeoutMs } : {}),
        ...(opts.intercomRetry ? { retry: opts.intercomRetry } : {}),
      }),
      'intercom',
      metrics,
      w.name,
    );
    const adapter = createSecretVault({
      addr: config.vault.addr,
      auth: config.vault.auth,
      kvMount: config.vault.kvMount,
      pathPrefix: w.vaultPathPrefix,
      workspace: w.name,
      logger: log,
      now: () => clock.now(),
      ...(config.vault.namespace ? { namespace: config.vault.namespace } : {}),
      ...(config.vault.caPem ? { caPem: config.vault.caPem } : {}),
      ...(vaultOwner ? { sharing: vaultOwner } : {}),
    });
    vaultOwner ??= adapter;
    const vaultClient: SecretVault = instrumentPort(adapter, 'vault', metrics, w.name);

    // `/ivs list` may show a listing again for a few seconds, until any replica writes what a listing
    // shows (an Intercom secret, a secret's material in Vault; not current/<platform>): every such
    // write announces itself (core/catalog.ts).
    const catalog = new SecretCatalog(intercomClient, vaultClient, log, {
      clock,
      maxAgeMs: config.ivs.listMaxAgeMs,
      hearsChanges: () => catalogChanges.hearing(),
    });
    catalogs.push(catalog);
    const intercom = announcingWrites(intercomClient, ['createSecret', 'deleteSecret'], catalogChanges.announce);
    const vault = announcingWrites(vaultClient, ['storeSecret', 'markDeleted'], catalogChanges.announce);
    return { config: w, log, intercom, vault, catalog };
  });
  const vaultAdapter = vaultOwner as VaultAdapter;
  const readinessVault = perWorkspace[0]?.vault as SecretVault;

  const slackTimeoutMs = opts.slackTimeoutMs ?? SLACK_CALL_TIMEOUT_MS;
  const slackClientOptions = {
    slackApiUrl: config.slack.apiUrl,
    // Interactive work (views.open, postEphemeral): a few quick retries, never the default half
    // hour, and no call without an answer for longer than the timeout.
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    timeout: slackTimeoutMs,
  };
  let shuttingDown = false;
  const socketMode = Boolean(config.slack.appToken);
  const app = new App({
    token: config.slack.botToken,
    ...(socketMode ? { socketMode: true, appToken: config.slack.appToken } : { signingSecret: config.slack.signingSecret }),
    logger: boltLogger(logger),
    logLevel: LogLevel.INFO,
    // Bolt's default in-memory conversation store is per process (wrong with replicas), unused here,
    // and costs an Error with a stack trace on every event it does not know.
    convoStore: false,
    deferInitialization: true,
    port: config.port,
    clientOptions: slackClientOptions,
    customRoutes: operationalRoutes(
      {
        redis: async () => (await redis.ping()) === 'PONG',
        vault: () => readinessVault.readiness(),
      },
      metrics,
      () => shuttingDown,
    ),
  });

  // respond() posts to the response_url with Bolt's own axios instance (App.axios, not part of its
  // typed surface), which has no timeout of its own.
  const boltAxios = (app as unknown as { axios?: { defaults: { timeout?: number } } }).axios;
  if (boltAxios) boltAxios.defaults.timeout = slackTimeoutMs;

  const boltLog = { logger: boltLogger(logger), logLevel: LogLevel.INFO };
  // Directory lookups have a client of their own: a 429 pauses a WebClient's whole queue, and a
  // delivery's back-pressure must never hold up a decision (or an execution's re-check).
  const directoryClient = new TimedWebClient(
    config.slack.botToken,
    {
      ...boltLog,
      slackApiUrl: config.slack.apiUrl,
      retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
      timeout: Math.min(slackTimeoutMs, DIRECTORY_TIMEOUT_MS),
    },
    metrics,
  );
  // Deliveries: no retries inside the client (the outbox retries, across replicas, as long as
  // IVS_DELIVERY_MAX_AGE allows), and a 429 comes back at once with its Retry-After.
  const deliveryClient = new TimedWebClient(
    config.slack.botToken,
    { ...boltLog, slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: slackTimeoutMs },
    metrics,
  );
  const directory = new SlackDirectory(directoryClient, clock);
  const inFile = Boolean(config.ivs.configFile);
  const workspaces: Workspaces = new Map(
    perWorkspace.map(({ config: w, log, intercom, vault }) => {
      const policy = new Policy(
        {
          requesters: w.requesters,
          approvers: w.approvers,
          approvalsRequired: w.approvalsRequired,
          ...(inFile ? { listNames: { requesters: `the requesters of workspace ${w.name}`, approvers: `the approvers of workspace ${w.name}` } } : {}),
        },
        directory,
      );
      const workspace: Workspace = {
        name: w.name,
        intercom,
        vault,
        policy,
        requestTtlMs: w.requestTtlMs,
        minOverlapMs: w.minOverlapMs,
        ...(w.rotateAfterMs !== undefined ? { rotateAfterMs: w.rotateAfterMs } : {}),
        log,
      };
      return [w.name, workspace] as const;
    }),
  );
  const outboxQueue = createRedisOutboxQueue(redis, { keyPrefix: config.redis.keyPrefix });
  const delivery = new SlackDelivery(deliveryClient, outboxQueue, store, clock, logger, metrics, {
    ...DEFAULT_DELIVERY,
    ...opts.delivery,
    owner: replicaId,
    maxAgeMs: config.ivs.deliveryMaxAgeMs,
    minOverlapMs: (name) => workspaces.get(name)?.minOverlapMs,
  });
  const outbox = new SlackOutbox(outboxQueue, delivery, clock);
  kickOutbox = (channel) => outbox.recorded(channel);
  const requests = new RequestService({
    store,
    audit,
    outbox,
    workspaces,
    clock,
    log: logger,
    settings: {
      maxOpenPerRequester: config.ivs.maxOpenPerRequester,
      leaseMs: opts.leaseMs ?? LEASE_MS,
      // An executor's POST ends within the Intercom timeout, and its Vault write within three
      // attempts of the Vault timeout (5 s) and their pauses: that is how long it may still write.
      holderWindowMs: opts.holderWindowMs ?? (opts.intercomTimeoutMs ?? 10_000) + 3 * 5_000 + 5_000,
      replicaId,
    },
  });

  const served = new ServedWorkspaces(
    perWorkspace.map(({ config: w, intercom, catalog }) => ({
      name: w.name,
      channels: w.channels,
      intercom,
      catalog,
      approvalsRequired: w.approvalsRequired,
      minOverlapMs: w.minOverlapMs,
      ...(w.rotateAfterMs !== undefined ? { rotateAfterMs: w.rotateAfterMs } : {}),
    })),
  );
  registerListeners(app, { config, requests, audit, workspaces: served, log: logger, metrics, now: () => clock.now() });

  // SPEC §10, per workspace: its own rotate_after, its first channel, its approvers. Nudges are
  // thread replies told through the Journal like every event; the reminder, which belongs to no
  // request, goes through the same outbox, recorded in the step that claims it.
  const journal = new Journal(audit, outbox, logger);
  const reminders = new OutboxRotationReminders(outboxQueue, delivery);
  const claims = createRedisReminderClaims(redis, { keyPrefix: config.redis.keyPrefix });
  const rotationWatches = perWorkspace.map(
    ({ config: w, log, intercom }) =>
      new RotationWatch({
        store,
        intercom,
        reminders,
        journal,
        claims,
        clock,
        log,
        settings: {
          workspace: w.name,
          reminderChannel: w.channels[0] ?? '',
          ...(w.rotateAfterMs !== undefined ? { rotateAfterMs: w.rotateAfterMs } : {}),
          reminderIntervalMs: config.ivs.reminderIntervalMs,
          finishReminderMs: config.ivs.finishReminderMs,
          requestTtlMs: w.requestTtlMs,
          approvers: w.approvers,
        },
      }),
  );
  const checkRotations = async (): Promise<WatchOutcome> => {
    const outcomes = await Promise.all(rotationWatches.map((watch) => watch.check()));
    return {
      reminded: outcomes.some((o) => o.reminded),
      finishReminders: outcomes.reduce((n, o) => n + o.finishReminders, 0),
      approvalReminders: outcomes.reduce((n, o) => n + o.approvalReminders, 0),
    };
  };

  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  // Workspaces with a create or delete approved or running (their current/<platform> is left alone).
  let busyWithSecrets: ReadonlySet<string> | 'all' = 'all';
  let lastReconciled = Number.NEGATIVE_INFINITY;
  let lastRotationCheck = Number.NEGATIVE_INFINITY;
  // Each part on its own: one that keeps failing (a request that cannot be decoded, say) must not
  // stop the others, above all the recovery of stale leases.
  const sweepParts: ReadonlyArray<readonly [string, () => Promise<void>]> = [
    ['expiring due requests', async () => void (await requests.expireDue())],
    ['recovering stale leases', () => requests.executor.recoverStale()],
    [
      'counting open requests',
      async () => {
        const open = await requests.listOpen();
        metrics.openRequests.reset();
        for (const r of open) metrics.openRequests.inc({ state: r.state, workspace: workspaces.has(r.operation.workspace) ? r.operation.workspace : '' });
        busyWithSecrets = new Set(open.filter((r) => r.state === 'approved' || r.state === 'executing').map((r) => r.operation.workspace));
      },
    ],
    [
      'checking current/<platform>',
      async () => {
        // Not while a create or delete may be repointing it itself; at start, then once a minute.
        if (opts.reconcileCurrents === false || busyWithSecrets === 'all' || clock.now() - lastReconciled < RECONCILE_INTERVAL_MS) return;
        lastReconciled = clock.now();
        const busy = busyWithSecrets;
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
        if (clock.now() - lastRotationCheck < ROTATION_CHECK_INTERVAL_MS) return;
        lastRotationCheck = clock.now();
        await checkRotations();
      },
    ],
  ];
  const sweep = async (): Promise<void> => {
    for (const [what, part] of sweepParts) {
      if (shuttingDown) return;
      try {
        await part();
      } catch (err) {
        logger.warn({ err }, `sweep: ${what} failed; will try again`);
      }
    }
  };

  return {
    app,
    requests,
    metrics,
    redis,
    delivery,
    outbox,
    sweep,
    checkRotations,
    async start() {
      // Bolt's Socket Mode receiver listens for the health routes without waiting or handling
      // errors, so a taken PORT would crash the process with a stack trace: check it first.
      if (socketMode) await assertPortFree(config.port);
      await app.init();
      const server = (await app.start(config.port)) as unknown;
      const port = socketMode ? config.port : ((server as Server).address() as AddressInfo).port;
      logger.info({ port, mode: socketMode ? 'socket' : 'http', replicaId }, 'ivs-bot started');
      for (const warning of configWarnings(config)) logger.warn(warning);
      delivery.start();
      // After a restart: no stale buttons, and whatever a dead replica left behind is picked up.
      try {
        const open = await requests.rerenderOpenCards();
        logger.info({ open }, 'open request cards re-rendered');
      } catch (err) {
        logger.warn({ err }, 'could not re-render open cards at start');
      }
      await sweep();
      sweeper = setInterval(() => {
        sweeping ??= sweep().finally(() => {
          sweeping = undefined;
        });
      }, opts.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
      sweeper.unref();
      return { port };
    },
    stop(stopOpts = {}) {
      stopped ??= (async () => {
        shuttingDown = true;
        if (sweeper) clearInterval(sweeper);
        await sweeping;
        const drained = await requests.executor.drain(stopOpts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
        if (!drained) logger.warn({ inFlight: requests.executor.inFlight }, 'executions still running at shutdown: left to lease recovery');
        await app.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the Slack receiver failed'));
        // The thread hears what the drained executions did (bounded); what is not delivered by then
        // stays in Redis for the next replica (or this one after a restart).
        await delivery.stop(Math.min(stopOpts.drainTimeoutMs ?? DRAIN_TIMEOUT_MS, DELIVERY_DRAIN_MS));
        await catalogChanges.close();
        // Token renewal stops with the bot.
        vaultAdapter.close();
        await redis.quit().catch(() => redis.disconnect());
        logger.info('ivs-bot stopped');
      })();
      return stopped;
    },
  };
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
