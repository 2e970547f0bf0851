/**
 * The Intercom port over axios: identity verification secrets, Preview API (contract §1–§2).
 *
 * Every axios error and every response is reduced to an `Exchange` (status, body text, reset, or
 * a network cause) inside `exchange()`, so no AxiosError — which carries the Authorization header
 * in `config.headers` and the request body in `config.data` — survives to be thrown or logged.
 * Errors are IntercomErrors built from status, codes and request id only.
 *
 * A create is never retried blindly: a second POST mints a second secret and the first one's
 * material is lost for good. When its outcome is unknown (timeout, reset, 5xx, unparseable 201)
 * this client throws IntercomError('ambiguous') and stops; reconciling by listing for the
 * request's unique name, and handling an orphan, is the core workflow's job (SPEC §4 step 4).
 * The one case handled here is a 429: wait for the window, list, and re-send only if no secret
 * carries the requested name yet.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios from 'axios';
import pino, { type Logger } from 'pino';
import type { Intercom } from '../core/ports';
import { IntercomError, type IntercomErrorKind } from '../core/errors';
import { requestIdInName } from '../core/request-id';
import { isPlatform, type CreatedSecret, type Platform, type SecretInfo } from '../core/types';
import { delayBeforeRetry, isRetryable, retryPolicy, type AttemptFailure, type RetryOptions } from './retry-policy';
import { parseCreatedSecret, parseErrorBody, parseSecretList } from './responses';

export interface IntercomClientOptions {
  /** Full base URL; see resolveIntercomBaseUrl for `us`/`eu`/`au`. */
  readonly baseUrl: string;
  readonly accessToken: string;
  /** Per attempt, connect to last byte. Default 10 s. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch; compared with X-RateLimit-Reset. */
  readonly now?: () => number;
  /** In [0, 1): jitter. */
  readonly random?: () => number;
  readonly logger?: Logger;
}

type Operation = 'list' | 'create' | 'delete';

type NetworkCause = 'timeout' | 'connection reset' | 'connection refused' | 'network error';

/** One HTTP exchange, reduced to what the client decides on. A 201's `body` holds the material. */
type Exchange =
  | { readonly kind: 'response'; readonly status: number; readonly body: string; readonly rateLimitReset?: number }
  | { readonly kind: 'network'; readonly cause: NetworkCause };

type Response = Extract<Exchange, { kind: 'response' }>;

const VERSION = 'Preview';
/** After a 429 on create, how long before the second look for a secret it may have created after all. */
const RATE_LIMIT_RELIST_DELAY_MS = 1_000;

function networkCause(err: unknown): NetworkCause {
  const code = err !== null && typeof err === 'object' && 'code' in err ? (err as { code?: unknown }).code : undefined;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_BAD_RESPONSE') return 'connection reset';
  if (code === 'ECONNREFUSED') return 'connection refused';
  return 'network error';
}

function resetHeader(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d{1,12}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

function kindForStatus(status: number): IntercomErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 400 && status < 500 && status !== 408) return 'invalid';
  return 'unavailable';
}

function describe(ex: Exchange): string {
  return ex.kind === 'network' ? ex.cause : `HTTP ${ex.status}`;
}

/** An IntercomError from what was seen on the wire: status, codes, request id, reset. Never a body. */
function errorFrom(kind: IntercomErrorKind, message: string, ex: Exchange): IntercomError {
  if (ex.kind === 'network') return new IntercomError(kind, message);
  const { codes, requestId } = ex.status === 201 || ex.status === 200 ? { codes: [], requestId: undefined } : parseErrorBody(ex.body);
  const suffix = codes.length > 0 ? ` (${codes.join(', ')})` : '';
  return new IntercomError(kind, message + suffix, {
    status: ex.status,
    codes,
    ...(requestId === undefined ? {} : { requestId }),
    ...(ex.rateLimitReset === undefined ? {} : { rateLimitReset: ex.rateLimitReset }),
  });
}

function checkToken(token: string): void {
  // Refuses values that would corrupt the header; never says what the value was.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this check refuses
  if (typeof token !== 'string' || token.length === 0 || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new Error('INTERCOM_ACCESS_TOKEN is empty or contains whitespace or control characters');
  }
}

export function createIntercomClient(opts: IntercomClientOptions): Intercom {
  checkToken(opts.accessToken);
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const policy = retryPolicy(opts.retry);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const log = (opts.logger ?? pino({ enabled: false })).child({ component: 'intercom' });

  const http = axios.create({
    timeout: timeoutMs,
    maxRedirects: 0,
    maxContentLength: 5_000_000,
    // Fresh connections for POST and DELETE: a write on a kept-alive socket the server has just
    // closed fails with a reset before Intercom saw it, and would be reported as ambiguous for nothing.
    httpAgent: new HttpAgent({ keepAlive: false }),
    httpsAgent: new HttpsAgent({ keepAlive: false }),
    // Every status is an answer to decide on here, never an AxiosError to unwrap.
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    headers: {
      Authorization: `Bearer ${opts.accessToken}`,
      Accept: 'application/json',
      'Intercom-Version': VERSION,
      'User-Agent': 'ivs-bot',
    },
  });

  // GETs are safe to repeat (and are retried on a reset), so they reuse connections: no new TLS
  // handshake for every /ivs list.
  const readAgents = { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 8 }), httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 8 }) };

  async function exchange(op: Operation, attempt: number, method: 'GET' | 'POST' | 'DELETE', path: string, body?: string): Promise<Exchange> {
    const started = now();
    // axios' timeout is per socket phase; the abort bounds the whole exchange, trickling bodies included.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    let ex: Exchange;
    try {
      const res = await http.request<unknown>({
        method,
        url: base + path,
        signal: deadline.signal,
        ...(method === 'GET' ? readAgents : {}),
        ...(body === undefined ? {} : { data: body, headers: { 'Content-Type': 'application/json' } }),
      });
      const reset = resetHeader(res.headers['x-ratelimit-reset']);
      ex = {
        kind: 'response',
        status: res.status,
        body: typeof res.data === 'string' ? res.data : '',
        ...(reset === undefined ? {} : { rateLimitReset: reset }),
      };
    } catch (err) {
      // Only the error's code is read; the error itself (config, headers, data) is dropped here.
      ex = { kind: 'network', cause: networkCause(err) };
    } finally {
      clearTimeout(timer);
    }
    log.debug({ op, attempt, outcome: describe(ex), ms: now() - started }, 'intercom call');
    return ex;
  }

  /** GET/DELETE with the retry policy. Returns the first final answer; throws when the budget runs out. */
  /**
   * The answer to the last attempt, and whether an earlier one may have been carried out without
   * its answer arriving (a reset or a 5xx; a 429 was not carried out).
   */
  async function safeCall(op: 'list' | 'delete', method: 'GET' | 'DELETE', path: string, what: string): Promise<Response & { earlierMayHaveApplied: boolean }> {
    let earlierMayHaveApplied = false;
    for (let attempt = 1; ; attempt++) {
      const ex = await exchange(op, attempt, method, path);
      const failure: AttemptFailure =
        ex.kind === 'network'
          ? { kind: 'network' }
          : { kind: 'status', status: ex.status, ...(ex.rateLimitReset === undefined ? {} : { rateLimitReset: ex.rateLimitReset }) };
      if (ex.kind === 'response' && !isRetryable(failure)) return { ...ex, earlierMayHaveApplied };
      if (ex.kind === 'network' || ex.status !== 429) earlierMayHaveApplied = true;
      if (attempt >= policy.maxAttempts) {
        const kind = ex.kind === 'response' && ex.status === 429 ? 'rate_limited' : 'unavailable';
        throw errorFrom(kind, `Intercom ${what} failed after ${attempt} attempts: ${describe(ex)}`, ex);
      }
      const waitMs = Math.round(delayBeforeRetry(policy, attempt, failure, now(), random));
      log.warn({ op, attempt, outcome: describe(ex), waitMs }, 'intercom call failed, retrying');
      await sleep(waitMs);
    }
  }

  async function listSecrets(): Promise<SecretInfo[]> {
    const res = await safeCall('list', 'GET', '/secure_mode_secrets', 'list secrets');
    if (res.status !== 200) throw errorFrom(kindForStatus(res.status), `Intercom refused to list secrets: HTTP ${res.status}`, res);
    const secrets = parseSecretList(res.body);
    if (!secrets) throw new IntercomError('unavailable', 'Intercom answered the secrets list with an unexpected body', { status: res.status });
    return secrets;
  }

  async function deleteSecret(id: string): Promise<'deleted' | 'already_gone'> {
    if (typeof id !== 'string' || id.length === 0) throw new IntercomError('invalid', 'delete needs a secret id');
    const res = await safeCall('delete', 'DELETE', `/secure_mode_secrets/${encodeURIComponent(id)}`, `delete secret ${id}`);
    if (res.status >= 200 && res.status < 300) return 'deleted';
    // Status first (contract §1.3): a 404 means gone. After an attempt whose answer was lost, that
    // attempt is what deleted it: the thread says "deleted", not "already gone".
    if (res.status === 404) return res.earlierMayHaveApplied ? 'deleted' : 'already_gone';
    throw errorFrom(kindForStatus(res.status), `Intercom refused to delete secret ${id}: HTTP ${res.status}`, res);
  }

  async function createSecret(input: { name: string; platforms: readonly Platform[] }): Promise<CreatedSecret> {
    const { name, platforms } = input;
    if (typeof name !== 'string' || name.trim() === '' || platforms.length === 0 || !platforms.every((p) => isPlatform(p))) {
      throw new IntercomError('invalid', 'create needs a name and at least one platform (web, ios, android)');
    }
    // All three flags explicitly: "absent means false" is only an assumption (contract §2.2).
    const body = JSON.stringify({
      name,
      supports_web: platforms.includes('web'),
      supports_ios: platforms.includes('ios'),
      supports_android: platforms.includes('android'),
    });
    for (let attempt = 1; ; attempt++) {
      const ex = await exchange('create', attempt, 'POST', '/secure_mode_secrets', body);
      if (ex.kind === 'response' && ex.status >= 200 && ex.status < 300) {
        const created = parseCreatedSecret(ex.body);
        if (created) return created;
        log.warn({ op: 'create', status: ex.status }, 'intercom create answered an unreadable success; outcome unknown');
        throw new IntercomError('ambiguous', `Intercom create answered HTTP ${ex.status} with an unreadable body: a secret may exist; reconcile by name`, {
          status: ex.status,
        });
      }
      if (ex.kind === 'response' && ex.status === 429) {
        if (attempt >= policy.maxAttempts) throw errorFrom('rate_limited', `Intercom create was rate limited ${attempt} times; nothing was sent again`, ex);
        await waitOutRateLimit(attempt, ex, name);
        continue;
      }
      if (ex.kind === 'response' && ex.status >= 400 && ex.status < 500 && ex.status !== 408) {
        throw errorFrom(kindForStatus(ex.status), `Intercom refused to create the secret: HTTP ${ex.status}`, ex);
      }
      log.warn({ op: 'create', outcome: describe(ex) }, 'intercom create outcome unknown; not retried');
      throw errorFrom('ambiguous', `Intercom create outcome unknown (${describe(ex)}): a secret may exist; reconcile by name`, ex);
    }
  }

  /**
   * After a 429 on create: wait for the window, then make sure the POST really created nothing
   * (that a 429 creates nothing is an assumption, contract §1.6) before it may be sent again.
   */
  async function waitOutRateLimit(attempt: number, ex: Response, name: string): Promise<void> {
    const failure: AttemptFailure = { kind: 'status', status: 429, ...(ex.rateLimitReset === undefined ? {} : { rateLimitReset: ex.rateLimitReset }) };
    const waitMs = Math.round(delayBeforeRetry(policy, attempt, failure, now(), random));
    log.warn({ op: 'create', attempt, outcome: describe(ex), waitMs }, 'intercom create rate limited; checking before sending again');
    await sleep(waitMs);
    // Matched by the request id in the name, as reconciliation does (Intercom may normalise names),
    // and looked for twice: a secret just created may take a moment to be listed (contract §1.6).
    const requestId = requestIdInName(name);
    const ours = (s: SecretInfo) => s.name === name || (requestId !== null && requestIdInName(s.name) === requestId);
    for (let look = 0; look < 2; look++) {
      if (look > 0) await sleep(RATE_LIMIT_RELIST_DELAY_MS);
      let existing: SecretInfo[];
      try {
        existing = await listSecrets();
      } catch {
        throw errorFrom('ambiguous', 'Intercom create was rate limited and the check for a secret of that name failed; reconcile by name', ex);
      }
      if (existing.some(ours)) {
        throw errorFrom('ambiguous', 'Intercom create was rate limited, yet a secret of that name exists; reconcile by name', ex);
      }
    }
  }

  return { listSecrets, createSecret, deleteSecret };
}
