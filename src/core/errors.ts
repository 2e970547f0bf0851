/**
 * Errors the ports throw. Adapters translate their clients' errors into these before anything can
 * log them, so no token, request body or secret material ever rides along.
 */

export type IntercomErrorKind =
  | 'unauthorized' // 401: token rejected
  | 'forbidden' // 403: token lacks the scope
  | 'not_found' // 404
  | 'invalid' // 400/422: the request was refused, nothing happened
  | 'rate_limited' // 429 after the retry budget
  | 'unavailable' // 5xx/network after the retry budget on a safe call
  | 'ambiguous'; // a create whose outcome is unknown: timeout, reset, 5xx, unparseable 201

export class IntercomError extends Error {
  override readonly name = 'IntercomError';
  constructor(
    readonly kind: IntercomErrorKind,
    message: string,
    readonly details: {
      readonly status?: number;
      readonly codes?: readonly string[];
      readonly requestId?: string;
      /** Unix seconds, from X-RateLimit-Reset. */
      readonly rateLimitReset?: number;
    } = {},
  ) {
    super(message);
  }
}

export type VaultErrorKind =
  | 'unreachable'
  | 'sealed'
  | 'denied' // 403 / permission denied / capabilities without create
  | 'conflict' // CAS mismatch: the path already holds data
  | 'not_found'
  | 'invalid'
  | 'failed';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly kind: VaultErrorKind,
    message: string,
    readonly details: { readonly status?: number; readonly path?: string; readonly code?: string } = {},
  ) {
    super(message);
  }
}

/** The request store (Redis) could not be reached or answered nonsense. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** Another replica took the execution over (its lease ran out here): stop before touching Intercom or Vault again. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(id: string) {
    super(`the execution lease of ${id} was taken over by another replica`);
  }
}

/**
 * Slack's directory (users.info, usergroups.users.list) could not answer: who someone is, or who is in
 * a group, is unknown for now. Not an answer: a decision that needs it waits or is refused, never
 * taken on a guess.
 */
export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
}

/**
 * A step cannot tell right now what a side effect already sent did (Intercom cannot be listed, say).
 * Deciding would mean guessing, so the execution stops unfinished: its lease runs out and recovery
 * looks again, a bounded number of times.
 */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}
