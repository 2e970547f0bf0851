/**
 * Text for Slack's mrkdwn. Everything a person typed goes through `escapeMrkdwn` (or `escapeBounded`)
 * before it is shown, so `<!channel>`, `<@U…>` or `<http://evil|bank>` in a name or reason can neither
 * ping anyone nor disguise a link (https://api.slack.com/reference/surfaces/formatting#escaping).
 */

const ELLIPSIS = '…';

/** Escapes the three characters Slack treats as control sequences: `&`, `<`, `>`. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts `text` to at most `max` characters, ending with "…" when it was cut. Never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = max - ELLIPSIS.length;
  // A high surrogate at the end of the cut would leave half a character (an emoji, say).
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  return text.slice(0, Math.max(cut, 0)) + ELLIPSIS;
}

/**
 * Escapes `text` and bounds the escaped result to `max` characters without cutting an entity such
 * as `&amp;` in half (a half entity would show as garbage).
 */
export function escapeBounded(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const ch of text) {
    const piece = escapeMrkdwn(ch);
    if (out.length + piece.length + ELLIPSIS.length > max) break;
    out += piece;
  }
  return out + ELLIPSIS;
}

/**
 * Control and format characters (Unicode Cc, Cf: bidi overrides such as U+202E, zero-width spaces)
 * shown as U+FFFD: they could reverse or hide what a dialog says. Input refuses them; this is for
 * text that came from elsewhere (a name given at Intercom).
 */
export function visibleText(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (ch) => (ch === '\n' || ch === '\t' ? ch : '\uFFFD'));
}

/** Collapses newlines and runs of whitespace so a name fits on one line of a list. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export function isUserId(id: string): boolean {
  return USER_ID.test(id);
}

/** `<@U…>` for a real user id; anything else is shown as escaped text so it can never become a ping. */
export function userMention(id: string): string {
  return isUserId(id) ? `<@${id}>` : escapeBounded(id, 40);
}

const GROUP_ID = /^S[A-Z0-9]{2,20}$/;

/** `<!subteam^S…>` for a user group, `<@U…>` for a user: how Slack pings each (anything else stays text). */
export function mention(id: string): string {
  return GROUP_ID.test(id) ? `<!subteam^${id}>` : userMention(id);
}

/** An ISO-like UTC timestamp for clients that cannot render `<!date>`. */
export function utcText(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * A date Slack shows in each reader's own time zone, e.g. "Today at 3:04 PM"; `fallback` (escaped)
 * is what older clients and notifications show.
 */
export function slackDate(epochMs: number, fallback: string = utcText(epochMs), format = '{date_short_pretty} {time}'): string {
  const seconds = Math.floor(epochMs / 1000);
  // `|` would end the fallback early; `>` is escaped anyway.
  const safeFallback = escapeMrkdwn(fallback.replace(/\|/g, '/'));
  return `<!date^${seconds}^${format}|${safeFallback}>`;
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

/** The largest whole unit of a duration: "3 days", "1 hour", "less than a minute". */
export function roughDuration(ms: number): string {
  const abs = Math.abs(ms);
  for (const [unit, size] of UNITS) {
    const n = Math.floor(abs / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'}`;
  }
  return 'less than a minute';
}

/** An age or a policy in whole days ("400 days", "1 day"), as rotation policies are read; under a day, roughly. */
export function daysText(ms: number): string {
  const days = Math.floor(Math.abs(ms) / 86_400_000);
  return days >= 1 ? `${days} day${days === 1 ? '' : 's'}` : roughDuration(ms);
}

/** "3 days ago", "in 45 minutes", "just now". */
export function relativeAge(fromMs: number, nowMs: number): string {
  const delta = nowMs - fromMs;
  if (Math.abs(delta) < 60_000) return 'just now';
  return delta > 0 ? `${roughDuration(delta)} ago` : `in ${roughDuration(delta)}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
