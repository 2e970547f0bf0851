import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { startIntercomDouble, type IntercomDouble, READ_SCOPE, WRITE_SCOPE, READ_ALL_SCOPE } from '../../emulators/intercom';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// A verbatim copy of contracts/intercom-preview-secure-mode-secrets.openapi.yaml, so the repo is self-contained.
const OAS_PATH = join(__dirname, '../intercom/fixtures/intercom-preview-secure-mode-secrets.openapi.yaml');

// The contract's OpenAPI extract is the referee for every body the double produces (§3.5).
type Oas = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: unknown;
};
function loadOas(): Oas {
  return parseYaml(readFileSync(OAS_PATH, 'utf8')) as Oas;
}
const oas = loadOas();
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ $id: 'oas', components: oas.components });
const compiled = new Map<string, ValidateFunction>();
function validatorFor(pathItem: string, method: string, status: number): ValidateFunction | null {
  const content = oas.paths[pathItem]?.[method]?.responses[String(status)]?.content;
  if (!content) return null;
  const key = `${pathItem} ${method} ${status}`;
  let validate = compiled.get(key);
  if (!validate) {
    // Refs in the path item point at "#/components/…"; re-anchor them on the registered document.
    const schema = JSON.parse(JSON.stringify(content['application/json']?.schema).replaceAll('"#/components/', '"oas#/components/'));
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}
const validateError = ajv.compile({ $ref: 'oas#/components/schemas/error' });

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: IntercomJson;
}

/** The fields of Intercom's answers these tests read; every answer is also validated against the OpenAPI schema. */
interface IntercomJson {
  type?: string;
  request_id?: string;
  id?: string;
  secret?: string;
  data?: Array<{ id: string }>;
  errors?: Array<{ code: string; message?: string; field?: string }>;
}

async function call(
  double: IntercomDouble,
  method: string,
  path: string,
  opts: { token?: string | null; headers?: Record<string, string | null>; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Intercom-Version': 'Preview' };
  const token = opts.token === undefined ? double.token : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  // node:http rather than fetch: fetch adds `Accept: */*` on its own, which would hide the 406 case.
  const res = await new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
    const req = request(double.url + path, { method, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (c: Buffer) => chunks.push(c));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(incoming.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: incoming.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
  // An empty or non-JSON body reads as {}: every field undefined.
  let json: IntercomJson = {};
  try {
    if (res.text !== '') json = JSON.parse(res.text) as IntercomJson;
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, text: res.text, json };
}

/** Checks a reply against the OpenAPI extract: the operation's declared schema, else `error`. */
function expectConformant(reply: Reply, pathItem: string, method: string): void {
  if (reply.status === 204) {
    expect(reply.text).toBe('');
    return;
  }
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  const validate = validatorFor(pathItem, method, reply.status) ?? validateError;
  const ok = validate(reply.json);
  expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
  expect(ok).toBe(true);
  if (reply.status >= 400) expect(reply.json.request_id).toMatch(UUID_V4);
}

function expectError(reply: Reply, status: number, code: string, message?: string): void {
  expect(reply.status).toBe(status);
  expect(reply.json.type).toBe('error.list');
  expect(reply.json.errors?.[0]?.code).toBe(code);
  if (message !== undefined) expect(reply.json.errors?.[0]?.message).toBe(message);
  expect(reply.json.request_id).toMatch(UUID_V4);
  expect(validateError(reply.json)).toBe(true);
}

describe('the OpenAPI referee', () => {
  it('rejects bodies that break the schemas, so the conformance checks below mean something', () => {
    const list = validatorFor('/secure_mode_secrets', 'get', 200);
    const created = validatorFor('/secure_mode_secrets', 'post', 201);
    expect(list?.({ type: 'list', data: [{ id: 102 }] })).toBe(false);
    expect(list?.({ type: 'page', data: [] })).toBe(false);
    expect(created?.({ id: '1', secret: 7 })).toBe(false);
    expect(validateError({ type: 'error.list', errors: [{ message: 'no code' }] })).toBe(false);
  });
});

describe('Intercom double: gates', () => {
  let double: IntercomDouble;
  beforeAll(async () => {
    double = await startIntercomDouble({
      tokens: {
        'ic-test-token': { scopes: [READ_SCOPE, WRITE_SCOPE] },
        'read-only': { scopes: [READ_SCOPE] },
        'write-only': { scopes: [WRITE_SCOPE] },
        'read-all': { scopes: [READ_ALL_SCOPE] },
        'preview-app': { scopes: [READ_SCOPE], defaultVersion: 'Preview' },
      },
    });
  });
  afterAll(() => double.close());
  beforeEach(() => double.reset());

  it('refuses a call without a bearer token with the documented 401 body and no rate-limit headers', async () => {
    for (const token of [null, 'not-a-token']) {
      const reply = await call(double, 'GET', '/secure_mode_secrets', { token });
      expectError(reply, 401, 'unauthorized', 'Access Token Invalid');
      expectConformant(reply, '/secure_mode_secrets', 'get');
      expect(reply.headers.get('x-ratelimit-limit')).toBeNull();
      expect(reply.headers.get('x-ratelimit-reset')).toBeNull();
    }
    const basic = await call(double, 'GET', '/secure_mode_secrets', { headers: { Authorization: 'Basic abc' } });
    expect(basic.status).toBe(401);
  });

  it('checks the token before anything else, even on unknown paths', async () => {
    const reply = await call(double, 'GET', '/nowhere', { token: null });
    expect(reply.status).toBe(401);
  });

  it('gives every error a fresh request id', async () => {
    const a = await call(double, 'GET', '/secure_mode_secrets', { token: null });
    const b = await call(double, 'GET', '/secure_mode_secrets', { token: null });
    expect(a.json.request_id).not.toBe(b.json.request_id);
  });

  it('accepts Preview and Unstable but refuses a numbered version, and the app default applies without the header', async () => {
    expect((await call(double, 'GET', '/secure_mode_secrets')).status).toBe(200);
    expect((await call(double, 'GET', '/secure_mode_secrets', { headers: { 'Intercom-Version': 'Unstable' } })).status).toBe(200);
    const numbered = await call(double, 'GET', '/secure_mode_secrets', { headers: { 'Intercom-Version': '2.16' } });
    expectError(numbered, 400, 'intercom_version_invalid', 'Requested resource is not available in current API version');
    const lowercase = await call(double, 'GET', '/secure_mode_secrets', { headers: { 'Intercom-Version': 'preview' } });
    expect(lowercase.status).toBe(400);
    const omitted = await call(double, 'GET', '/secure_mode_secrets', { headers: { 'Intercom-Version': null } });
    expectError(omitted, 400, 'intercom_version_invalid');
    const previewApp = await call(double, 'GET', '/secure_mode_secrets', { token: 'preview-app', headers: { 'Intercom-Version': null } });
    expect(previewApp.status).toBe(200);
  });

  it('answers 406 when Accept is missing or admits no JSON', async () => {
    expect((await call(double, 'GET', '/secure_mode_secrets', { headers: { Accept: null } })).status).toBe(406);
    expect((await call(double, 'GET', '/secure_mode_secrets', { headers: { Accept: 'text/html' } })).status).toBe(406);
    expect((await call(double, 'GET', '/secure_mode_secrets', { headers: { Accept: 'text/html, */*;q=0.1' } })).status).toBe(200);
  });

  it('enforces the read scope on list and the write scope on create and delete', async () => {
    const create = await call(double, 'POST', '/secure_mode_secrets', { token: 'read-only', body: { name: 'x', supports_web: true } });
    expectError(create, 403, 'forbidden', 'You do not have the required scope (write_secure_mode_secret) to access this resource');
    expect((await call(double, 'DELETE', '/secure_mode_secrets/100', { token: 'read-only' })).status).toBe(403);
    const list = await call(double, 'GET', '/secure_mode_secrets', { token: 'write-only' });
    expectError(list, 403, 'forbidden', 'You do not have the required scope (read_secure_mode_secret) to access this resource');
    expect((await call(double, 'GET', '/secure_mode_secrets', { token: 'read-all' })).status).toBe(200);
    expect(double.secrets()).toEqual([]);
  });

  it('answers 404 for other methods on the paths and not_found for unknown paths', async () => {
    expect((await call(double, 'PUT', '/secure_mode_secrets')).status).toBe(404);
    expect((await call(double, 'GET', '/secure_mode_secrets/100')).status).toBe(404);
    expectError(await call(double, 'GET', '/contacts'), 404, 'not_found');
  });

  it('answers 415 to a create that is not sent as JSON', async () => {
    const reply = await call(double, 'POST', '/secure_mode_secrets', {
      body: '{"name":"x","supports_web":true}',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(reply.status).toBe(415);
    expect(double.secrets()).toEqual([]);
  });
});

describe('Intercom double: secrets', () => {
  let double: IntercomDouble;
  let clock = 1_734_537_500_000;
  beforeAll(async () => {
    double = await startIntercomDouble({ now: () => clock });
  });
  afterAll(() => double.close());
  beforeEach(() => {
    double.reset();
    clock = 1_734_537_500_000;
  });

  it('creates a secret with the next numeric id, the clock time and 32 random bytes of base64url material', async () => {
    const reply = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Production Web [R-7F3K2Q]', supports_web: true } });
    expect(reply.status).toBe(201);
    expectConformant(reply, '/secure_mode_secrets', 'post');
    expect(reply.json).toMatchObject({
      type: 'identity_verification_secret',
      id: '100',
      name: 'Production Web [R-7F3K2Q]',
      supports_web: true,
      supports_ios: false,
      supports_android: false,
      created_at: 1_734_537_500,
    });
    expect(reply.json.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(reply.json.secret ?? '', 'base64url')).toHaveLength(32);
    expect(double.secrets()[0]).toMatchObject({ id: '100', material: reply.json.secret, deleted: false, platforms: ['web'] });
    expect(double.issuedMaterial()).toEqual([reply.json.secret]);

    const second = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Mobile', supports_ios: true, supports_android: true } });
    expect(second.json.id).toBe('101');
    expect(second.json.secret).not.toBe(reply.json.secret);
  });

  it('lists active secrets in id order and never with material', async () => {
    double.seed({ name: 'B', platforms: ['ios'], createdAt: 10 });
    double.seed({ name: 'A', platforms: ['web', 'android'] });
    await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'C', supports_web: true } });
    const reply = await call(double, 'GET', '/secure_mode_secrets');
    expect(reply.status).toBe(200);
    expectConformant(reply, '/secure_mode_secrets', 'get');
    expect(reply.json.type).toBe('list');
    expect(reply.json.data?.map((s) => s.id)).toEqual(['100', '101', '102']);
    expect(reply.json.data?.[0]).toEqual({
      type: 'identity_verification_secret',
      id: '100',
      name: 'B',
      supports_android: false,
      supports_ios: true,
      supports_web: false,
      created_at: 10,
    });
    for (const material of double.issuedMaterial()) expect(reply.text).not.toContain(material);
  });

  it('validates a create: bad JSON 400, missing name 422, non-boolean flag 422 with field, no platform 422', async () => {
    const badJson = await call(double, 'POST', '/secure_mode_secrets', { body: '{"name":' });
    expectError(badJson, 400, 'parameter_invalid');
    for (const body of [{ supports_web: true }, { name: '', supports_web: true }, { name: 7, supports_web: true }]) {
      const reply = await call(double, 'POST', '/secure_mode_secrets', { body });
      expectError(reply, 422, 'parameter_invalid', 'name is required');
      expectConformant(reply, '/secure_mode_secrets', 'post');
    }
    const flag = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'x', supports_web: 'yes' } });
    expectError(flag, 422, 'parameter_invalid');
    expect(flag.json.errors?.[0]?.field).toBe('supports_web');
    const none = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'x', supports_web: false } });
    expectError(none, 422, 'parameter_invalid');
    expect(double.secrets()).toEqual([]);
  });

  it('soft-deletes an active secret with 204 and answers 404 for deleted, unknown and non-numeric ids', async () => {
    const id = double.seed({ name: 'Old', platforms: ['web'] });
    clock += 5_000;
    const reply = await call(double, 'DELETE', `/secure_mode_secrets/${id}`);
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(reply.headers.get('content-type')).toBeNull();
    expect(double.secrets()[0]).toMatchObject({ id, deleted: true, deletedAt: 1_734_537_505 });
    expect((await call(double, 'GET', '/secure_mode_secrets')).json.data).toEqual([]);
    for (const path of [`/secure_mode_secrets/${id}`, '/secure_mode_secrets/999', '/secure_mode_secrets/abc%20def']) {
      const gone = await call(double, 'DELETE', path);
      expectError(gone, 404, 'identity_verification_secret_not_found', 'Identity verification secret not found');
      expectConformant(gone, '/secure_mode_secrets/{id}', 'delete');
    }
  });

  it('seeds and removes secrets behind the client', async () => {
    const id = double.seed({ name: 'Seeded [R-AAAAAA]', platforms: ['android'] });
    expect(id).toBe('100');
    expect(double.remove(id)).toBe(true);
    expect(double.remove(id)).toBe(false);
    expect((await call(double, 'DELETE', `/secure_mode_secrets/${id}`)).status).toBe(404);
  });

  it('reset clears secrets, calls and the id counter but remembers every issued material', async () => {
    double.seed({ name: 'x', platforms: ['web'] });
    await call(double, 'GET', '/secure_mode_secrets');
    const issued = double.issuedMaterial();
    double.reset();
    expect(double.secrets()).toEqual([]);
    expect(double.calls).toEqual([]);
    expect(double.seed({ name: 'y', platforms: ['web'] })).toBe('100');
    expect(double.issuedMaterial()).toEqual(expect.arrayContaining(issued));
  });

  it('records calls with the token and any material masked', async () => {
    const created = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Rec', supports_web: true } });
    await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Sneaky', supports_web: true, secret: 'planted-value' } });
    const [first] = double.callsTo('create');
    expect(first).toMatchObject({ op: 'create', method: 'POST', path: '/secure_mode_secrets', status: 201, body: { name: 'Rec', supports_web: true } });
    expect(first?.headers.authorization).toBe('[masked]');
    expect(first?.headers['intercom-version']).toBe('Preview');
    const everything = JSON.stringify(double.calls);
    expect(everything).not.toContain(double.token);
    expect(everything).not.toContain(created.json.secret);
    expect(everything).not.toContain('planted-value');
  });

  it('waitFor resolves on a call that arrives later, matching the predicate', async () => {
    const waiting = double.waitFor('delete', (c) => c.status === 204);
    const id = double.seed({ name: 'x', platforms: ['web'] });
    await call(double, 'DELETE', '/secure_mode_secrets/999');
    await call(double, 'DELETE', `/secure_mode_secrets/${id}`);
    const seen = await waiting;
    expect(seen.path).toBe(`/secure_mode_secrets/${id}`);
  });

  it('serves a material-free view of its state on the inspection prefix', async () => {
    double.seed({ name: 'x', platforms: ['web'] });
    const text = (await call(double, 'GET', '/__double/secrets')).text;
    expect(JSON.parse(text)[0]).toMatchObject({ id: '100', name: 'x', deleted: false });
    expect(text).not.toContain(double.issuedMaterial()[0]);
    expect(double.calls).toEqual([]);
  });
});

describe('Intercom double: rate limit', () => {
  it('limits each token per 10-second window, with headers on every authenticated answer and no Retry-After', async () => {
    let clock = 1_700_000_003_000; // 3 s into a window that ends at 1_700_000_010
    const double = await startIntercomDouble({ rateLimit: 2, now: () => clock });
    try {
      const first = await call(double, 'GET', '/secure_mode_secrets');
      expect(first.headers.get('x-ratelimit-limit')).toBe('2');
      expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
      expect(first.headers.get('x-ratelimit-reset')).toBe('1700000010');
      const second = await call(double, 'GET', '/secure_mode_secrets');
      expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
      const third = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'x', supports_web: true } });
      expectError(third, 429, 'rate_limit_exceeded', 'Exceeded rate limit of 2 in 10_seconds');
      expect(third.headers.get('x-ratelimit-reset')).toBe('1700000010');
      expect(third.headers.get('retry-after')).toBeNull();
      expect(double.secrets()).toEqual([]);
      clock = 1_700_000_010_000;
      const next = await call(double, 'GET', '/secure_mode_secrets');
      expect(next.status).toBe(200);
      expect(next.headers.get('x-ratelimit-reset')).toBe('1700000020');
    } finally {
      await double.close();
    }
  });
});

describe('Intercom double: faults', () => {
  let double: IntercomDouble;
  beforeAll(async () => {
    double = await startIntercomDouble();
  });
  afterAll(() => double.close());
  beforeEach(() => double.reset());

  it('answers a queued status once, then behaves normally', async () => {
    double.failNext('list', { status: 503 });
    const failed = await call(double, 'GET', '/secure_mode_secrets');
    expectError(failed, 503, 'service_unavailable');
    expect(failed.headers.get('x-ratelimit-reset')).not.toBeNull();
    expect((await call(double, 'GET', '/secure_mode_secrets')).status).toBe(200);
    expect(double.callsTo('list').map((c) => c.status)).toEqual([503, 200]);
  });

  it('can throttle with or without the reset header, and send a non-JSON 5xx body', async () => {
    double.failNext('delete', { status: 429, headers: { 'X-RateLimit-Reset': null } });
    double.failNext('delete', { status: 502, body: '<html>Bad Gateway</html>' });
    const throttled = await call(double, 'DELETE', '/secure_mode_secrets/100');
    expectError(throttled, 429, 'rate_limit_exceeded');
    expect(throttled.headers.get('x-ratelimit-reset')).toBeNull();
    expect(throttled.headers.get('x-ratelimit-limit')).not.toBeNull();
    const html = await call(double, 'DELETE', '/secure_mode_secrets/100');
    expect(html.status).toBe(502);
    expect(html.text).toBe('<html>Bad Gateway</html>');
  });

  it('drop resets the connection without creating anything', async () => {
    double.failNext('create', { kind: 'drop' });
    await expect(call(double, 'POST', '/secure_mode_secrets', { body: { name: 'x', supports_web: true } })).rejects.toThrow();
    expect(double.secrets()).toEqual([]);
    expect(double.callsTo('create')[0]).toMatchObject({ fault: 'drop' });
  });

  it('apply-then-drop creates (or deletes) and then resets the connection', async () => {
    double.failNext('create', { kind: 'apply-then-drop' });
    await expect(call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Lost [R-AAAAAA]', supports_web: true } })).rejects.toThrow();
    expect(double.secrets()).toMatchObject([{ id: '100', name: 'Lost [R-AAAAAA]', deleted: false }]);
    double.failNext('delete', { kind: 'apply-then-drop' });
    await expect(call(double, 'DELETE', '/secure_mode_secrets/100')).rejects.toThrow();
    expect(double.secrets()[0]?.deleted).toBe(true);
  });

  it('apply-then-stall applies at once and answers only after the delay', async () => {
    double.failNext('create', { kind: 'apply-then-stall', ms: 150 });
    const started = Date.now();
    const pending = call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Slow', supports_web: true } });
    await double.waitFor('create');
    expect(double.secrets()).toHaveLength(1);
    const reply = await pending;
    expect(reply.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('truncated-201 creates the secret but sends a body that does not parse', async () => {
    double.failNext('create', { kind: 'truncated-201' });
    const reply = await call(double, 'POST', '/secure_mode_secrets', { body: { name: 'Cut', supports_web: true } });
    expect(reply.status).toBe(201);
    expect(() => JSON.parse(reply.text)).toThrow();
    expect(double.secrets()).toHaveLength(1);
  });

  it('latencyMs delays every answer', async () => {
    double.latencyMs = 120;
    const started = Date.now();
    await call(double, 'GET', '/secure_mode_secrets');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});

describe('Intercom double: shutdown', () => {
  it('close() does not wait for a stalled answer', async () => {
    const double = await startIntercomDouble();
    double.failNext('list', { kind: 'apply-then-stall', ms: 60_000 });
    const pending = call(double, 'GET', '/secure_mode_secrets').catch((err: unknown) => err);
    await double.waitFor('list');
    const started = Date.now();
    await double.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
