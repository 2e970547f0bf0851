import type { AuditEvent, AuditLog } from './core/ports';
import { timed, type Metrics } from './metrics';

/** Wraps every async method of a port so its latency lands in the upstream histogram. */
export function instrumentPort<T extends object>(port: T, service: string, metrics: Metrics, workspace = ''): T {
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => timed(metrics, service, prop, async () => (value as (...a: unknown[]) => unknown).apply(target, args), workspace);
    },
  });
}

/**
 * Counts executions by their final audit event, once it is on the audit stream: appended by the
 * audit log (countingAuditLog), or by the finish that recorded it in its own step (the request
 * store's `recorded`). Those two are the only ways an outcome is recorded.
 */
export function countExecution(metrics: Metrics, event: AuditEvent): void {
  if (event.type !== 'succeeded' && event.type !== 'failed') return;
  // `action` is the step carried out (a rotation's successor or retire step); a success that
  // leaves a rotation waiting to be finished counts as `awaiting_finish`.
  metrics.executions.inc({
    action: event.detail.step,
    result: event.type === 'failed' ? 'failed' : event.detail.state,
    workspace: event.workspace ?? '',
  });
}

/** Counts executions by the final audit events appended through it (see countExecution). */
export function countingAuditLog(audit: AuditLog, metrics: Metrics): AuditLog {
  return {
    history: (id) => audit.history(id),
    append: async (event) => {
      await audit.append(event);
      countExecution(metrics, event);
    },
  };
}

/**
 * Calls `announce` after each of the named methods settles, whatever its outcome: a write that
 * failed or timed out may still have happened, so what was listed before it is not trusted either.
 */
export function announcingWrites<T extends object>(port: T, writes: readonly (keyof T & string)[], announce: () => void): T {
  const names = new Set<string>(writes);
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || !names.has(prop)) return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => unknown).apply(target, args);
        } finally {
          announce();
        }
      };
    },
  });
}
