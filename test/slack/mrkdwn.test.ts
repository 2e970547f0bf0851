import { describe, expect, it } from 'vitest';
import { escapeBounded, escapeMrkdwn, oneLine, relativeAge, slackDate, truncate, userMention } from '../../src/slack/mrkdwn';

const DAY = 24 * 3600_000;

describe('escapeMrkdwn', () => {
  it('turns channel pings, user mentions and disguised links into inert text', () => {
    expect(escapeMrkdwn('<!channel> hi <@U123> see <http://evil.example|bank>')).toBe('&lt;!channel&gt; hi &lt;@U123&gt; see &lt;http://evil.example|bank&gt;');
  });

  it('escapes the ampersand first so existing entities are not reinterpreted', () => {
    expect(escapeMrkdwn('a & b &lt;')).toBe('a &amp; b &amp;lt;');
  });

  it('leaves ordinary text alone', () => {
    expect(escapeMrkdwn('Production Web (EU) #1')).toBe('Production Web (EU) #1');
  });
});

describe('truncate', () => {
  it('keeps text that fits', () => {
    expect(truncate('abc', 3)).toBe('abc');
  });

  it('cuts long text to the limit, ending with an ellipsis', () => {
    const out = truncate('abcdefghij', 5);
    expect(out).toBe('abcd…');
    expect(out.length).toBe(5);
  });

  it('never leaves half of an emoji at the cut', () => {
    const out = truncate('ab😀cdef', 4);
    expect(out).toBe('ab…');
    expect(out.length).toBeLessThanOrEqual(4);
  });
});

describe('escapeBounded', () => {
  it('bounds the escaped text without cutting an entity in half', () => {
    const out = escapeBounded('<<<<<<<<<<', 12);
    expect(out.length).toBeLessThanOrEqual(12);
    expect(out).toBe('&lt;&lt;…');
  });

  it('returns the whole escaped text when it fits', () => {
    expect(escapeBounded('<@U1>', 100)).toBe('&lt;@U1&gt;');
  });
});

describe('userMention', () => {
  it('mentions a user id or an enterprise user id', () => {
    expect(userMention('U012ABCDEF')).toBe('<@U012ABCDEF>');
    expect(userMention('W123A4BC5')).toBe('<@W123A4BC5>');
  });

  it('shows anything else as escaped text, so it cannot ping', () => {
    expect(userMention('!channel')).toBe('!channel');
    expect(userMention('U1> <!here')).toBe('U1&gt; &lt;!here');
    expect(userMention('S0123GROUP')).not.toContain('<@');
  });
});

describe('slackDate', () => {
  it("renders in the reader's time zone with an escaped fallback", () => {
    expect(slackDate(1_700_000_000_500, 'soon <b>')).toBe('<!date^1700000000^{date_short_pretty} {time}|soon &lt;b&gt;>');
  });

  it('falls back to a UTC timestamp when no fallback is given', () => {
    expect(slackDate(Date.UTC(2024, 0, 2, 3, 4))).toBe(`<!date^${Date.UTC(2024, 0, 2, 3, 4) / 1000}^{date_short_pretty} {time}|2024-01-02 03:04 UTC>`);
  });

  it('keeps a pipe in the fallback from ending it early', () => {
    expect(slackDate(0, 'a|b')).toBe('<!date^0^{date_short_pretty} {time}|a/b>');
  });
});

describe('relativeAge', () => {
  const now = Date.UTC(2024, 5, 1);

  it('says how long ago in the largest whole unit', () => {
    expect(relativeAge(now - 3 * DAY - 5000, now)).toBe('3 days ago');
    expect(relativeAge(now - 3600_000, now)).toBe('1 hour ago');
    expect(relativeAge(now - 5 * 60_000, now)).toBe('5 minutes ago');
    expect(relativeAge(now - 400 * DAY, now)).toBe('1 year ago');
    expect(relativeAge(now - 65 * DAY, now)).toBe('2 months ago');
  });

  it('says "just now" under a minute and "in …" for the future', () => {
    expect(relativeAge(now - 10_000, now)).toBe('just now');
    expect(relativeAge(now + 45 * 60_000, now)).toBe('in 45 minutes');
  });
});

describe('oneLine', () => {
  it('collapses line breaks and runs of spaces', () => {
    expect(oneLine('  a\n\tb   c ')).toBe('a b c');
  });
});
