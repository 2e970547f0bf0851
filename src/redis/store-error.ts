import { StoreUnavailableError } from '../core/errors';

/**
 * Any failure of a Redis call (refused connection, timeout, closed stream, script error) as
 * StoreUnavailableError. Only the client's message is kept: it names the failure, never a value.
 */
export function toStoreError(err: unknown, what: string): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`Redis ${what} failed: ${message.slice(0, 200)}`);
}
