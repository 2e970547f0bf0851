import { inspect } from 'node:util';
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import pino from 'pino';
import { createIntercomClient, type IntercomClientOptions } from '../../src/intercom/client';
import { IntercomError } from '../../src/core/errors';
import { SecretMaterial, unsealForVault } from '../../src/core/secret-material';
import type { Intercom } from '../../src/core/ports';
import { startIntercomDouble, type IntercomDouble, READ_SCOPE, WRITE_SCOPE } from '../../emulators/intercom';

const TOKEN = 'ic-canary-token-7Hq2Zx';
const READ_ONLY = 'ic-read-only-token-K3p';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const START = 1_700_000_003_000; // 3 s into a rate-limit window ending at 1_700_000_010

let double: IntercomDouble;
let clock = START;
let sleeps: number[] = [];
let logLines: string[] = [];

function client(overrides: Partial<IntercomClientOptions> = {}): Intercom {
  return createIntercomClient({
    baseUrl: double.url,
    accessToken: TOKEN,
    timeoutMs: 2_000,
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRateLimitWaitMs: 12_000 },
    // Sleeping moves the shared clock: the double sees the retry arrive after the wait, instantly.
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    random: () => 0.5,
    logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) }),
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<IntercomError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntercomError);
  return err as IntercomError;
}

beforeAll(async () => {
  double = await startIntercomDouble({
    now: () => clock,
    tokens: { [TOKEN]: { scopes: [READ_SCOPE, WRITE_SCOPE] }, [READ_ONLY]: { scopes: [READ_SCOPE] } },
  });
});
afterAll(() => double.close());
beforeEach(() => {
  double.reset();
  clock = START;
  sleeps = [];
  logLines = [];
});

describe('Intercom client: happy paths', () => {
  it('lists secrets with platforms in the order web, ios, android', async () => {
    double.seed({ name: 'All platforms', platforms: ['android', 'web', 'ios'], createdAt: 1_734_537_243 });
    double.seed({ name: 'Mobile', platforms: ['android'] });
    expect(await client().listSecrets()).toEqual([
      { id: '100', name: 'All platforms', platforms: ['web', 'ios', 'android'], createdAt: 1_734_537_243 },
      { id: '101', name: 'Mobile', platforms: ['android'], createdAt: 1_700_000_003 },
    ]);
  });

  it('creates a secret and hands over its material sealed', async () => {
    const created = await client().createSecret({ name: 'Production Web [R-7F3K2Q]', platforms: ['web', 'ios'] });
    expect(created).toMatchObject({ id: '100', name: 'Production Web [R-7F3K2Q]', platforms: ['web', 'ios'], createdAt: 1_700_000_003 });
    expect(created.material).toBeInstanceOf(SecretMaterial);
    const [stored] = double.secrets();
    expect(unsealForVault(created.material)).toBe(stored?.material);
  });

  it('deletes a secret, and a second delete of it reports already gone', async () => {
    const id = double.seed({ name: 'Old', platforms: ['web'] });
    const intercom = client();
    expect(await intercom.deleteSecret(id)).toBe('deleted');
    expect(double.secrets()[0]?.deleted).toBe(true);
    expect(await intercom.deleteSecret(id)).toBe('already_gone');
    expect(await intercom.deleteSecret('no such/id')).toBe('already_gone');
    expect(double.callsTo('delete').map((c) => c.path)).toEqual([
      `/secure_mode_secrets/${id}`,
      `/secure_mode_secrets/${id}`,
      '/secure_mode_secrets/no%20such%2Fid',
    ]);
  });

  it('sends Accept, Intercom-Version: Preview and the bearer token, and Content-Type only on create', async () => {
    const intercom = client();
    await intercom.listSecrets();
    await intercom.createSecret({ name: 'Headers', platforms: ['android'] });
    await intercom.deleteSecret('100');
    for (const call of double.calls) {
      expect(call.status).toBeLessThan(300); // the double accepted the bearer token
      expect(call.headers.accept).toBe('application/json');
      expect(call.headers['intercom-version']).toBe('Preview');
    }
    const [list, create, del] = double.calls;
    expect(list?.headers['content-type']).toBeUndefined();
    expect(del?.headers['content-type']).toBeUndefined();
    expect(create?.headers['content-type']).toMatch(/^application\/json/);
    expect(create?.body).toEqual({ name: 'Headers', supports_web: false, supports_ios: false, supports_android: true });
  });

  it('accepts a base URL with a trailing slash', async () => {
    expect(await client({ baseUrl: `${double.url}/` }).listSecrets()).toEqual([]);
  });
});

describe('Intercom client: refusals', () => {
  it('reports a rejected token as unauthorized without retrying', async () => {
    const err = await failure(client({ accessToken: 'wrong-token' }).listSecrets());
    expect(err.kind).toBe('unauthorized');
    expect(err.details).toMatchObject({ status: 401, codes: ['unauthorized'] });
    expect(err.details.requestId).toMatch(UUID);
    expect(double.callsTo('list')).toHaveLength(1);
  });

  it('reports a missing scope as forbidden and creates nothing', async () => {
    const err = await failure(client({ accessToken: READ_ONLY }).createSecret({ name: 'x', platforms: ['web'] }));
    expect(err.kind).toBe('forbidden');
    expect(err.details).toMatchObject({ status: 403, codes: ['forbidden'] });
    expect(double.callsTo('create')).toHaveLength(1);
    expect(double.secrets()).toEqual([]);
  });

  it('reports a 422 on create as invalid after exactly one POST', async () => {
    double.failNext('create', {
      status: 422,
      body: { type: 'error.list', request_id: '2fda7f9b-4a31-4c59-8b3f-3e5c4f8a1d22', errors: [{ code: 'parameter_invalid', message: 'name is required' }] },
    });
    const err = await failure(client().createSecret({ name: 'x', platforms: ['web'] }));
    expect(err.kind).toBe('invalid');
    expect(err.details).toMatchObject({ status: 422, codes: ['parameter_invalid'], requestId: '2fda7f9b-4a31-4c59-8b3f-3e5c4f8a1d22' });
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('refuses a create without a name or platform before sending anything', async () => {
    const intercom = client();
    expect((await failure(intercom.createSecret({ name: ' ', platforms: ['web'] }))).kind).toBe('invalid');
    expect((await failure(intercom.createSecret({ name: 'x', platforms: [] }))).kind).toBe('invalid');
    expect(double.calls).toEqual([]);
  });

  it('reports a list body it cannot read as unavailable', async () => {
    double.failNext('list', { status: 200, body: { type: 'list', data: [{ id: '1' }] } });
    const err = await failure(client().listSecrets());
    expect(err.kind).toBe('unavailable');
    expect(double.callsTo('list')).toHaveLength(1);
  });
});

describe('Intercom client: retries of list and delete', () => {
  it('waits for X-RateLimit-Reset before retrying a throttled list', async () => {
    const limited = await startIntercomDouble({ now: () => clock, rateLimit: 1, tokens: { [TOKEN]: { scopes: [READ_SCOPE, WRITE_SCOPE] } } });
    try {
      const intercom = client({ baseUrl: limited.url });
      await intercom.listSecrets();
      expect(await intercom.listSecrets()).toEqual([]);
      const statuses = limited.callsTo('list').map((c) => c.status);
      expect(statuses).toEqual([200, 429, 200]);
      const retry = limited.callsTo('list')[2];
      expect(retry?.at).toBeGreaterThanOrEqual(1_700_000_010_000);
      expect(sleeps).toEqual([7_000 + 50]); // until the reset, plus jitter (random 0.5 × 100 ms)
    } finally {
      await limited.close();
    }
  });

  it('caps the wait for a far-off reset', async () => {
    double.failNext('list', { status: 429, headers: { 'X-RateLimit-Reset': String(1_700_000_003 + 3_600) } });
    await client().listSecrets();
    expect(sleeps).toEqual([12_000]);
  });

  it('backs off when a 429 carries no reset header', async () => {
    double.failNext('list', { status: 429, headers: { 'X-RateLimit-Reset': null } });
    await client().listSecrets();
    expect(double.callsTo('list').map((c) => c.status)).toEqual([429, 200]);
    expect(sleeps).toEqual([75]); // half a 100 ms step plus half of it again as jitter
  });

  it('gives up as rate_limited when every attempt is throttled', async () => {
    for (let i = 0; i < 3; i++) double.failNext('list', { status: 429 });
    const err = await failure(client().listSecrets());
    expect(err.kind).toBe('rate_limited');
    expect(err.details).toMatchObject({ status: 429, codes: ['rate_limit_exceeded'] });
    expect(err.details.rateLimitReset).toBeGreaterThanOrEqual(1_700_000_010);
    expect(double.callsTo('list')).toHaveLength(3);
  });

  it('retries a list after a 5xx and returns the second answer', async () => {
    double.seed({ name: 'A', platforms: ['web'] });
    double.failNext('list', { status: 502, body: '<html>bad gateway</html>' });
    expect(await client().listSecrets()).toHaveLength(1);
    expect(double.callsTo('list').map((c) => c.status)).toEqual([502, 200]);
  });

  it('gives up as unavailable after the retry budget of 5xx answers, with growing waits', async () => {
    for (let i = 0; i < 3; i++) double.failNext('list', { status: 503 });
    const err = await failure(client().listSecrets());
    expect(err.kind).toBe('unavailable');
    expect(err.details).toMatchObject({ status: 503, codes: ['service_unavailable'] });
    expect(double.callsTo('list')).toHaveLength(3);
    expect(sleeps).toEqual([75, 150]);
  });

  it('retries a list whose connection was reset', async () => {
    double.failNext('list', { kind: 'drop' });
    expect(await client().listSecrets()).toEqual([]);
    expect(double.callsTo('list')).toHaveLength(2);
  });

  it('reports an unreachable Intercom as unavailable', async () => {
    const err = await failure(client({ baseUrl: 'http://127.0.0.1:9' }).listSecrets());
    expect(err.kind).toBe('unavailable');
    expect(err.message).toMatch(/connection refused|network error/);
  });

  it('retries a delete lost after it applied, and reports it as deleted (the lost attempt did it), not as already gone', async () => {
    const id = double.seed({ name: 'Old', platforms: ['web'] });
    double.failNext('delete', { kind: 'apply-then-drop' });
    expect(await client().deleteSecret(id)).toBe('deleted');
    expect(double.callsTo('delete').map((c) => c.status)).toEqual([undefined, 404]);
    expect(double.secrets()[0]?.deleted).toBe(true);
  });

  it('after a 429 (not carried out) a 404 is still "already gone"', async () => {
    const id = double.seed({ name: 'Old', platforms: ['web'] });
    double.remove(id);
    double.failNext('delete', { status: 429 });
    expect(await client().deleteSecret(id)).toBe('already_gone');
  });

  it('retries a delete after a 500', async () => {
    const id = double.seed({ name: 'Old', platforms: ['web'] });
    double.failNext('delete', { status: 500 });
    expect(await client().deleteSecret(id)).toBe('deleted');
    expect(double.callsTo('delete').map((c) => c.status)).toEqual([500, 204]);
  });

  it('reports a delete refused for scope as forbidden', async () => {
    const err = await failure(client({ accessToken: READ_ONLY }).deleteSecret('100'));
    expect(err.kind).toBe('forbidden');
  });
});

describe('Intercom client: a create is never sent twice blindly', () => {
  it('a 500 on create is ambiguous after exactly one POST', async () => {
    double.failNext('create', { status: 500 });
    const err = await failure(client().createSecret({ name: 'Web [R-AAAAAA]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(err.details.status).toBe(500);
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('a create whose connection drops after it applied is ambiguous, and the secret exists at Intercom', async () => {
    double.failNext('create', { kind: 'apply-then-drop' });
    const err = await failure(client().createSecret({ name: 'Web [R-BBBBBB]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(double.callsTo('create')).toHaveLength(1);
    expect(double.secrets()).toMatchObject([{ name: 'Web [R-BBBBBB]', deleted: false }]);
  });

  it('a create answered after the timeout is ambiguous', async () => {
    double.failNext('create', { kind: 'apply-then-stall', ms: 5_000 });
    const err = await failure(client({ timeoutMs: 200 }).createSecret({ name: 'Web [R-CCCCCC]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(err.message).toContain('timeout');
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('a truncated 201 is ambiguous', async () => {
    double.failNext('create', { kind: 'truncated-201' });
    const err = await failure(client().createSecret({ name: 'Web [R-DDDDDD]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(err.details.status).toBe(201);
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('after a 429 it waits, lists twice, and sends again only because no secret carries the request id', async () => {
    double.failNext('create', { status: 429 });
    const created = await client().createSecret({ name: 'Web [R-EEEEEE]', platforms: ['web'] });
    expect(created.id).toBe('100');
    expect(double.calls.map((c) => `${c.op} ${c.status}`)).toEqual(['create 429', 'list 200', 'list 200', 'create 201']);
    expect(double.calls[3]?.at).toBeGreaterThanOrEqual(1_700_000_010_000);
  });

  it('after a 429 it does not send again when a secret with the name already exists', async () => {
    double.seed({ name: 'Web [R-FFFFFF]', platforms: ['web'] });
    double.failNext('create', { status: 429 });
    const err = await failure(client().createSecret({ name: 'Web [R-FFFFFF]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('after a 429 it does not send again when a secret carries the request id under a name Intercom normalised', async () => {
    double.seed({ name: 'Web  [R-HHHHHH]'.replace('  ', ' ').toUpperCase(), platforms: ['web'] });
    double.failNext('create', { status: 429 });
    const err = await failure(client().createSecret({ name: 'Web  [R-HHHHHH]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('after a 429 whose check cannot list, it is ambiguous and not sent again', async () => {
    double.failNext('create', { status: 429 });
    for (let i = 0; i < 3; i++) double.failNext('list', { status: 503 });
    const err = await failure(client().createSecret({ name: 'Web [R-GGGGGG]', platforms: ['web'] }));
    expect(err.kind).toBe('ambiguous');
    expect(double.callsTo('create')).toHaveLength(1);
  });

  it('gives up as rate_limited when every create is throttled', async () => {
    for (let i = 0; i < 3; i++) double.failNext('create', { status: 429 });
    const err = await failure(client().createSecret({ name: 'Web [R-HHHHHH]', platforms: ['web'] }));
    expect(err.kind).toBe('rate_limited');
    expect(double.callsTo('create')).toHaveLength(3);
    expect(double.secrets()).toEqual([]);
  });
});

describe('Intercom client: nothing leaks', () => {
  function expectClean(text: string, canaries: readonly string[]): void {
    for (const canary of canaries) expect(text).not.toContain(canary);
  }

  it('no error or log line carries the token or any material the double issued', async () => {
    const errors: unknown[] = [];
    const attempt = async (run: () => Promise<unknown>): Promise<void> => {
      await run().then(
        () => undefined,
        (e: unknown) => void errors.push(e),
      );
    };
    double.seed({ name: 'Existing [R-JJJJJJ]', platforms: ['web'] });
    const scenarios: Array<() => void> = [
      () => double.failNext('create', { status: 500 }),
      () => double.failNext('create', { kind: 'apply-then-drop' }),
      () => double.failNext('create', { kind: 'truncated-201' }),
      () => double.failNext('create', { kind: 'apply-then-stall', ms: 2_000 }),
      () => double.failNext('create', { status: 422 }),
      () => double.failNext('create', { status: 502, body: `<html>${TOKEN}</html>` }),
    ];
    for (const arrange of scenarios) {
      arrange();
      await attempt(() => client({ timeoutMs: 300 }).createSecret({ name: 'Web [R-KKKKKK]', platforms: ['web'] }));
    }
    double.failNext('create', { status: 429 });
    await attempt(() => client().createSecret({ name: 'Existing [R-JJJJJJ]', platforms: ['web'] }));
    await attempt(() => client({ accessToken: 'ic-wrong-canary-Pp0' }).listSecrets());
    await attempt(() => client({ accessToken: READ_ONLY }).createSecret({ name: 'x', platforms: ['web'] }));
    for (let i = 0; i < 3; i++) double.failNext('list', { status: 503 });
    await attempt(() => client().listSecrets());
    for (let i = 0; i < 3; i++) double.failNext('delete', { kind: 'drop' });
    await attempt(() => client().deleteSecret('100'));
    await attempt(() => client({ baseUrl: 'http://127.0.0.1:9' }).listSecrets());
    expect(errors.length).toBe(12);

    const material = double.issuedMaterial();
    expect(material.length).toBeGreaterThanOrEqual(5);
    // Whole values, and the first 16 characters (the truncated 201 carries a part of one).
    const canaries = [TOKEN, 'ic-wrong-canary-Pp0', READ_ONLY, ...material, ...material.map((m) => m.slice(0, 16))];
    for (const err of errors) {
      expect(err).toBeInstanceOf(IntercomError);
      expectClean(JSON.stringify(err), canaries);
      expectClean(String(err), canaries);
      expectClean(inspect(err, { depth: 10, showHidden: true }), canaries);
      expectClean((err as Error).stack ?? '', canaries);
      expect(Object.keys(err as object).sort()).toEqual(['details', 'kind', 'name']);
    }
    expect(logLines.length).toBeGreaterThan(10);
    expectClean(logLines.join('\n'), canaries);
    // The request body (the name) is not carried by errors either.
    for (const err of errors) expect(JSON.stringify(err) + String(err)).not.toContain('R-KKKKKK');
  });

  it('the created secret shows [redacted] for its material in JSON, inspect and strings', async () => {
    const created = await client().createSecret({ name: 'Web [R-LLLLLL]', platforms: ['web'] });
    const material = double.issuedMaterial()[0] ?? 'missing';
    expect(JSON.stringify(created)).toContain('"material":"[redacted]"');
    for (const text of [JSON.stringify(created), inspect(created, { depth: 10, showHidden: true }), `${created.material}`, String(created.material)]) {
      expect(text).not.toContain(material);
    }
    expectClean(logLines.join('\n'), [material, TOKEN]);
  });
});
