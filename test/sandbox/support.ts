import { createHash } from 'node:crypto';
import { startSandbox, type Sandbox } from '../../sandbox/server/sandbox';
import type { ApiMessage } from '../../sandbox/server/slack-world';

/** A client for the sandbox's control API, as the page and demos use it. */
export interface Client {
  get<T = Record<string, unknown>>(path: string): Promise<T>;
  post<T = Record<string, unknown>>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export function client(url: string): Client {
  return {
    async get<T>(path: string) {
      const res = await fetch(`${url}${path}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${text}`);
      return JSON.parse(text) as T;
    },
    async post<T>(path: string, body: unknown) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: JSON.parse(await res.text()) as T };
    },
  };
}

/** A message as the control API answers it: the server's own type, so the two cannot drift. */
export type Message = ApiMessage;

/** Polls until `probe` returns something, or fails naming what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export const everything = (m: Message) => JSON.stringify([m.text, m.blocks]);

export function messages(c: Client, as: string, channel = 'ops'): Promise<Message[]> {
  return c.get<{ messages: Message[] }>(`/api/channels/${channel}/messages?as=${as}`).then((r) => r.messages);
}

export function thread(c: Client, ts: string, as: string, channel = 'ops'): Promise<{ parent: Message; replies: Message[] }> {
  return c.get(`/api/channels/${channel}/threads/${ts}?as=${as}`);
}

/** Types `/ivs …` as `as` and waits for the request card the bot posts; returns the card and the request id. */
export async function openRequest(c: Client, as: string, text: string, channel = 'ops'): Promise<{ id: string; card: Message }> {
  const before = new Set((await messages(c, as, channel)).map((m) => m.ts));
  const sent = await c.post('/api/command', { as, channel, text });
  if (sent.status !== 200) throw new Error(`command refused: ${JSON.stringify(sent.body)}`);
  const card = await until(`the card for ${text}`, async () =>
    (await messages(c, as, channel)).find((m) => !before.has(m.ts) && m.isBot && !m.ephemeral && /R-[0-9A-Z]{6}/.test(everything(m))),
  );
  const id = /R-[0-9A-Z]{6}/.exec(everything(card))?.[0] ?? '';
  return { id, card };
}

export async function replyMatching(c: Client, card: Message, as: string, pattern: RegExp, timeoutMs = 20_000, channel = 'ops'): Promise<Message> {
  return until(
    `a thread reply matching ${pattern}`,
    async () => (await thread(c, card.ts, as, channel)).replies.find((r) => pattern.test(everything(r))),
    timeoutMs,
  );
}

export function fingerprintOf(material: string): string {
  return createHash('sha256').update(material).digest('hex').slice(0, 8);
}

export { startSandbox, type Sandbox };
