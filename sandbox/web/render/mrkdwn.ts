/**
 * Slack mrkdwn → DOM nodes, for the sandbox page (https://docs.slack.dev/messaging/formatting-message-text).
 *
 * Every piece of text becomes a text node (`textContent`), never HTML: whatever the bot or a person
 * typed can at worst look odd, never become markup. The parse runs on the raw mrkdwn, where `<…>` are
 * Slack's control sequences and `&lt;` / `&gt;` / `&amp;` are escaped text; entities are decoded only
 * inside text leaves, after the structure is known, so an escaped `&lt;!channel&gt;` stays text.
 */
import { emojiText } from './emoji';

export interface RenderContext {
  /** Display names of user ids (`U0ALICE` → `alice`). */
  readonly users: ReadonlyMap<string, string>;
  /** Channel names by id (`C0OPS` → `ops`). */
  readonly channels: ReadonlyMap<string, string>;
  /** User-group handles by id (`S0APPROVERS` → `approvers`). */
  readonly groups: ReadonlyMap<string, string>;
  /** The sandbox clock (ms): "Today" in `<!date>` is relative to it, not to the browser's clock. */
  readonly now: number;
}

export const emptyContext: RenderContext = { users: new Map(), channels: new Map(), groups: new Map(), now: Date.now() };

/** Decodes the only three entities Slack uses; any other `&…;` is shown as typed. */
export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_, name: string) => (name === 'amp' ? '&' : name === 'lt' ? '<' : '>'));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A mrkdwn string as a fragment of block-level pieces (paragraph text, quotes, preformatted). */
export function renderMrkdwn(text: string, ctx: RenderContext): DocumentFragment {
  const out = document.createDocumentFragment();
  // Private-use characters stand for protected spans below; input carrying its own would confuse that.
  const clean = text.replace(/[\uE000-\uF8FF]/g, '\uFFFD');
  const pieces = clean.split('```');
  // An odd number of pieces means every ``` has a partner; a last unpaired ``` is plain text.
  const paired = pieces.length % 2 === 1 ? pieces.length : pieces.length - 1;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (i % 2 === 1 && i < paired) {
      const pre = el('pre', 'mk-pre');
      pre.append(...controlsAsText(piece.replace(/^\n/, '').replace(/\n$/, ''), ctx));
      out.append(pre);
    } else {
      const plain = i % 2 === 1 ? '```' + piece : piece;
      out.append(renderLines(plain, ctx));
    }
  }
  return out;
}

/** Lines: runs starting with a raw `>` are a quote; the rest keep their line breaks (CSS pre-wrap). */
function renderLines(text: string, ctx: RenderContext): DocumentFragment {
  const out = document.createDocumentFragment();
  if (text === '') return out;
  const lines = text.split('\n');
  let quote: HTMLQuoteElement | undefined;
  let para: HTMLSpanElement | undefined;
  for (const line of lines) {
    const isQuote = /^>/.test(line);
    if (isQuote) {
      para = undefined;
      if (!quote) {
        quote = el('blockquote', 'mk-quote');
        out.append(quote);
      } else {
        quote.append('\n');
      }
      quote.append(...renderInline(line.replace(/^> ?/, ''), ctx));
    } else {
      quote = undefined;
      if (!para) {
        para = el('span', 'mk-line');
        out.append(para);
      } else {
        para.append('\n');
      }
      para.append(...renderInline(line, ctx));
    }
  }
  return out;
}

type Protected = { kind: 'control'; body: string } | { kind: 'code'; body: string };

const PLACEHOLDER_BASE = 0xe000;

/** One line of inline mrkdwn: controls and code spans first (their insides are not formatted), then emphasis. */
export function renderInline(line: string, ctx: RenderContext): Node[] {
  const saved: Protected[] = [];
  let masked = '';
  for (let i = 0; i < line.length; ) {
    const ch = line[i];
    if (ch === '<') {
      const end = line.indexOf('>', i + 1);
      if (end > i + 1 && saved.length < 6000) {
        saved.push({ kind: 'control', body: line.slice(i + 1, end) });
        masked += String.fromCharCode(PLACEHOLDER_BASE + saved.length - 1);
        i = end + 1;
        continue;
      }
    } else if (ch === '`') {
      const end = line.indexOf('`', i + 1);
      if (end > i + 1 && saved.length < 6000) {
        saved.push({ kind: 'code', body: line.slice(i + 1, end) });
        masked += String.fromCharCode(PLACEHOLDER_BASE + saved.length - 1);
        i = end + 1;
        continue;
      }
    }
    masked += ch;
    i += 1;
  }
  return emphasis(masked, saved, ctx, 0);
}

const MARKS: Record<string, 'strong' | 'em' | 's'> = { '*': 'strong', _: 'em', '~': 's' };

function isPlaceholder(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  const code = ch.charCodeAt(0);
  return code >= PLACEHOLDER_BASE && code < 0xf8ff;
}

/** Letters and digits glue a marker to a word (`snake_case` stays as typed); anything else is a boundary. */
function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && !isPlaceholder(ch) && /[\p{L}\p{N}]/u.test(ch);
}

function isSpace(ch: string | undefined): boolean {
  return ch === undefined || /\s/.test(ch);
}

function emphasis(text: string, saved: readonly Protected[], ctx: RenderContext, depth: number): Node[] {
  const nodes: Node[] = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') nodes.push(...restore(plain, saved, ctx));
    plain = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const tag = MARKS[ch];
    if (tag && depth < 8 && !isWordChar(text[i - 1]) && !isSpace(text[i + 1]) && text[i + 1] !== ch) {
      const close = findClose(text, i, ch);
      if (close > 0) {
        flush();
        const node = el(tag, `mk-${tag}`);
        node.append(...emphasis(text.slice(i + 1, close), saved, ctx, depth + 1));
        nodes.push(node);
        i = close;
        continue;
      }
    }
    if (ch === ':') {
      const m = /^:([a-z0-9_+-]+):/.exec(text.slice(i));
      const glyph = m ? emojiText(m[1] as string) : undefined;
      if (m && glyph !== undefined) {
        flush();
        const span = el('span', 'mk-emoji', glyph);
        span.title = m[0];
        nodes.push(span);
        i += m[0].length - 1;
        continue;
      }
    }
    plain += ch;
  }
  flush();
  return nodes;
}

function findClose(text: string, open: number, mark: string): number {
  for (let j = open + 2; j < text.length; j++) {
    if (text[j] === mark && !isSpace(text[j - 1]) && !isWordChar(text[j + 1])) return j;
  }
  return -1;
}

/** Text with placeholders back to nodes: entities decoded in the text, code and controls rebuilt. */
function restore(text: string, saved: readonly Protected[], ctx: RenderContext): Node[] {
  const nodes: Node[] = [];
  let plain = '';
  for (const ch of text) {
    if (isPlaceholder(ch)) {
      const item = saved[ch.charCodeAt(0) - PLACEHOLDER_BASE];
      if (item) {
        if (plain) nodes.push(document.createTextNode(decodeEntities(plain)));
        plain = '';
        if (item.kind === 'code') {
          const code = el('code', 'mk-code');
          code.append(...controlsAsText(item.body, ctx));
          nodes.push(code);
        } else {
          nodes.push(renderControl(item.body, ctx));
        }
        continue;
      }
    }
    plain += ch;
  }
  if (plain) nodes.push(document.createTextNode(decodeEntities(plain)));
  return nodes;
}

/** Inside code, controls are shown by what they stand for (a mention's name), as text without formatting. */
function controlsAsText(text: string, ctx: RenderContext): Node[] {
  const out: Node[] = [];
  let last = 0;
  const re = /<([^<>]+)>/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(document.createTextNode(decodeEntities(text.slice(last, m.index))));
    out.push(document.createTextNode(renderControl(m[1] as string, ctx).textContent ?? ''));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(decodeEntities(text.slice(last))));
  return out;
}

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

/** One `<…>` control sequence: mention, channel, user group, special mention, date or link. */
export function renderControl(body: string, ctx: RenderContext): HTMLElement {
  const bar = body.indexOf('|');
  const target = bar >= 0 ? body.slice(0, bar) : body;
  const label = bar >= 0 ? decodeEntities(body.slice(bar + 1)) : undefined;

  if (target.startsWith('@')) {
    const id = target.slice(1);
    const name = ctx.users.get(id) ?? label?.replace(/^@/, '') ?? id;
    const span = el('span', 'mk-mention mk-user', `@${name}`);
    span.dataset['userId'] = id;
    return span;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = ctx.channels.get(id) ?? label ?? id;
    const span = el('span', 'mk-mention mk-channel', `#${name}`);
    span.dataset['channelId'] = id;
    return span;
  }
  if (target.startsWith('!')) return renderSpecial(target.slice(1), label, ctx);

  const link = el('a', 'mk-link', label ?? decodeEntities(target));
  const href = safeHref(decodeEntities(target));
  if (href) {
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.title = href;
  } else {
    // Not a scheme a browser should follow from a chat message (javascript:, data:, …): text only.
    link.className = 'mk-link mk-link-refused';
    link.title = `not a web link: ${decodeEntities(target)}`;
  }
  return link;
}

function safeHref(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return SAFE_SCHEMES.has(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function renderSpecial(command: string, label: string | undefined, ctx: RenderContext): HTMLElement {
  const [word = '', ...args] = command.split('^');
  switch (word) {
    case 'channel':
    case 'here':
    case 'everyone':
      return el('span', 'mk-mention mk-broadcast', `@${word}`);
    case 'subteam': {
      const id = args[0] ?? '';
      const name = ctx.groups.get(id) ?? label?.replace(/^@/, '') ?? id;
      const span = el('span', 'mk-mention mk-group', `@${name}`);
      span.dataset['groupId'] = id;
      return span;
    }
    case 'date': {
      const seconds = Number(args[0]);
      const format = args[1] ?? '';
      const time = el('time', 'mk-date');
      if (!Number.isFinite(seconds) || args[0] === undefined || args[0] === '') {
        time.textContent = label ?? '';
        return time;
      }
      const date = new Date(seconds * 1000);
      time.dateTime = date.toISOString();
      time.title = `${date.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
      time.textContent = formatSlackDate(format, seconds * 1000, ctx.now);
      return time;
    }
    default: {
      // An unknown special command: its fallback if it has one, else the command itself, visibly.
      return el('span', 'mk-unknown', label ?? `<!${command}>`);
    }
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
}

/**
 * Slack's `<!date>` tokens, in UTC (the page says so): the sandbox must render the same on every
 * machine, and its clock may have been skipped ahead of the browser's.
 */
export function formatSlackDate(format: string, ms: number, nowMs: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  const day = d.getUTCDate();
  const pad = (n: number) => String(n).padStart(2, '0');
  const hours12 = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
  const ampm = d.getUTCHours() < 12 ? 'AM' : 'PM';
  const dayDiff = Math.round(
    (Date.UTC(y, mo, day) - Date.UTC(new Date(nowMs).getUTCFullYear(), new Date(nowMs).getUTCMonth(), new Date(nowMs).getUTCDate())) / 86_400_000,
  );
  const pretty = (plain: string) => (dayDiff === 0 ? 'Today' : dayDiff === -1 ? 'Yesterday' : dayDiff === 1 ? 'Tomorrow' : plain);
  const tokens: Record<string, () => string> = {
    date_num: () => `${y}-${pad(mo + 1)}-${pad(day)}`,
    date: () => `${MONTHS[mo]} ${ordinal(day)}, ${y}`,
    date_short: () => `${MONTHS[mo]?.slice(0, 3)} ${day}, ${y}`,
    date_long: () => `${WEEKDAYS[d.getUTCDay()]}, ${MONTHS[mo]} ${ordinal(day)}, ${y}`,
    date_pretty: () => pretty(`${MONTHS[mo]} ${ordinal(day)}, ${y}`),
    date_short_pretty: () => pretty(`${MONTHS[mo]?.slice(0, 3)} ${day}, ${y}`),
    date_long_pretty: () => pretty(`${WEEKDAYS[d.getUTCDay()]}, ${MONTHS[mo]} ${ordinal(day)}, ${y}`),
    time: () => `${hours12}:${pad(d.getUTCMinutes())} ${ampm}`,
    time_secs: () => `${hours12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${ampm}`,
    ago: () => agoText(nowMs - ms),
  };
  return format.replace(/\{([a-z_]+)\}/g, (whole, name: string) => tokens[name]?.() ?? whole);
}

function agoText(delta: number): string {
  const abs = Math.abs(delta);
  const units: Array<[string, number]> = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
  ];
  for (const [unit, size] of units) {
    const n = Math.floor(abs / size);
    if (n >= 1) return delta >= 0 ? `${n} ${unit}${n === 1 ? '' : 's'} ago` : `in ${n} ${unit}${n === 1 ? '' : 's'}`;
  }
  return 'just now';
}
