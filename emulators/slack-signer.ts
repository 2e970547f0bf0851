import { createHmac } from 'node:crypto';

/** The two headers Slack puts on every request it sends (contract slack.md §1). */
export interface SlackSignatureHeaders {
  'x-slack-request-timestamp': string;
  'x-slack-signature': string;
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** `v0=` + hex HMAC-SHA256 of `v0:<ts>:<body>`, over the exact body string that will be sent. */
export function slackSignature(secret: string, body: string, ts: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
}

export function slackHeaders(secret: string, body: string, ts: number = nowInSeconds()): SlackSignatureHeaders {
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(secret, body, ts) };
}

/** Bolt parses a form body only for this exact content type; `; charset=utf-8` earns a 400 (§7 #1). */
export const SLACK_FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export interface PostToBoltOptions {
  /** Request timestamp in Unix seconds; default now. A value older than 300 s makes the request stale. */
  ts?: number;
  /** `undefined`: the correct signature; a string: sent as-is; `null`: the header is left out. */
  signature?: string | null;
  /** `undefined`: `String(ts)`; a string: sent as-is (signature still over `ts`); `null`: left out. */
  timestampHeader?: string | null;
  /** Default `application/x-www-form-urlencoded`. */
  contentType?: string;
}

export interface BoltAnswer {
  status: number;
  text: string;
  headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON; throws when the body is not JSON (for example an empty ack). */
  json(): unknown;
}

/** POSTs a body to Bolt's `/slack/events` the way Slack does: signed over the exact bytes sent. */
export async function postToBolt(botBaseUrl: string, secret: string, body: string, opts: PostToBoltOptions = {}): Promise<BoltAnswer> {
  const ts = opts.ts ?? nowInSeconds();
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? SLACK_FORM_CONTENT_TYPE };
  const signature = opts.signature === undefined ? slackSignature(secret, body, ts) : opts.signature;
  if (signature !== null) headers['x-slack-signature'] = signature;
  const timestamp = opts.timestampHeader === undefined ? String(ts) : opts.timestampHeader;
  if (timestamp !== null) headers['x-slack-request-timestamp'] = timestamp;

  const res = await fetch(`${botBaseUrl.replace(/\/+$/, '')}/slack/events`, { method: 'POST', headers, body });
  const text = await res.text();
  return {
    status: res.status,
    text,
    headers: Object.fromEntries(res.headers.entries()),
    json: () => JSON.parse(text) as unknown,
  };
}
