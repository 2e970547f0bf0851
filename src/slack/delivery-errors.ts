import { SlackError, WebAPIHTTPError, WebAPIPlatformError, WebAPIRequestError } from '@slack/web-api';
/**
 * What a failed Web API call means for the outbox: try again (when, and whether the message may
 * have been posted anyway), or give it up. Sources: Slack's method reference (chat.postMessage,
 * chat.update "Errors"; docs.slack.dev/reference/methods/chat.postMessage), its rate-limit page
 * (429 + Retry-After), and @slack/web-api's error codes (contract slack.md §6.2).
 */

export type DeliveryFailure =
  | {
      readonly kind: 'retry';
      /** A closed set, for the retries metric and the log. */
      readonly reason: 'rate_limited' | 'server_error' | 'transient_error' | 'network' | 'auth';
      /** Slack said how long to wait (429 Retry-After), in ms. */
      readonly afterMs?: number;
      /** The call may have been carried out although no answer said so: look before sending it again. */
      readonly maybePosted: boolean;
      readonly code: string;
    }
  | { readonly kind: 'permanent'; readonly code: string };

/** `ok:false` errors Slack documents as temporary and as having done nothing. */
const TRANSIENT_NOTHING_DONE = new Set(['ratelimited', 'rate_limited', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
/** "It's possible some aspect of the operation succeeded before the error was raised" (Slack's words). */
const TRANSIENT_MAYBE_DONE = new Set(['fatal_error', 'internal_error']);
/** The token is not usable right now: a configuration problem someone must fix; nothing is thrown away meanwhile. */
const AUTH = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'ekm_access_denied']);

/** Errors a card post cannot recover from by waiting: the request is cancelled at once (SPEC §8). */
export const CARD_CANNOT_BE_POSTED = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  ...AUTH,
  'missing_scope',
  'restricted_action',
  'render_failed',
]);

/** Network errors raised before anything reached Slack. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

interface WebApiErrorShape {
  code?: unknown;
  retryAfter?: unknown;
  statusCode?: unknown;
  data?: { error?: unknown };
  original?: { code?: unknown; message?: unknown };
}

export function classifyDeliveryError(err: unknown): DeliveryFailure {
  const e = (err ?? {}) as WebApiErrorShape;
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      const seconds = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? e.retryAfter : 1;
      return { kind: 'retry', reason: 'rate_limited', afterMs: Math.max(0, seconds) * 1000, maybePosted: false, code: 'http_429' };
    }
    case 'slack_webapi_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      // Slack answered, and with a status that says it did not do it (503 is "try later"); other 5xx
      // may come from a proxy after Slack did the work, so they are looked at before a retry.
      if (status >= 500 || status === 408) return { kind: 'retry', reason: 'server_error', maybePosted: status !== 503, code: `http_${status}` };
      return { kind: 'permanent', code: `http_${status}` };
    }
    case 'slack_webapi_platform_error': {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'unknown_error';
      if (TRANSIENT_NOTHING_DONE.has(code)) return { kind: 'retry', reason: 'transient_error', maybePosted: false, code };
      if (TRANSIENT_MAYBE_DONE.has(code)) return { kind: 'retry', reason: 'transient_error', maybePosted: true, code };
      if (AUTH.has(code)) return { kind: 'retry', reason: 'auth', maybePosted: false, code };
      return { kind: 'permanent', code };
    }
    case 'slack_webapi_request_error': {
      const original = typeof e.original?.code === 'string' ? e.original.code : 'network_error';
      return { kind: 'retry', reason: 'network', maybePosted: !NOT_SENT.has(original), code: original };
    }
    default:
      // Not an error of the Web API client (a bug, say): assume the worst on both counts.
      return { kind: 'retry', reason: 'network', maybePosted: true, code: 'unexpected_error' };
  }
}

/**
 * Web API errors carry the whole answer (and, for a failed request, the underlying error); keep only
 * what explains the failure (for logs).
 */
export function slackError(err: unknown): { name: string; code?: string; error?: string; status?: number; cause?: string } {
  if (err instanceof WebAPIPlatformError) return { name: err.name, code: err.code, error: err.data.error };
  if (err instanceof WebAPIHTTPError) return { name: err.name, code: err.code, status: err.statusCode };
  if (err instanceof WebAPIRequestError) return { name: err.name, code: err.code, ...systemCode(err.original) };
  if (err instanceof SlackError) return { name: err.name, code: err.code };
  return err instanceof Error ? { name: err.name, ...systemCode(err) } : { name: 'Error' };
}

/** `ECONNREFUSED` and the like (a failed fetch has it on its cause), never free text. */
function systemCode(original: Error): { cause?: string } {
  const causeOf = (e: unknown) => (e instanceof Error ? e.cause : undefined);
  for (const e of [original, causeOf(original)]) {
    const code = e !== null && typeof e === 'object' && 'code' in e ? e.code : undefined;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return { cause: code };
  }
  return {};
}
