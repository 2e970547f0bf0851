import { describe, expect, it } from 'vitest';
import { CARD_CANNOT_BE_POSTED, classifyDeliveryError } from '../../src/slack/delivery-errors';

// The shapes @slack/web-api throws (contract slack.md §6.2).
const platform = (error: string) => ({ code: 'slack_webapi_platform_error', data: { ok: false, error } });
const http = (statusCode: number) => ({ code: 'slack_webapi_http_error', statusCode });
const network = (code: string) => ({ code: 'slack_webapi_request_error', original: { code } });

describe('what a failed Slack call means for the outbox', () => {
  it('a 429 waits exactly its Retry-After and says nothing was posted', () => {
    expect(classifyDeliveryError({ code: 'slack_webapi_rate_limited_error', retryAfter: 3 })).toEqual({
      kind: 'retry',
      reason: 'rate_limited',
      afterMs: 3_000,
      maybePosted: false,
      code: 'http_429',
    });
  });

  it('a 503 is retried as the same message; other 5xx and lost answers are looked for first', () => {
    expect(classifyDeliveryError(http(503))).toMatchObject({ kind: 'retry', maybePosted: false });
    expect(classifyDeliveryError(http(502))).toMatchObject({ kind: 'retry', maybePosted: true });
    expect(classifyDeliveryError(network('ECONNABORTED'))).toMatchObject({ kind: 'retry', reason: 'network', maybePosted: true });
    expect(classifyDeliveryError(network('ECONNRESET'))).toMatchObject({ kind: 'retry', maybePosted: true });
    expect(classifyDeliveryError(network('ECONNREFUSED'))).toMatchObject({ kind: 'retry', maybePosted: false });
  });

  it("Slack's documented transient errors are retried; those that may have done something are looked for first", () => {
    for (const code of ['ratelimited', 'service_unavailable', 'request_timeout', 'team_added_to_org']) {
      expect(classifyDeliveryError(platform(code))).toMatchObject({ kind: 'retry', reason: 'transient_error', maybePosted: false, code });
    }
    for (const code of ['fatal_error', 'internal_error']) {
      expect(classifyDeliveryError(platform(code))).toMatchObject({ kind: 'retry', maybePosted: true, code });
    }
  });

  it('a bad token waits for someone to fix it; errors retrying cannot fix give the item up', () => {
    expect(classifyDeliveryError(platform('invalid_auth'))).toMatchObject({ kind: 'retry', reason: 'auth' });
    for (const code of ['message_not_found', 'channel_not_found', 'is_archived', 'not_in_channel', 'msg_too_long', 'invalid_blocks']) {
      expect(classifyDeliveryError(platform(code))).toEqual({ kind: 'permanent', code });
    }
  });

  it('a card that cannot be posted because of the channel or the token cancels the request at once', () => {
    for (const code of ['not_in_channel', 'channel_not_found', 'is_archived', 'invalid_auth']) expect(CARD_CANNOT_BE_POSTED.has(code)).toBe(true);
    expect(CARD_CANNOT_BE_POSTED.has('service_unavailable')).toBe(false);
  });
});
