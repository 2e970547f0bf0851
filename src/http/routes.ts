// http/: the operational routes beside Bolt's: /healthz, /readyz, /metrics.
import type { CustomRoute } from '@slack/bolt';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../metrics';

export interface Probes {
  /** Redis answers PING. */
  redis(): Promise<boolean>;
  /** Vault is unsealed and the token is valid. */
  vault(): Promise<{ ok: boolean; detail: string }>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** `/healthz` (the process lives), `/readyz` (Redis and Vault usable), `/metrics` (Prometheus). */
export function operationalRoutes(probes: Probes, metrics: Metrics, isShuttingDown: () => boolean): CustomRoute[] {
  return [
    { path: '/healthz', method: ['GET'], handler: (_req: IncomingMessage, res: ServerResponse) => json(res, 200, { status: 'ok' }) },
    {
      path: '/readyz',
      method: ['GET'],
      handler: async (_req: IncomingMessage, res: ServerResponse) => {
        const [redis, vault] = await Promise.all([probes.redis().catch(() => false), probes.vault().catch(() => ({ ok: false, detail: 'unreachable' }))]);
        const ready = redis && vault.ok && !isShuttingDown();
        json(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'not ready',
          redis: redis ? 'ok' : 'unavailable',
          vault: vault.ok ? 'ok' : vault.detail,
          ...(isShuttingDown() ? { shutdown: 'in progress' } : {}),
        });
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: async (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(await metrics.registry.metrics());
      },
    },
  ];
}
