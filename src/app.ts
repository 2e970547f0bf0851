import { randomUUID } from 'node:crypto';
import { App, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from './config';
import { SecretCatalog } from './core/catalog';
import { Policy } from './core/policy';
import type { AuditLog, Intercom, Outbox, RequestStore, SecretVault } from './core/ports';
import type { Workspace, Workspaces } from './core/workspace';
import { systemClock } from './clock';
import { Executor } from './core/executor';
import { Journal } from './core/journal';
import { openOrphanDelete, requestUseCases, type RequestUseCases, type UseCaseDeps } from './core/use-cases';
import { RotationWatch, type WatchOutcome } from './core/rotation-watch';
import { createRedisReminderClaims } from './redis/reminder-claims';
import { OutboxRotationReminders } from './slack/rotation-reminders';
import { operationalRoutes } from './http/routes';
import { announcingWrites, countExecution, countingAuditLog, instrumentPort } from './instrumentation';
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
import { DEFAULT_DELIVERY, SlackDelivery } from './slack/delivery';
import { eventItems, SlackOutbox } from './slack/slack-outbox';
import { TimedWebClient } from './slack/timed-client';
import { createSecretVault, type VaultAdapter } from './vault';
import { BotRuntime } from './runtime';
import { DIRECTORY_TIMEOUT_MS, LEASE_MS, SLACK_CALL_TIMEOUT_MS, SWEEP_INTERVAL_MS, type BotTuning } from './tuning';
import { ServedWorkspaces } from './slack/workspaces';
import { fileOffsetClock } from './sandbox-clock';

export interface BotOptions {
  readonly logger: Logger;
}

export interface Bot {
  readonly app: App;
  readonly requests: RequestUseCases;
  readonly metrics: Metrics;
  readonly redis: RedisClient;
  readonly delivery: SlackDelivery;
  /** What everything told to Slack goes through (for what is not about one request, e.g. reminders). */
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

/**
 * Builds the whole bot from a validated config: adapters at the edges, the core in the middle, and
 * the runtime (src/runtime.ts) that starts, sweeps and stops it. Production passes no `tuning`.
 */
export function createBot(config: Config, opts: BotOptions, tuning: BotTuning = {}): Bot {
  const { logger } = opts;
  const clock = tuning.clock ?? (config.sandbox ? fileOffsetClock(config.sandbox.clockFile) : systemClock);
  const metrics = createMetrics();
  const replicaId = tuning.replicaId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;

  const redis = connectRedisClient(config.redis.url, { logger });
  // One view of the audit chain's head for the audit log and for the transitions that append their
  // own event (SPEC §8: the audit entry and the notices in the same atomic step as the transition).
  const auditChain = createAuditChain(logger);
  // The outbox is built further down; what a transition recorded is delivered once it exists.
  let kickOutbox: (channel: string) => void = () => undefined;
  const store: RequestStore = createRedisRequestStore(redis, {
    keyPrefix: config.redis.keyPrefix,
    // The environment's one workspace keeps the first release's keys exactly (SPEC §9).
    ...(config.ivs.configFile ? {} : { unqualifiedWorkspace: config.workspaces[0]?.name ?? 'default' }),
    tellWith: {
      chain: auditChain,
      render: eventItems,
      recorded: (channel, event) => {
        kickOutbox(channel);
        countExecution(metrics, event);
      },
    },
  });
  const audit: AuditLog = countingAuditLog(createRedisAuditLog(redis, { keyPrefix: config.redis.keyPrefix, logger, chain: auditChain }), metrics);
  // The first workspace's Vault adapter owns the connection (one login); the others share it.
  let vaultConnection: VaultAdapter | undefined;
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
  // Each workspace's Intercom and Vault, as everything in the bot uses them: timed into the metrics,
  // and their writes announced to every replica's catalog.
  const perWorkspace = config.workspaces.map((w) => {
    const log = logger.child({ workspace: w.name });
    const intercom: Intercom = announcingWrites(
      instrumentPort(
        createIntercomClient({
          baseUrl: w.intercom.apiUrl,
          accessToken: w.intercom.accessToken,
          logger: log,
          ...(tuning.intercomTimeoutMs ? { timeoutMs: tuning.intercomTimeoutMs } : {}),
          ...(tuning.intercomRetry ? { retry: tuning.intercomRetry } : {}),
        }),
        'intercom',
        metrics,
        w.name,
      ),
      ['createSecret', 'deleteSecret'],
      catalogChanges.announce,
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
      ...(vaultConnection ? { sharing: vaultConnection } : {}),
    });
    vaultConnection ??= adapter;
    const vault: SecretVault = announcingWrites(
      instrumentPort<SecretVault>(adapter, 'vault', metrics, w.name),
      ['storeSecret', 'markDeleted'],
      catalogChanges.announce,
    );

    // `/ivs list` may show a listing again for a few seconds, until any replica writes what a listing
    // shows (an Intercom secret, a secret's material in Vault; not current/<platform>): every such
    // write announces itself (core/catalog.ts). The catalog only reads.
    const catalog = new SecretCatalog(intercom, vault, log, {
      clock,
      maxAgeMs: config.ivs.listMaxAgeMs,
      hearsChanges: () => catalogChanges.hearing(),
    });
    catalogs.push(catalog);
    return { config: w, log, intercom, vault, catalog };
  });

  const slackTimeoutMs = tuning.slackTimeoutMs ?? SLACK_CALL_TIMEOUT_MS;
  const slackClientOptions = {
    slackApiUrl: config.slack.apiUrl,
    // Interactive work (views.open, postEphemeral): a few quick retries, never the default half
    // hour, and no call without an answer for longer than the timeout. The listeners make those calls
    // through `interactiveClient` below (timed into the metrics); Bolt's own client gets the same
    // options only so that nothing it might call is left without them.
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    timeout: slackTimeoutMs,
  };
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
        // The Vault connection is one (the first workspace's), so its readiness is everyone's.
        vault: () => (perWorkspace[0] as (typeof perWorkspace)[number]).vault.readiness(),
      },
      metrics,
      () => runtime.shuttingDown,
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
  // Answers to people (views.open, chat.postEphemeral): a client like Bolt's, but timed like every other Slack call.
  const interactiveClient = new TimedWebClient(config.slack.botToken, { ...boltLog, ...slackClientOptions }, metrics);
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
    ...tuning.delivery,
    owner: replicaId,
    maxAgeMs: config.ivs.deliveryMaxAgeMs,
    minOverlapMs: (name) => workspaces.get(name)?.minOverlapMs,
  });
  const outbox = new SlackOutbox(outboxQueue, delivery, clock);
  kickOutbox = (channel) => outbox.recorded(channel);
  // The use cases and the Executor tell through one Journal: it records a request's events in order
  // only among those told through it (an approval's "approved", then the execution's "executing").
  const journal = new Journal(audit, outbox, logger);
  const useCaseDeps: UseCaseDeps = { store, journal, outbox, workspaces, clock, log: logger };
  const executor = new Executor({
    store,
    workspaces,
    journal,
    clock,
    log: logger,
    owner: replicaId,
    leaseMs: tuning.leaseMs ?? LEASE_MS,
    // An executor's POST ends within the Intercom timeout, and its Vault write within three
    // attempts of the Vault timeout (5 s) and their pauses: that is how long it may still write.
    holderWindowMs: tuning.holderWindowMs ?? (tuning.intercomTimeoutMs ?? 10_000) + 3 * 5_000 + 5_000,
    // An orphan an execution leaves behind gets a delete request. Wired here: opening it needs no
    // Executor, so the Executor calls nothing that constructs it.
    openOrphanDelete: (request, secret, why) => openOrphanDelete(useCaseDeps, request, secret, why),
  });
  const requests = requestUseCases({ ...useCaseDeps, executor, maxOpenPerRequester: config.ivs.maxOpenPerRequester });

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
  registerListeners(app, { config, requests, audit, workspaces: served, slack: interactiveClient, log: logger, metrics, clock });

  // SPEC §10, per workspace: its own rotate_after, its first channel, its approvers. Nudges are
  // thread replies told through the Journal like every event; the reminder, which belongs to no
  // request, goes through the same outbox, recorded in the step that claims it.
  // The watches keep a Journal of their own, as before: the use cases' one would order a nudge after
  // its request's events still being recorded (a change this wiring leaves out).
  const watchJournal = new Journal(audit, outbox, logger);
  const reminders = new OutboxRotationReminders(outboxQueue, delivery);
  const claims = createRedisReminderClaims(redis, { keyPrefix: config.redis.keyPrefix });
  const rotationWatches = perWorkspace.map(
    ({ config: w, log, intercom }) =>
      new RotationWatch({
        store,
        intercom,
        reminders,
        journal: watchJournal,
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

  const runtime = new BotRuntime({
    config,
    logger,
    clock,
    metrics,
    app,
    socketMode,
    replicaId,
    workspaces,
    executor,
    delivery,
    expireDue: () => requests.expireDue(),
    listOpen: () => requests.listOpen(),
    rerenderOpenCards: () => requests.rerenderOpenCards(),
    checkRotations,
    closing: { catalogChanges, vault: vaultConnection as VaultAdapter, redis },
    sweepIntervalMs: tuning.sweepIntervalMs ?? SWEEP_INTERVAL_MS,
    reconcileCurrents: tuning.reconcileCurrents !== false,
  });

  return {
    app,
    requests,
    metrics,
    redis,
    delivery,
    outbox,
    sweep: () => runtime.sweep(),
    checkRotations,
    start: () => runtime.start(),
    stop: (stopOpts) => runtime.stop(stopOpts),
  };
}
