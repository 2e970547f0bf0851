import { StoreUnavailableError } from './errors';

/**
 * A store write whose answer was lost (the connection dropped after Redis ran the script, or the
 * answer came after the timeout) may or may not have happened; the store does not resend it, since no
 * transition may run twice. Before anyone is told "nothing was changed", this asks the store what
 * is there now: `confirm` returns the write's result when the write did happen, undefined when not.
 */
export async function confirmingLostAnswer<T>(write: () => Promise<T>, confirm: () => Promise<T | undefined>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    const confirmed = await confirm().catch(() => undefined);
    if (confirmed === undefined) throw err;
    return confirmed;
  }
}
