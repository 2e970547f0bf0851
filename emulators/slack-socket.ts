import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
// `ws` is the WebSocket library @slack/socket-mode itself uses (installed as its dependency).
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { readBody, sendJson } from './http';

// A Slack Socket Mode double on 127.0.0.1, shaped after what @slack/socket-mode's SocketModeClient does:
// it POSTs `apps.connections.open` with the app-level token (Authorization: Bearer xapp-…) to its Web API
// base URL, opens a WebSocket to the returned `url`, waits for `{"type":"hello"}`, then acks every
// envelope by sending `{"envelope_id", "payload": {...}}` back.
//
// Bolt gives the SocketModeClient the App's `clientOptions`, so `apps.connections.open` goes to the same
// `slackApiUrl` (SLACK_API_URL) as every other Web API call. This double therefore sits in front of the
// Slack Web API double: `apiUrl` answers `apps.connections.open` itself and forwards every other
// `/api/<method>` unchanged to `forwardTo`, where it is recorded as usual.
//
//   const slack = await startSlackDouble();
//   const socket = await startSocketModeDouble({ forwardTo: slack.url });
//   env.SLACK_API_URL = socket.apiUrl; env.SLACK_APP_TOKEN = socket.appToken;   // start the bot
//   await socket.connected;
//   const ack = await socket.sendSlashCommand(slashCommandFields({ text: 'help', responseUrl: slack.responseUrl() }));
//   expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });

export const DEFAULT_APP_TOKEN = 'xapp-1-A111-1700000000-socketmodedouble';

export interface SocketModeDoubleOptions {
  /** Base URL (ending in `/api/`) that every Web API method except `apps.connections.open` is forwarded to. */
  forwardTo: string;
  /** The only app-level token `apps.connections.open` accepts. Default `DEFAULT_APP_TOKEN`. */
  appToken?: string;
  /** Sent in `hello.connection_info.app_id` and the connection URL. Default `A111`. */
  appId?: string;
  /** How long `sendSlashCommand` / `sendInteractive` wait for the ack. Default 5000 ms. */
  ackTimeoutMs?: number;
}

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** An envelope as Slack sends it over the socket. */
export interface SocketEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** What the app sent back for an envelope: `payload` is what an HTTP-mode ack would have put in the response body. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** Milliseconds between sending the envelope and receiving this ack. */
  latencyMs: number;
}

/** One `apps.connections.open` call as the double received it. */
export interface ConnectionsOpenCall {
  /** The bearer token presented, or undefined when none was. */
  token: string | undefined;
  ok: boolean;
  error?: string;
}

export interface SocketModeDouble {
  /** `SLACK_API_URL` for the bot (ends in `/api/`). */
  readonly apiUrl: string;
  readonly appToken: string;
  readonly openCalls: ReadonlyArray<ConnectionsOpenCall>;
  /** Every ack received, in order. */
  readonly acks: ReadonlyArray<SocketAck>;
  /** Sockets currently open (after hello). */
  readonly openConnections: number;
  /**
   * Resolves when the double has greeted its first client with `hello`. The client reads the hello a
   * moment later; Bolt's `app.start()` resolves only once it has.
   */
  readonly connected: Promise<void>;
  /** Close codes of the connections that have ended, oldest first (1000: the client closed normally). */
  readonly closeCodes: ReadonlyArray<number>;
  /** Resolves once no connection is open (at once if none is). */
  waitForNoConnections(timeoutMs?: number): Promise<void>;
  /** Resolves when `n` connections in total have been greeted (reconnects count). */
  waitForConnections(n: number, timeoutMs?: number): Promise<void>;
  /** Sends a `slash_commands` envelope (payload: the flat command fields) and resolves with the app's ack. */
  sendSlashCommand(fields: Readonly<Record<string, string | undefined>>): Promise<SocketAck>;
  /** Sends an `interactive` envelope (`block_actions`, `view_submission`, …) and resolves with the app's ack. */
  sendInteractive(payload: object): Promise<SocketAck>;
  /** Sends any envelope on the newest open connection and resolves with the ack for it. */
  sendEnvelope(type: EnvelopeType, payload: object, opts?: { acceptsResponsePayload?: boolean; timeoutMs?: number }): Promise<SocketAck>;
  /** Slack's `{"type":"disconnect"}`: asks every connected client to reconnect. */
  requestReconnect(reason?: string): void;
  /** Drops every socket and stops both servers. Stop the bot first, or it will try to reconnect. */
  close(): Promise<void>;
}

const DEFAULT_ACK_TIMEOUT_MS = 5000;
const LINK_PATH = '/link/';

interface PendingAck {
  readonly sentAt: number;
  readonly resolve: (ack: SocketAck) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function bearer(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

/** The ack frame, if `data` is one: `{"envelope_id": string, "payload"?: object}`. */
function parseAck(data: RawData): { envelope_id: string; payload?: Record<string, unknown> } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString());
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { envelope_id: id, payload } = parsed as { envelope_id?: unknown; payload?: unknown };
  if (typeof id !== 'string') return undefined;
  return typeof payload === 'object' && payload !== null ? { envelope_id: id, payload: payload as Record<string, unknown> } : { envelope_id: id };
}

export async function startSocketModeDouble(opts: SocketModeDoubleOptions): Promise<SocketModeDouble> {
  const appToken = opts.appToken ?? DEFAULT_APP_TOKEN;
  const appId = opts.appId ?? 'A111';
  const ackTimeoutMs = opts.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const forwardTo = opts.forwardTo.endsWith('/') ? opts.forwardTo : `${opts.forwardTo}/`;

  const openCalls: ConnectionsOpenCall[] = [];
  const acks: SocketAck[] = [];
  const pending = new Map<string, PendingAck>();
  /** Tickets handed out by apps.connections.open; each opens one socket, once, as Slack's do. */
  const tickets = new Set<string>();
  const sockets: WebSocket[] = [];
  let greeted = 0;
  /** Close codes of finished connections: 1000 when the client closed normally, 1006 when it just vanished. */
  const closeCodes: number[] = [];
  const idleWaiters: Array<() => void> = [];
  const connectionWaiters: Array<{ n: number; resolve: () => void }> = [];

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const onAck = (data: RawData): void => {
    const ack = parseAck(data);
    if (!ack) return;
    const waiting = pending.get(ack.envelope_id);
    const received: SocketAck = { ...ack, latencyMs: waiting ? Date.now() - waiting.sentAt : 0 };
    acks.push(received);
    if (!waiting) return;
    pending.delete(ack.envelope_id);
    clearTimeout(waiting.timer);
    waiting.resolve(received);
  };

  const greet = (ws: WebSocket): void => {
    sockets.push(ws);
    ws.on('message', onAck);
    ws.on('close', (code: number) => {
      const i = sockets.indexOf(ws);
      if (i >= 0) sockets.splice(i, 1);
      closeCodes.push(code);
      if (sockets.length === 0) for (const settle of idleWaiters.splice(0)) settle();
    });
    ws.on('error', () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.length,
        debug_info: { host: 'applink-double', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
    greeted += 1;
    for (const w of [...connectionWaiters]) {
      if (greeted >= w.n) {
        connectionWaiters.splice(connectionWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const answerConnectionsOpen = (req: IncomingMessage, res: ServerResponse, base: string): void => {
    const token = bearer(req);
    const error = token === undefined ? 'not_authed' : !token.startsWith('xapp-') ? 'not_allowed_token_type' : token !== appToken ? 'invalid_auth' : undefined;
    openCalls.push({ token, ok: error === undefined, ...(error ? { error } : {}) });
    if (error) {
      sendJson(res, 200, { ok: false, error });
      return;
    }
    const ticket = randomUUID();
    tickets.add(ticket);
    sendJson(res, 200, { ok: true, url: `${base.replace(/^http/, 'ws')}${LINK_PATH}?ticket=${ticket}&app_id=${appId}` });
  };

  /** Everything but apps.connections.open goes to the Web API double, headers and body untouched. */
  const forward = async (method: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Web API bodies are form or JSON text (no file uploads here), so a string passes them through intact.
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'user-agent']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    try {
      const upstream = await fetch(`${forwardTo}${method}`, { method: 'POST', headers, body });
      const out: Record<string, string> = {};
      for (const name of ['content-type', 'retry-after']) {
        const v = upstream.headers.get(name);
        if (v !== null) out[name] = v;
      }
      res.writeHead(upstream.status, out);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (err) {
      sendJson(res, 502, { ok: false, error: 'socket_double_forward_failed', detail: String(err) });
    }
  };

  let base = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(path);
    if (req.method === 'POST' && api?.[1] === 'apps.connections.open') {
      // Drain the (empty) form body before answering.
      readBody(req).then(
        () => answerConnectionsOpen(req, res, base),
        () => res.destroy(),
      );
    } else if (req.method === 'POST' && api?.[1] !== undefined) {
      forward(api[1], req, res).catch(() => res.destroy());
    } else {
      sendJson(res, 404, { ok: false, error: 'unknown_path' });
    }
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== LINK_PATH || !tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, greet);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const waitForConnections = (n: number, timeoutMs = DEFAULT_ACK_TIMEOUT_MS): Promise<void> => {
    if (greeted >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const i = connectionWaiters.indexOf(waiter);
        if (i >= 0) connectionWaiters.splice(i, 1);
        reject(
          new Error(
            `socket mode double: ${greeted} connection(s) after ${timeoutMs} ms, waited for ${n}; apps.connections.open calls: ${JSON.stringify(openCalls)}`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      connectionWaiters.push(waiter);
    });
  };
  // No timeout on `connected`: a test awaits it right after starting the bot, under vitest's own hook timeout.
  const connected = new Promise<void>((resolve) => connectionWaiters.push({ n: 1, resolve }));

  const sendEnvelope = (type: EnvelopeType, payload: object, o: { acceptsResponsePayload?: boolean; timeoutMs?: number } = {}): Promise<SocketAck> => {
    const ws = sockets[sockets.length - 1];
    if (!ws || ws.readyState !== ws.OPEN) {
      return Promise.reject(new Error(`socket mode double: no open connection to send a ${type} envelope on`));
    }
    const envelope: SocketEnvelope = {
      envelope_id: randomUUID(),
      payload: { ...(payload as Record<string, unknown>) },
      type,
      accepts_response_payload: o.acceptsResponsePayload ?? acceptsResponsePayload(type, payload),
    };
    const timeoutMs = o.timeoutMs ?? ackTimeoutMs;
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(envelope.envelope_id);
        reject(new Error(`socket mode double: no ack for ${type} envelope ${envelope.envelope_id} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      pending.set(envelope.envelope_id, { sentAt: Date.now(), resolve, reject, timer });
      ws.send(JSON.stringify(envelope), (err) => {
        if (!err) return;
        clearTimeout(timer);
        pending.delete(envelope.envelope_id);
        reject(err);
      });
    });
  };

  return {
    apiUrl: `${base}/api/`,
    appToken,
    openCalls,
    acks,
    get openConnections() {
      return sockets.length;
    },
    closeCodes,
    connected,
    waitForConnections,
    waitForNoConnections: (timeoutMs = DEFAULT_ACK_TIMEOUT_MS) => {
      if (sockets.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const settle = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          const i = idleWaiters.indexOf(settle);
          if (i >= 0) idleWaiters.splice(i, 1);
          reject(new Error(`socket mode double: ${sockets.length} connection(s) still open after ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
        idleWaiters.push(settle);
      });
    },
    sendEnvelope,
    sendSlashCommand: (fields) => {
      const payload: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields)) if (typeof v === 'string') payload[k] = v;
      return sendEnvelope('slash_commands', payload);
    },
    sendInteractive: (payload) => sendEnvelope('interactive', payload),
    requestReconnect: (reason = 'refresh_requested') => {
      for (const ws of sockets) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-double' } }));
    },
    async close() {
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`socket mode double closed before envelope ${id} was acked`));
      }
      pending.clear();
      for (const ws of [...sockets]) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Slack sets `accepts_response_payload` where the ack body is used as the response: slash commands
 * (the ack's message) and view submissions (`response_action`); not for button clicks or shortcuts.
 */
function acceptsResponsePayload(type: EnvelopeType, payload: object): boolean {
  if (type === 'slash_commands') return true;
  return type === 'interactive' && (payload as { type?: unknown }).type === 'view_submission';
}
