import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics. Labels are closed sets chosen by the code (subcommand words, outcomes, service
 * names, platforms, and the workspace names of the configuration): never a secret, a token, an id
 * or text a person typed. `workspace` is empty where no workspace applies (help, an unknown word,
 * Slack's own calls).
 */
export interface Metrics {
  readonly registry: Registry;
  readonly commands: Counter<'subcommand' | 'outcome' | 'workspace'>;
  readonly clicks: Counter<'action' | 'outcome' | 'workspace'>;
  readonly executions: Counter<'action' | 'result' | 'workspace'>;
  readonly upstreamSeconds: Histogram<'service' | 'operation' | 'workspace'>;
  readonly secretsPerPlatform: Gauge<'platform' | 'workspace'>;
  readonly openRequests: Gauge<'state' | 'workspace'>;
  readonly deliveryBacklog: Gauge;
  readonly deliveryOldestSeconds: Gauge;
  readonly deliveryLatency: Histogram<'kind'>;
  readonly deliveryRetries: Counter<'reason'>;
  readonly deliveryGiveUps: Counter<'reason'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'ivs_' });
  return {
    registry,
    commands: new Counter({
      name: 'ivs_commands_total',
      help: '/ivs commands by subcommand and outcome',
      labelNames: ['subcommand', 'outcome', 'workspace'],
      registers: [registry],
    }),
    clicks: new Counter({
      name: 'ivs_clicks_total',
      help: 'Button clicks and modal submissions by action and outcome',
      labelNames: ['action', 'outcome', 'workspace'],
      registers: [registry],
    }),
    executions: new Counter({
      name: 'ivs_executions_total',
      help: 'Executed request steps by action and result',
      labelNames: ['action', 'result', 'workspace'],
      registers: [registry],
    }),
    upstreamSeconds: new Histogram({
      name: 'ivs_upstream_request_duration_seconds',
      help: 'Latency of calls to Intercom and Vault (by port method) and to Slack (by Web API method)',
      labelNames: ['service', 'operation', 'workspace'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    secretsPerPlatform: new Gauge({
      name: 'ivs_secrets',
      help: 'Active Intercom secrets per platform at the last listing',
      labelNames: ['platform', 'workspace'],
      registers: [registry],
    }),
    openRequests: new Gauge({
      name: 'ivs_open_requests',
      help: 'Open requests by state at the last sweep',
      labelNames: ['state', 'workspace'],
      registers: [registry],
    }),
    deliveryBacklog: new Gauge({
      name: 'ivs_delivery_backlog',
      help: 'Cards and thread replies recorded for Slack and not delivered yet (all replicas)',
      registers: [registry],
    }),
    deliveryOldestSeconds: new Gauge({
      name: 'ivs_delivery_oldest_seconds',
      help: 'Age of the oldest undelivered Slack notice (0 when none)',
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'ivs_delivery_latency_seconds',
      help: 'Recorded → delivered to Slack, by kind of notice (card, reply, note, reminder)',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
      registers: [registry],
    }),
    deliveryRetries: new Counter({
      name: 'ivs_delivery_retries_total',
      help: 'Slack deliveries put off to be retried, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deliveryGiveUps: new Counter({
      name: 'ivs_delivery_give_ups_total',
      help: 'Slack notices given up: max_age (older than IVS_DELIVERY_MAX_AGE) or refused (an error retrying cannot fix)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

/** Times an upstream call into the latency histogram, whatever its outcome. */
export async function timed<T>(metrics: Metrics, service: string, operation: string, call: () => Promise<T>, workspace = ''): Promise<T> {
  const end = metrics.upstreamSeconds.startTimer({ service, operation, workspace });
  try {
    return await call();
  } finally {
    end();
  }
}
