import NodeVault from 'node-vault';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN, startVaultDouble, type VaultDouble } from '../../emulators/vault';

let vault: VaultDouble;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${vault.url}/v1/${path}`, {
    method,
    redirect: 'manual',
    headers: { 'X-Vault-Token': DEFAULT_TOKEN, ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const data = (a: Answer) => (a.json as { data: Record<string, unknown> }).data;

beforeAll(async () => {
  vault = await startVaultDouble();
});
beforeEach(() => {
  vault.reset();
});
afterAll(async () => {
  await vault.close();
});

describe('transport', () => {
  it('answers JSON without a charset, no-store, and an empty 204 body', async () => {
    const written = await call('POST', 'secret/data/a', { data: { k: 'v' } });
    expect(written.headers.get('content-type')).toBe('application/json');
    expect(written.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(written.json as object)).toEqual([
      'request_id',
      'lease_id',
      'renewable',
      'lease_duration',
      'data',
      'wrap_info',
      'warnings',
      'auth',
      'mount_type',
    ]);
    const meta = await call('POST', 'secret/metadata/a', { custom_metadata: { x: 'y' } });
    expect(meta.status).toBe(204);
    expect(meta.text).toBe('');
    expect(meta.headers.get('content-type')).toBe('application/json');
  });

  it('treats PUT as POST', async () => {
    expect((await call('PUT', 'secret/data/put', { data: { k: 1 } })).status).toBe(200);
    expect(vault.read('secret/put')).toEqual({ k: 1 });
  });

  it('redirects a path with // with 301 to the cleaned path', async () => {
    const res = await call('POST', 'auth//login', { jwt: 'x' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/v1/auth/login');
  });

  it("rejects a body that is not JSON and a write to a path ending in '/'", async () => {
    expect((await call('POST', 'secret/data/x', '{nope')).json).toEqual({ errors: ['error parsing JSON'] });
    expect((await call('POST', 'secret/data/x/', { data: {} })).json).toEqual({ errors: ["cannot write to a path ending in '/'"] });
  });

  it('accepts the token as Authorization: Bearer', async () => {
    const res = await fetch(`${vault.url}/v1/secret/data/b`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${DEFAULT_TOKEN}` },
      body: JSON.stringify({ data: { k: 1 } }),
    });
    expect(res.status).toBe(200);
  });
});

describe('auth and ACL', () => {
  it('answers 403 permission denied without a token or with an unknown one', async () => {
    expect((await call('GET', 'secret/data/a', undefined, { 'X-Vault-Token': '' })).json).toEqual({ errors: ['permission denied'] });
    expect((await call('GET', 'secret/data/a', undefined, { 'X-Vault-Token': 'nope' })).json).toEqual({ errors: ['permission denied'] });
  });

  it('answers the multierror form when the policy does not allow the operation', async () => {
    vault.addToken('reader', [{ path: 'secret/data/*', capabilities: ['read'] }]);
    const res = await call('POST', 'secret/data/a', { data: { k: 1 } }, { 'X-Vault-Token': 'reader' });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ errors: ['1 error occurred:\n\t* permission denied\n\n'] });
  });

  it('needs create for a new key and update for an existing one', async () => {
    vault.addToken('creator', [{ path: 'secret/data/*', capabilities: ['create'] }]);
    const h = { 'X-Vault-Token': 'creator' };
    expect((await call('POST', 'secret/data/k', { data: { v: 1 } }, h)).status).toBe(200);
    expect((await call('POST', 'secret/data/k', { options: { cas: 1 }, data: { v: 2 } }, h)).status).toBe(403);
    expect(vault.read('secret/k')).toEqual({ v: 1 });
  });

  it('picks the most specific rule, honours + segments and lets deny win', async () => {
    vault.addToken('mixed', [
      { path: 'secret/data/*', capabilities: ['read'] },
      { path: 'secret/data/team/+/open', capabilities: ['create', 'read'] },
      { path: 'secret/data/team/x/closed', capabilities: ['deny'] },
      { path: 'secret/data/team/x/closed', capabilities: ['create'] },
    ]);
    const h = { 'X-Vault-Token': 'mixed' };
    expect((await call('POST', 'secret/data/team/x/open', { data: { v: 1 } }, h)).status).toBe(200);
    expect((await call('POST', 'secret/data/team/x/closed', { data: { v: 1 } }, h)).status).toBe(403);
    expect((await call('POST', 'secret/data/other', { data: { v: 1 } }, h)).status).toBe(403);
  });

  it('answers capabilities-self per path, at the top level and in data, with deny and root', async () => {
    vault.addToken('root', 'root');
    const paths = ['secret/data/x', 'other/thing'];
    const res = await call('POST', 'sys/capabilities-self', { paths });
    expect(data(res)).toEqual({ 'secret/data/x': ['create', 'delete', 'list', 'patch', 'read', 'update'], 'other/thing': ['deny'] });
    expect((res.json as Record<string, unknown>)['other/thing']).toEqual(['deny']);
    const root = await call('POST', 'sys/capabilities-self', { paths: ['anything'] }, { 'X-Vault-Token': 'root' });
    expect(data(root)).toEqual({ anything: ['root'], capabilities: ['root'] });
  });

  it('looks up and renews the calling token, and refuses an expired one', async () => {
    vault.addToken('short', [], { ttl: 60 });
    const h = { 'X-Vault-Token': 'short' };
    const looked = data(await call('GET', 'auth/token/lookup-self', undefined, h));
    expect(looked).toMatchObject({ id: 'short', renewable: true, policies: ['default', 'test-policy'] });
    expect(looked['ttl']).toBeGreaterThan(55);
    const renewed = (await call('POST', 'auth/token/renew-self', { increment: '1h' }, h)).json as { auth: { lease_duration: number; client_token: string } };
    expect(renewed.auth).toMatchObject({ lease_duration: 3600, client_token: 'short' });
    vault.expireToken('short');
    expect((await call('GET', 'auth/token/lookup-self', undefined, h)).json).toEqual({ errors: ['permission denied'] });
  });

  it('logs in with AppRole and says exactly why a login fails', async () => {
    vault.addAppRole({ roleId: 'r1', secretId: 's1', policies: [{ path: 'secret/*', capabilities: ['read'] }], ttl: 300 });
    const ok = (await call('POST', 'auth/approle/login', { role_id: 'r1', secret_id: 's1' }, {})).json as {
      auth: { client_token: string; lease_duration: number };
    };
    expect(ok.auth.lease_duration).toBe(300);
    expect((await call('GET', 'auth/token/lookup-self', undefined, { 'X-Vault-Token': ok.auth.client_token })).status).toBe(200);
    expect((await call('POST', 'auth/approle/login', { role_id: 'r1', secret_id: 'bad' }, {})).json).toEqual({ errors: ['invalid role or secret ID'] });
    expect((await call('POST', 'auth/approle/login', { secret_id: 's1' }, {})).json).toEqual({ errors: ['missing role_id'] });
    expect((await call('POST', 'auth/approle/login', { role_id: 'r1' }, {})).json).toEqual({ errors: ['missing secret_id'] });
  });

  it('logs in with Kubernetes and says exactly why a login fails', async () => {
    vault.addKubernetesRole({ role: 'ivs', jwt: 'jwt-1', policies: [] });
    expect((await call('POST', 'auth/kubernetes/login', { role: 'ivs', jwt: 'jwt-1' }, {})).status).toBe(200);
    expect((await call('POST', 'auth/kubernetes/login', { role: 'ivs', jwt: 'forged' }, {})).json).toEqual({ errors: ['permission denied'] });
    expect((await call('POST', 'auth/kubernetes/login', { role: 'nope', jwt: 'jwt-1' }, {})).json).toEqual({ errors: ['invalid role name "nope"'] });
    expect((await call('POST', 'auth/kubernetes/login', { jwt: 'jwt-1' }, {})).json).toEqual({ errors: ['missing role'] });
  });

  it("makes node-vault's kubernetesLogin without mount_point fail (pitfall 1) and with it succeed", async () => {
    vault.addKubernetesRole({ role: 'ivs', jwt: 'jwt-1', policies: [] });
    const client = NodeVault({ endpoint: vault.url, token: '', noCustomHTTPVerbs: true, requestOptions: { strictSSL: true } });
    await expect(client.kubernetesLogin({ role: 'ivs', jwt: 'jwt-1' })).rejects.toMatchObject({ response: { statusCode: 403 } });
    expect(vault.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual(['POST auth//login 301', 'GET auth/login 403']);
    await expect(client.kubernetesLogin({ role: 'ivs', jwt: 'jwt-1', mount_point: 'kubernetes' })).resolves.toMatchObject({ auth: { renewable: true } });
  });
});

describe('KV v2', () => {
  it('enforces check-and-set with the exact messages', async () => {
    expect((await call('POST', 'secret/data/c', { options: { cas: 0 }, data: { v: 1 } })).status).toBe(200);
    expect((await call('POST', 'secret/data/c', { options: { cas: 0 }, data: { v: 2 } })).json).toEqual({
      errors: ['check-and-set parameter did not match the current version'],
    });
    expect((await call('POST', 'secret/data/c', { options: { cas: 'x' }, data: { v: 2 } })).json).toEqual({
      errors: ['error parsing check-and-set parameter'],
    });
    expect((await call('POST', 'secret/data/c', { options: { cas: '1' }, data: { v: 2 } })).status).toBe(200);
    expect((await call('POST', 'secret/data/c', { v: 3 })).json).toEqual({ errors: ['no data provided'] });
    vault.configureMount({ casRequired: true });
    expect((await call('POST', 'secret/data/c', { data: { v: 3 } })).json).toEqual({ errors: ['check-and-set parameter required for this call'] });
    expect(vault.read('secret/c')).toEqual({ v: 2 });
  });

  it('answers the write with the version and reads versions back', async () => {
    const w = data(await call('POST', 'secret/data/r', { data: { v: 1 } }));
    expect(w).toMatchObject({ version: 1, deletion_time: '', destroyed: false, custom_metadata: null });
    await call('POST', 'secret/data/r', { data: { v: 2 } });
    expect(data(await call('GET', 'secret/data/r'))['data']).toEqual({ v: 2 });
    expect(data(await call('GET', 'secret/data/r?version=1'))['data']).toEqual({ v: 1 });
    expect((await call('GET', 'secret/data/none')).json).toEqual({ errors: [] });
  });

  it('answers a soft-deleted version with a 404 envelope and makes cas 0 fail afterwards', async () => {
    await call('POST', 'secret/data/d', { data: { v: 1 } });
    expect((await call('DELETE', 'secret/data/d')).status).toBe(204);
    const read = await call('GET', 'secret/data/d');
    expect(read.status).toBe(404);
    expect(data(read)['data']).toBeNull();
    expect((data(read)['metadata'] as { deletion_time: string; version: number }).version).toBe(1);
    expect((data(read)['metadata'] as { deletion_time: string }).deletion_time).not.toBe('');
    expect((await call('POST', 'secret/data/d', { options: { cas: 0 }, data: { v: 2 } })).status).toBe(400);
    expect((await call('POST', 'secret/undelete/d', { versions: [1] })).status).toBe(204);
    expect((await call('GET', 'secret/data/d')).status).toBe(200);
  });

  it('soft-deletes, undeletes and destroys listed versions with their empty-list messages', async () => {
    await call('POST', 'secret/data/e', { data: { v: 1 } });
    expect((await call('POST', 'secret/delete/e', { versions: [] })).json).toEqual({ errors: ['No version number provided'] });
    expect((await call('POST', 'secret/undelete/e', {})).json).toEqual({ errors: ['No version number provided'] });
    expect((await call('POST', 'secret/destroy/e', { versions: [] })).json).toEqual({ errors: ['no version number provided'] });
    expect((await call('POST', 'secret/destroy/e', { versions: [1] })).status).toBe(204);
    expect(vault.read('secret/e')).toBeUndefined();
    expect(vault.metadata('secret/e')?.versions['1']?.destroyed).toBe(true);
    expect((await call('POST', 'secret/delete/missing', { versions: [1] })).status).toBe(204);
  });

  it('keeps metadata: replace on POST, merge on PATCH with the merge-patch content type only', async () => {
    await call('POST', 'secret/data/m', { data: { v: 1 } });
    await call('POST', 'secret/metadata/m', { custom_metadata: { a: '1', b: '2' } });
    expect((await call('PATCH', 'secret/metadata/m', { custom_metadata: { c: '3' } }, { 'Content-Type': 'application/json' })).status).toBe(415);
    expect(
      (await call('PATCH', 'secret/metadata/m', { custom_metadata: { c: '3', a: null } }, { 'Content-Type': 'application/merge-patch+json' })).status,
    ).toBe(204);
    const meta = data(await call('GET', 'secret/metadata/m'));
    expect(meta).toMatchObject({ current_version: 1, custom_metadata: { b: '2', c: '3' }, delete_version_after: '0s' });
    expect((await call('PATCH', 'secret/metadata/none', {}, { 'Content-Type': 'application/merge-patch+json' })).status).toBe(404);
    await call('POST', 'secret/metadata/m', { custom_metadata: { only: 'this' } });
    expect(vault.metadata('secret/m')?.custom_metadata).toEqual({ only: 'this' });
  });

  it('rejects custom_metadata values over 512 bytes and empty values', async () => {
    const long = await call('POST', 'secret/metadata/l', { custom_metadata: { k: 'x'.repeat(600) } });
    expect(long.status).toBe(400);
    expect((long.json as { errors: string[] }).errors[0]).toBe(
      'custom_metadata validation failed: 1 error occurred:\n\t* length of value for key "k" is 600 but must be 0 < len(value) <= 512\n\n',
    );
    expect((await call('POST', 'secret/metadata/l', { custom_metadata: { k: '' } })).status).toBe(400);
  });

  it('lists keys with GET ?list=true, folders ending in /, 404 when empty, 405 on data/', async () => {
    await call('POST', 'secret/data/dir/a', { data: { v: 1 } });
    await call('POST', 'secret/data/dir/sub/b', { data: { v: 1 } });
    expect(data(await call('GET', 'secret/metadata/dir?list=true'))).toEqual({ keys: ['a', 'sub/'] });
    expect((await call('GET', 'secret/metadata/dir?list=1')).status).toBe(200);
    expect((await call('GET', 'secret/metadata/empty?list=t')).json).toEqual({ errors: [] });
    expect((await call('GET', 'secret/data/dir?list=true')).status).toBe(405);
  });

  it('keeps at most 10 versions', async () => {
    for (let i = 1; i <= 12; i += 1) await call('POST', 'secret/data/many', { data: { i } });
    const meta = vault.metadata('secret/many');
    expect(meta?.current_version).toBe(12);
    expect(meta?.oldest_version).toBe(3);
    expect(Object.keys(meta?.versions ?? {})).toHaveLength(10);
  });

  it('answers an unknown mount with no handler for route and a v1-style path with the warning envelope', async () => {
    vault.addToken('root', 'root');
    expect((await call('GET', 'kv/data/x', undefined, { 'X-Vault-Token': 'root' })).json).toEqual({
      errors: ['no handler for route "kv/data/x". route entry not found.'],
    });
    const v1 = await call('GET', 'secret/foo');
    expect(v1.status).toBe(404);
    expect((v1.json as { warnings: string[] }).warnings[0]).toMatch(/^Invalid path for a versioned K\/V secrets engine/);
  });
});

describe('cluster state', () => {
  it('answers health with the default codes and overrides, and seal-status always 200', async () => {
    expect((await call('GET', 'sys/health')).status).toBe(200);
    vault.setStandby(true);
    expect((await call('GET', 'sys/health')).status).toBe(429);
    expect((await call('GET', 'sys/health?standbyok=true')).status).toBe(200);
    vault.setStandby(false);
    vault.seal();
    const sealed = await call('GET', 'sys/health');
    expect(sealed.status).toBe(503);
    expect(sealed.json).toMatchObject({ sealed: true, initialized: true });
    expect((await call('GET', 'sys/health?sealedcode=200')).status).toBe(200);
    const seal = await call('GET', 'sys/seal-status');
    expect(seal.status).toBe(200);
    expect(seal.json).toMatchObject({ sealed: true, type: 'shamir' });
    vault.setInitialized(false);
    expect((await call('GET', 'sys/health')).status).toBe(501);
    expect((await call('GET', 'sys/health?standbyok=maybe')).status).toBe(400);
  });

  it('answers every logical call, logins included, with 503 Vault is sealed while sealed', async () => {
    vault.addAppRole({ roleId: 'r', secretId: 's', policies: [] });
    vault.seal();
    for (const [m, p, b] of [
      ['GET', 'secret/data/a', undefined],
      ['POST', 'secret/data/a', { data: {} }],
      ['GET', 'auth/token/lookup-self', undefined],
      ['POST', 'auth/approle/login', { role_id: 'r', secret_id: 's' }],
    ] as const) {
      expect((await call(m, p, b)).json).toEqual({ errors: ['Vault is sealed'] });
    }
    vault.unseal();
    expect((await call('GET', 'auth/token/lookup-self')).status).toBe(200);
  });

  it('redirects to the active node with 307 in standby-redirect mode', async () => {
    vault.redirectTo('http://active.example:8200');
    const res = await call('GET', 'secret/data/a?version=2');
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('http://active.example:8200/v1/secret/data/a?version=2');
  });

  it('keeps a separate store per namespace in enterprise mode, via header or path prefix', async () => {
    const ent = await startVaultDouble({ namespaces: ['team-a', 'team-b'] });
    try {
      ent.addToken('root', 'root');
      const post = (path: string, ns?: string) =>
        fetch(`${ent.url}/v1/${path}`, {
          method: 'POST',
          headers: { 'X-Vault-Token': 'root', ...(ns ? { 'X-Vault-Namespace': ns } : {}) },
          body: JSON.stringify({ data: { ns: ns ?? 'prefix' } }),
        });
      expect((await post('secret/data/k', 'team-a/')).status).toBe(200);
      expect((await post('team-b/secret/data/k')).status).toBe(200);
      expect(ent.read('secret/k', { namespace: 'team-a' })).toEqual({ ns: 'team-a/' });
      expect(ent.read('secret/k', { namespace: 'team-b' })).toEqual({ ns: 'prefix' });
      expect(ent.read('secret/k')).toBeUndefined();
      expect(ent.calls.map((c) => c.namespace)).toEqual(['team-a', 'team-b']);
    } finally {
      await ent.close();
    }
  });
});

describe('faults and inspection', () => {
  it('fails the next matching request once with the given status and errors', async () => {
    vault.failNext({ method: 'POST', pathPrefix: 'secret/data/f', status: 500, errors: ['internal error'] });
    expect((await call('POST', 'secret/data/f', { data: { v: 1 } })).json).toEqual({ errors: ['internal error'] });
    expect((await call('POST', 'secret/data/f', { data: { v: 1 } })).status).toBe(200);
  });

  it('fails the next n KV writes but not reads or sys calls', async () => {
    vault.failWrites(2);
    expect((await call('POST', 'secret/data/w', { data: { v: 1 } })).status).toBe(500);
    expect((await call('GET', 'sys/health')).status).toBe(200);
    expect((await call('POST', 'secret/data/w', { data: { v: 1 } })).status).toBe(500);
    expect((await call('POST', 'secret/data/w', { data: { v: 1 } })).status).toBe(200);
  });

  it('resets the connection, optionally after carrying the write out', async () => {
    vault.dropNext({ method: 'POST' });
    await expect(call('POST', 'secret/data/x', { data: { v: 1 } })).rejects.toThrow();
    expect(vault.read('secret/x')).toBeUndefined();
    vault.dropNext({ method: 'POST', apply: true });
    await expect(call('POST', 'secret/data/x', { data: { v: 2 } })).rejects.toThrow();
    expect(vault.read('secret/x')).toEqual({ v: 2 });
    expect(vault.calls.map((c) => c.status)).toEqual([0, 0]);
  });

  it('holds every request back by latencyMs', async () => {
    vault.latencyMs = 150;
    const started = Date.now();
    await call('GET', 'sys/health');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('records calls with the accessor instead of the token and KV data values masked', async () => {
    vault.addAppRole({ roleId: 'r', secretId: 'very-secret-id', policies: [] });
    await call('POST', 'secret/data/canary', { options: { cas: 0 }, data: { secret: 'the-material' } });
    await call('POST', 'auth/approle/login', { role_id: 'r', secret_id: 'very-secret-id' }, {});
    const log = JSON.stringify(vault.calls);
    expect(log).not.toContain('the-material');
    expect(log).not.toContain(DEFAULT_TOKEN);
    expect(log).not.toContain('very-secret-id');
    expect(vault.calls[0]).toMatchObject({
      method: 'POST',
      path: 'secret/data/canary',
      status: 200,
      body: { options: { cas: 0 }, data: { secret: '[masked]' } },
    });
    expect(vault.calls[0]?.accessor).toMatch(/^[0-9a-f]{24}$/);
    expect(vault.read('secret/canary')).toEqual({ secret: 'the-material' });
  });

  it('waitFor resolves on a call made after it was asked', async () => {
    const waiting = vault.waitFor((c) => c.path === 'secret/data/later');
    await call('POST', 'secret/data/later', { data: { v: 1 } });
    await expect(waiting).resolves.toMatchObject({ status: 200 });
  });

  it('offers seal, calls and reset over /__double/ for out-of-process tests', async () => {
    await fetch(`${vault.url}/__double/seal`, { method: 'POST' });
    expect(vault.sealed).toBe(true);
    const calls = (await (await fetch(`${vault.url}/__double/calls`)).json()) as { calls: unknown[] };
    expect(calls.calls).toEqual([]);
    await fetch(`${vault.url}/__double/reset`, { method: 'POST' });
    expect(vault.sealed).toBe(false);
  });

  it('reset drops a request still held back by latency, so it cannot land in the next test', async () => {
    vault.latencyMs = 200;
    const pending = call('POST', 'secret/data/late', { data: { v: 1 } }).catch(() => 'dropped');
    await vault.whenHeld(1);
    vault.reset();
    expect(await pending).toBe('dropped');
    expect(vault.read('secret/late')).toBeUndefined();
  });
});
