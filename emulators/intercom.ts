/**
 * A loopback Intercom for tests: the identity verification secrets endpoints of the Preview REST API,
 * faithful to what contracts/intercom.md §3 labels Documented and configurable where it says
 * Undocumented or Assumption. Reach it with `INTERCOM_API_URL=<double.url>`.
 *
 * It never logs, and its call records mask the bearer token and any `secret` member, so it can act
 * as a witness that material only ever left it inside a 201 body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readBody } from './http';

export type IntercomOp = 'list' | 'create' | 'delete';
export type DoublePlatform = 'web' | 'ios' | 'android';

export const READ_SCOPE = 'read_secure_mode_secret';
export const READ_ALL_SCOPE = 'read_all';
export const WRITE_SCOPE = 'write_secure_mode_secret';

export interface DoubleToken {
  readonly scopes: readonly string[];
  /** The version the app is pinned to in Developer Hub: applies when a call sends no Intercom-Version. */
  readonly defaultVersion?: string;
}

/** One-shot faults, consumed in order per operation (contract §3.2). */
export type IntercomFault =
  /** Answer this status instead. `body` a string is sent raw (non-JSON); a `null` header value removes that header. */
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string | null>> }
  /** Perform the create/delete, then destroy the socket without answering. */
  | { readonly kind: 'apply-then-drop' }
  /** Perform the create/delete, then answer only after `ms`. */
  | { readonly kind: 'apply-then-stall'; readonly ms: number }
  /** Perform the create, answer 201 with a complete HTTP message whose JSON body is cut off inside `secret`. */
  | { readonly kind: 'truncated-201' }
  /** Destroy the socket without performing anything. */
  | { readonly kind: 'drop' };

export interface IntercomDoubleOptions {
  /** token → scopes (and app default version). Default: `ic-test-token` with read and write scopes. */
  readonly tokens?: Readonly<Record<string, DoubleToken>>;
  /** App default version for tokens that do not name one. Default `2.16`, so a client omitting the header fails. */
  readonly defaultVersion?: string;
  /** Accept the old name `Unstable`. Default true. */
  readonly acceptUnstable?: boolean;
  /** Accept lowercase `preview` (undocumented for these operations). Default false. */
  readonly acceptLowercasePreview?: boolean;
  /** 406 when Accept is missing or admits no JSON. Default true. */
  readonly strictAccept?: boolean;
  /** 415 when a POST does not say `Content-Type: application/json`. Default true. */
  readonly strictContentType?: boolean;
  /** Requests per token per 10-second window. Default 167. */
  readonly rateLimit?: number;
  /** How the undocumented "no platform enabled" refusal looks. */
  readonly noPlatformError?: { readonly status: number; readonly code: string; readonly message: string };
  /** Undocumented limits; unlimited by default. */
  readonly maxSecrets?: number;
  readonly maxNameLength?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** First id minted. Default `"100"`. */
  readonly idStart?: string | number;
  /** Delay before every API answer. Default 0. */
  readonly latencyMs?: number;
}

/** A secret as the double holds it, material included, for tests only. */
export interface DoubleSecret {
  readonly id: string;
  readonly name: string;
  readonly platforms: readonly DoublePlatform[];
  readonly supports_web: boolean;
  readonly supports_ios: boolean;
  readonly supports_android: boolean;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly material: string;
  readonly deleted: boolean;
  /** Unix seconds. */
  readonly deletedAt?: number;
}

export interface DoubleCall {
  readonly op: IntercomOp | 'unknown';
  readonly method: string;
  readonly path: string;
  /** Lowercased names; `authorization` masked. */
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed JSON (raw text if unparseable), `secret` members masked. */
  readonly body?: unknown;
  /** What was (or, for a stall, will be) answered; absent when the socket was dropped. */
  readonly status?: number;
  /** The fault that shaped this answer, if any. */
  readonly fault?: string;
  /** Double clock, milliseconds. */
  readonly at: number;
}

export interface IntercomDouble {
  readonly url: string;
  /** The first configured token; by default `ic-test-token` with both scopes. */
  readonly token: string;
  /** Delay before every API answer; may be changed between calls. */
  latencyMs: number;
  secrets(): DoubleSecret[];
  seed(input: { name: string; platforms: readonly DoublePlatform[]; createdAt?: number }): string;
  /** Marks a secret deleted behind the bot's back. Returns whether it was active. */
  remove(id: string): boolean;
  failNext(op: IntercomOp, fault: IntercomFault): void;
  /** A fault every call (list, create, delete) gets while it is set, after any queued `failNext`; null clears it. */
  setStandingFault(fault: IntercomFault | null): void;
  /** Forgets every queued `failNext` fault not yet consumed (the standing fault stays). */
  clearFaults(): void;
  readonly calls: readonly DoubleCall[];
  callsTo(op: IntercomOp): DoubleCall[];
  /** Resolves with the first recorded call (already recorded or future) to `op` that matches. */
  waitFor(op: IntercomOp, predicate?: (call: DoubleCall) => boolean, timeoutMs?: number): Promise<DoubleCall>;
  /** Every material the double ever minted, across resets: leak canaries. */
  issuedMaterial(): string[];
  /** Clears secrets, calls, faults, rate windows and the id counter; keeps issuedMaterial. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TOKEN = 'ic-test-token';
const WINDOW_SECONDS = 10;
const MASK = '[masked]';

interface StoredSecret {
  id: string;
  name: string;
  supports_web: boolean;
  supports_ios: boolean;
  supports_android: boolean;
  createdAt: number;
  material: string;
  deleted: boolean;
  deletedAt?: number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Readonly<Record<string, string | null>>;
}

function errorList(code: string, message: string, field?: string): unknown {
  return {
    type: 'error.list',
    request_id: randomUUID(),
    errors: [field === undefined ? { code, message } : { code, message, field }],
  };
}

function metadata(s: StoredSecret): Record<string, unknown> {
  return {
    type: 'identity_verification_secret',
    id: s.id,
    name: s.name,
    supports_android: s.supports_android,
    supports_ios: s.supports_ios,
    supports_web: s.supports_web,
    created_at: s.createdAt,
  };
}

function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'secret' ? MASK : maskSecrets(v);
  return out;
}

function acceptsJson(accept: string): boolean {
  return accept
    .split(',')
    .map((part) => (part.split(';')[0] ?? '').trim().toLowerCase())
    .some((range) => range === 'application/json' || range === 'application/*' || range === '*/*');
}

export async function startIntercomDouble(opts: IntercomDoubleOptions = {}): Promise<IntercomDouble> {
  const now = opts.now ?? Date.now;
  const tokens: Readonly<Record<string, DoubleToken>> = opts.tokens ?? {
    [DEFAULT_TOKEN]: { scopes: [READ_SCOPE, WRITE_SCOPE] },
  };
  const defaultToken = opts.tokens ? (Object.keys(opts.tokens)[0] ?? DEFAULT_TOKEN) : DEFAULT_TOKEN;
  const appDefaultVersion = opts.defaultVersion ?? '2.16';
  const acceptedVersions = new Set(['Preview']);
  if (opts.acceptUnstable ?? true) acceptedVersions.add('Unstable');
  if (opts.acceptLowercasePreview ?? false) acceptedVersions.add('preview');
  const strictAccept = opts.strictAccept ?? true;
  const strictContentType = opts.strictContentType ?? true;
  const rateLimit = opts.rateLimit ?? 167;
  const noPlatform = opts.noPlatformError ?? {
    status: 422,
    code: 'parameter_invalid',
    message: 'At least one platform must be enabled',
  };
  const idStart = Number(opts.idStart ?? '100');

  let store = new Map<string, StoredSecret>();
  let nextId = idStart;
  let calls: DoubleCall[] = [];
  let faults: Record<IntercomOp, IntercomFault[]> = { list: [], create: [], delete: [] };
  let windows = new Map<string, { start: number; count: number }>();
  let standing: IntercomFault | null = null;
  const issued: string[] = [];
  const events = new EventEmitter();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const latencyState = { ms: opts.latencyMs ?? 0 };

  const nowSeconds = (): number => Math.floor(now() / 1000);

  function mint(input: { name: string; web: boolean; ios: boolean; android: boolean; createdAt?: number }): StoredSecret {
    const material = randomBytes(32).toString('base64url');
    issued.push(material);
    const secret: StoredSecret = {
      id: String(nextId++),
      name: input.name,
      supports_web: input.web,
      supports_ios: input.ios,
      supports_android: input.android,
      createdAt: input.createdAt ?? nowSeconds(),
      material,
      deleted: false,
    };
    store.set(secret.id, secret);
    return secret;
  }

  function record(call: DoubleCall): void {
    calls.push(call);
    events.emit('call', call);
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  /** Counts the call in the token's window; returns the headers every authenticated answer carries. */
  function countCall(token: string): { headers: Record<string, string>; over: boolean } {
    const start = Math.floor(nowSeconds() / WINDOW_SECONDS) * WINDOW_SECONDS;
    let window = windows.get(token);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      windows.set(token, window);
    }
    window.count += 1;
    return {
      over: window.count > rateLimit,
      headers: {
        'X-RateLimit-Limit': String(rateLimit),
        'X-RateLimit-Remaining': String(Math.max(0, rateLimit - window.count)),
        'X-RateLimit-Reset': String(start + WINDOW_SECONDS),
      },
    };
  }

  function send(res: ServerResponse, answer: Answer, rateHeaders: Record<string, string>): void {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = { ...rateHeaders };
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      const existing = Object.keys(headers).find((h) => h.toLowerCase() === name.toLowerCase());
      if (existing) delete headers[existing];
      if (value !== null) headers[name] = value;
    }
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const type = typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json';
    res.writeHead(answer.status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  function faultAnswer(fault: { status: number; body?: unknown; headers?: Readonly<Record<string, string | null>> }): Answer {
    const code =
      fault.status === 429 ? 'rate_limit_exceeded' : fault.status === 503 ? 'service_unavailable' : fault.status >= 500 ? 'server_error' : 'client_error';
    const message = fault.status === 429 ? `Exceeded rate limit of ${rateLimit} in 10_seconds` : 'Injected fault';
    return { status: fault.status, body: fault.body ?? errorList(code, message), headers: fault.headers };
  }

  type Route = { op: IntercomOp; id?: string } | { op: 'unknown'; knownPath: boolean };

  function route(method: string, path: string): Route {
    if (path === '/secure_mode_secrets') {
      if (method === 'GET') return { op: 'list' };
      if (method === 'POST') return { op: 'create' };
      return { op: 'unknown', knownPath: true };
    }
    const match = /^\/secure_mode_secrets\/([^/]+)$/.exec(path);
    if (match) {
      if (method === 'DELETE') {
        let id: string;
        try {
          id = decodeURIComponent(match[1] ?? '');
        } catch {
          id = match[1] ?? '';
        }
        return { op: 'delete', id };
      }
      return { op: 'unknown', knownPath: true };
    }
    return { op: 'unknown', knownPath: false };
  }

  /** Validates a create body: either the secret's fields or the refusal. */
  function validateCreate(raw: string): { ok: true; name: string; web: boolean; ios: boolean; android: boolean } | { ok: false; answer: Answer } {
    let parsed: unknown;
    try {
      parsed = raw.trim() === '' ? {} : JSON.parse(raw);
    } catch {
      return { ok: false, answer: { status: 400, body: errorList('parameter_invalid', 'There was a problem in the JSON you submitted') } };
    }
    const body = (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as Record<string, unknown>;
    if (typeof body.name !== 'string' || body.name.trim() === '') {
      return { ok: false, answer: { status: 422, body: errorList('parameter_invalid', 'name is required') } };
    }
    const flags = { web: false, ios: false, android: false };
    for (const platform of ['web', 'ios', 'android'] as const) {
      const field = `supports_${platform}`;
      const value = body[field];
      if (value === undefined) continue;
      if (typeof value !== 'boolean') {
        return { ok: false, answer: { status: 422, body: errorList('parameter_invalid', `${field} must be a boolean`, field) } };
      }
      flags[platform] = value;
    }
    if (!flags.web && !flags.ios && !flags.android) {
      return { ok: false, answer: { status: noPlatform.status, body: errorList(noPlatform.code, noPlatform.message) } };
    }
    if (opts.maxNameLength !== undefined && body.name.length > opts.maxNameLength) {
      return { ok: false, answer: { status: 422, body: errorList('parameter_invalid', 'name is too long', 'name') } };
    }
    const active = [...store.values()].filter((s) => !s.deleted).length;
    if (opts.maxSecrets !== undefined && active >= opts.maxSecrets) {
      return { ok: false, answer: { status: 422, body: errorList('parameter_invalid', 'Maximum number of identity verification secrets reached') } };
    }
    return { ok: true, name: body.name, ...flags };
  }

  /** The operation proper, after every gate; `apply` is false when a fault says nothing happens. */
  function perform(op: IntercomOp, id: string | undefined, raw: string): { answer: Answer; created?: StoredSecret } {
    if (op === 'list') {
      const data = [...store.values()]
        .filter((s) => !s.deleted)
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map(metadata);
      return { answer: { status: 200, body: { type: 'list', data } } };
    }
    if (op === 'create') {
      const checked = validateCreate(raw);
      if (!checked.ok) return { answer: checked.answer };
      const created = mint(checked);
      return { answer: { status: 201, body: { ...metadata(created), secret: created.material } }, created };
    }
    const secret = id === undefined ? undefined : store.get(id);
    if (!secret || secret.deleted) {
      return { answer: { status: 404, body: errorList('identity_verification_secret_not_found', 'Identity verification secret not found') } };
    }
    secret.deleted = true;
    secret.deletedAt = nowSeconds();
    return { answer: { status: 204 } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    const raw = await readBody(req);
    if (path.startsWith('/__double/')) return inspection(method, path, res);

    const at = now();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = name === 'authorization' ? MASK : Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown;
    if (raw !== '') {
      try {
        body = maskSecrets(JSON.parse(raw));
      } catch {
        body = raw;
      }
    }
    const r = route(method, path);
    const base = { op: r.op, method, path, headers, ...(body === undefined ? {} : { body }), at };
    const answer = (a: Answer, rateHeaders: Record<string, string>, fault?: string): void => {
      record({ ...base, status: a.status, ...(fault ? { fault } : {}) });
      send(res, a, rateHeaders);
    };

    if (latencyState.ms > 0) await delay(latencyState.ms);

    // Auth comes first, and a refused token gets no rate-limit headers (contract §1.5).
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const token = auth?.[1];
    const grant = token === undefined ? undefined : tokens[token];
    if (token === undefined || grant === undefined) {
      return answer({ status: 401, body: errorList('unauthorized', 'Access Token Invalid') }, {});
    }
    const rate = countCall(token);
    if (r.op === 'unknown') {
      const message = r.knownPath ? 'Method not supported on this path' : 'Resource Not Found';
      return answer({ status: 404, body: errorList('not_found', message) }, rate.headers);
    }
    const version = req.headers['intercom-version'];
    const effective = typeof version === 'string' ? version : (grant.defaultVersion ?? appDefaultVersion);
    if (!acceptedVersions.has(effective)) {
      return answer({ status: 400, body: errorList('intercom_version_invalid', 'Requested resource is not available in current API version') }, rate.headers);
    }
    if (strictAccept && !acceptsJson(req.headers.accept ?? '')) {
      return answer({ status: 406, body: errorList('not_acceptable', 'The Accept header must allow application/json') }, rate.headers);
    }
    const needed = r.op === 'list' ? [READ_SCOPE, READ_ALL_SCOPE] : [WRITE_SCOPE];
    if (!needed.some((scope) => grant.scopes.includes(scope))) {
      return answer({ status: 403, body: errorList('forbidden', `You do not have the required scope (${needed[0]}) to access this resource`) }, rate.headers);
    }
    if (rate.over) {
      return answer({ status: 429, body: errorList('rate_limit_exceeded', `Exceeded rate limit of ${rateLimit} in 10_seconds`) }, rate.headers);
    }
    if (r.op === 'create' && strictContentType && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return answer({ status: 415, body: errorList('unsupported', 'Content-Type must be application/json') }, rate.headers);
    }

    const fault = faults[r.op].shift() ?? standing ?? undefined;
    if (fault && 'status' in fault) return answer(faultAnswer(fault), rate.headers, `status ${fault.status}`);
    if (fault?.kind === 'drop') {
      record({ ...base, fault: 'drop' });
      res.socket?.destroy();
      return;
    }
    const { answer: result, created } = perform(r.op, r.id, raw);
    if (fault?.kind === 'apply-then-drop') {
      record({ ...base, fault: 'apply-then-drop' });
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === 'apply-then-stall') {
      record({ ...base, status: result.status, fault: 'apply-then-stall' });
      await delay(fault.ms);
      send(res, result, rate.headers);
      return;
    }
    if (fault?.kind === 'truncated-201' && created) {
      record({ ...base, status: 201, fault: 'truncated-201' });
      const full = JSON.stringify({ ...metadata(created), secret: created.material });
      // Cut inside the material, so a client that echoes the body would leak part of it.
      const cut = full.slice(0, full.indexOf('"secret":"') + 10 + 20);
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(cut)), ...rate.headers });
      res.end(cut);
      return;
    }
    answer(result, rate.headers);
  }

  /** Test-only HTTP view for processes that cannot hold the JS handle. Never shows material. */
  function inspection(method: string, path: string, res: ServerResponse): void {
    const view = (): unknown[] => api.secrets().map(({ material: _material, ...rest }) => rest);
    if (method === 'GET' && path === '/__double/calls') send(res, { status: 200, body: calls }, {});
    else if (method === 'GET' && path === '/__double/secrets') send(res, { status: 200, body: view() }, {});
    else if (method === 'POST' && path === '/__double/reset') {
      api.reset();
      send(res, { status: 204 }, {});
    } else send(res, { status: 404, body: errorList('not_found', 'Resource Not Found') }, {});
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: errorList('server_error', 'Double failed') }, {});
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const api: IntercomDouble = {
    url: `http://127.0.0.1:${port}`,
    token: defaultToken,
    get latencyMs() {
      return latencyState.ms;
    },
    set latencyMs(ms: number) {
      latencyState.ms = ms;
    },
    secrets: () =>
      [...store.values()]
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((s) => ({
          id: s.id,
          name: s.name,
          platforms: (['web', 'ios', 'android'] as const).filter((p) => s[`supports_${p}`]),
          supports_web: s.supports_web,
          supports_ios: s.supports_ios,
          supports_android: s.supports_android,
          createdAt: s.createdAt,
          material: s.material,
          deleted: s.deleted,
          ...(s.deletedAt === undefined ? {} : { deletedAt: s.deletedAt }),
        })),
    seed: ({ name, platforms, createdAt }) =>
      mint({ name, web: platforms.includes('web'), ios: platforms.includes('ios'), android: platforms.includes('android'), createdAt }).id,
    remove: (id) => {
      const secret = store.get(id);
      if (!secret || secret.deleted) return false;
      secret.deleted = true;
      secret.deletedAt = nowSeconds();
      return true;
    },
    failNext: (op, fault) => {
      faults[op].push(fault);
    },
    setStandingFault: (fault) => {
      standing = fault;
    },
    clearFaults: () => {
      faults = { list: [], create: [], delete: [] };
    },
    get calls() {
      return calls;
    },
    callsTo: (op) => calls.filter((c) => c.op === op),
    waitFor: (op, predicate = () => true, timeoutMs = 5_000) => {
      const matches = (c: DoubleCall): boolean => c.op === op && predicate(c);
      const seen = calls.find(matches);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onCall = (c: DoubleCall): void => {
          if (!matches(c)) return;
          clearTimeout(timer);
          events.off('call', onCall);
          resolve(c);
        };
        const timer = setTimeout(() => {
          events.off('call', onCall);
          reject(new Error(`intercom double: no ${op} call matched within ${timeoutMs} ms`));
        }, timeoutMs);
        events.on('call', onCall);
      });
    },
    issuedMaterial: () => [...issued],
    reset: () => {
      store = new Map();
      nextId = idStart;
      calls = [];
      faults = { list: [], create: [], delete: [] };
      standing = null;
      windows = new Map();
      latencyState.ms = opts.latencyMs ?? 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      // Stalled answers hold their sockets open; close() must not wait for them.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
