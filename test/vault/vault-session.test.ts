import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VaultError } from '../../src/core/errors';
import { createSecretVault, type VaultAdapter, type VaultAuthOptions } from '../../src/vault';
import { startVaultDouble, type PolicyRule, type VaultDouble } from '../../emulators/vault';
import { canary, createdSecret, PREFIX, provenance } from './support';

const BASE = `secret/data/${PREFIX}/default`;
const WRITER: PolicyRule[] = [{ path: 'secret/*', capabilities: ['create', 'read', 'update', 'patch', 'delete', 'list'] }];

let vault: VaultDouble;
const adapters: VaultAdapter[] = [];

function adapter(auth: VaultAuthOptions): VaultAdapter {
  const a = createSecretVault({ addr: vault.url, auth, pathPrefix: PREFIX, workspace: 'default', timeoutMs: 2000 });
  adapters.push(a);
  return a;
}

const logins = () => vault.calls.filter((c) => c.path.endsWith('/login'));

/** Expires the token the adapter's latest call used, as a lease running out would. */
function expireTokenInUse(): void {
  const accessor = vault.calls.filter((c) => c.accessor !== null).at(-1)?.accessor;
  if (!accessor) throw new Error('no call carried a token yet');
  vault.expireToken(accessor);
}

beforeAll(async () => {
  vault = await startVaultDouble({ token: null });
});
beforeEach(() => {
  vault.reset();
});
afterEach(() => {
  // A renewal timer left running would call the double during the next test.
  for (const a of adapters.splice(0)) a.close();
});
afterAll(async () => {
  await vault.close();
});

describe('AppRole', () => {
  it('logs in once and uses the token it got for every call', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER });
    const a = adapter({ kind: 'approle', roleId: 'role-a', secretId: 'secret-a' });
    await a.storeSecret(createdSecret('1', canary()), provenance);
    await a.materialStatus(['1']);
    expect(logins()).toHaveLength(1);
    expect(logins()[0]?.path).toBe('auth/approle/login');
    const accessors = new Set(vault.calls.filter((c) => !c.path.endsWith('/login')).map((c) => c.accessor));
    expect(accessors.size).toBe(1);
    expect([...accessors][0]).toMatch(/^[0-9a-f]{24}$/);
  });

  it('fails a login with a wrong secret id with Vault’s reason', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER });
    const err = await adapter({ kind: 'approle', roleId: 'role-a', secretId: 'wrong' })
      .login()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).kind).toBe('invalid');
    expect((err as VaultError).message).toContain('invalid role or secret ID');
  });

  it('uses a custom mount', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER, mount: 'bots' });
    await adapter({ kind: 'approle', roleId: 'role-a', secretId: 'secret-a', mount: 'bots' }).login();
    expect(logins().map((c) => c.path)).toEqual(['auth/bots/login']);
  });

  it('logs in again once and retries once when the token stops being accepted', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER });
    const a = adapter({ kind: 'approle', roleId: 'role-a', secretId: 'secret-a' });
    await a.materialStatus(['0']);
    expireTokenInUse();
    const result = await a.storeSecret(createdSecret('2', canary()), provenance);
    expect(result.version).toBe(1);
    const writes = vault.calls.filter((c) => c.path === `${BASE}/secrets/2` && c.method === 'POST');
    expect(writes.map((c) => c.status)).toEqual([403, 200]);
    expect(logins()).toHaveLength(2);
  });

  it('shares one re-login between concurrent calls', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER });
    const a = adapter({ kind: 'approle', roleId: 'role-a', secretId: 'secret-a' });
    await a.materialStatus(['0']);
    expireTokenInUse();
    const [s1, s2, s3, ready] = await Promise.all([a.materialStatus(['1']), a.materialStatus(['2']), a.materialStatus(['3']), a.readiness()]);
    expect([s1.get('1'), s2.get('2'), s3.get('3')]).toEqual(['missing', 'missing', 'missing']);
    expect(ready).toMatchObject({ ok: true });
    expect(logins()).toHaveLength(2);
  });

  it("does not log in again when a valid token lacks a policy (Vault's multierror form): fails at once as denied", async () => {
    vault.addAppRole({ roleId: 'role-r', secretId: 'secret-r', policies: [{ path: 'secret/*', capabilities: ['read'] }] });
    const a = adapter({ kind: 'approle', roleId: 'role-r', secretId: 'secret-r' });
    const err = await a.storeSecret(createdSecret('3', canary()), provenance).catch((e: unknown) => e);
    expect((err as VaultError).kind).toBe('denied');
    // A fresh login would not help, and could spend a use of a limited secret_id.
    expect(vault.calls.filter((c) => c.path === `${BASE}/secrets/3` && c.method === 'POST')).toHaveLength(1);
    expect(logins()).toHaveLength(1);
  });

  it('renews the token before its lease runs out', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER, ttl: 1 });
    await adapter({ kind: 'approle', roleId: 'role-a', secretId: 'secret-a' }).login();
    const renewal = await vault.waitFor((c) => c.path === 'auth/token/renew-self', 3000);
    expect(renewal.status).toBe(200);
    expect(logins()).toHaveLength(1);
  });

  it('reports a login against a sealed Vault as sealed', async () => {
    vault.addAppRole({ roleId: 'role-a', secretId: 'secret-a', policies: WRITER });
    vault.seal();
    const err = await adapter({ kind: 'approle', roleId: 'role-a', secretId: 'secret-a' })
      .login()
      .catch((e: unknown) => e);
    expect((err as VaultError).kind).toBe('sealed');
  });
});

describe('Kubernetes', () => {
  it('logs in with the service-account token read from its file, always naming the mount', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivs-k8s-'));
    const jwtPath = join(dir, 'token');
    writeFileSync(jwtPath, 'opaque-jwt-1\n');
    vault.addKubernetesRole({ role: 'ivs-bot', jwt: 'opaque-jwt-1', policies: WRITER });
    const a = adapter({ kind: 'kubernetes', role: 'ivs-bot', jwtPath });
    await a.storeSecret(createdSecret('10', canary()), provenance);
    expect(logins().map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual(['POST auth/kubernetes/login 200']);
  });

  it('reads the file again at the next login, so a rotated token is used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivs-k8s-'));
    const jwtPath = join(dir, 'token');
    writeFileSync(jwtPath, 'jwt-before');
    vault.addKubernetesRole({ role: 'ivs-bot', jwt: 'jwt-before', policies: WRITER });
    const a = adapter({ kind: 'kubernetes', role: 'ivs-bot', jwtPath });
    await a.materialStatus(['0']);
    writeFileSync(jwtPath, 'jwt-after');
    vault.addKubernetesRole({ role: 'ivs-bot', jwt: 'jwt-after', policies: WRITER });
    expireTokenInUse();
    await expect(a.materialStatus(['1'])).resolves.toBeDefined();
    const jwtLogins = logins();
    expect(jwtLogins.map((c) => c.status)).toEqual([200, 200]);
  });

  it('fails clearly when the token file is missing', async () => {
    const err = await adapter({ kind: 'kubernetes', role: 'ivs-bot', jwtPath: '/nonexistent/ivs/token' })
      .login()
      .catch((e: unknown) => e);
    expect((err as VaultError).kind).toBe('invalid');
    expect((err as VaultError).message).toContain('/nonexistent/ivs/token');
  });
});

describe('static token', () => {
  it('is never retried on permission denied', async () => {
    vault.addToken('hvs.static-reader-0123456789', [{ path: 'secret/*', capabilities: ['read'] }]);
    const a = adapter({ kind: 'token', token: 'hvs.static-reader-0123456789' });
    const err = await a.storeSecret(createdSecret('20', canary()), provenance).catch((e: unknown) => e);
    expect((err as VaultError).kind).toBe('denied');
    expect(vault.calls.filter((c) => c.method === 'POST' && c.path === `${BASE}/secrets/20`)).toHaveLength(1);
    expect(logins()).toHaveLength(0);
  });

  it('renews a renewable token before its TTL runs out, without ever logging in', async () => {
    // lookup-self reports whole seconds left: 1 of these 2, so the renewal is due after about 0.7 s.
    vault.addToken('hvs.periodic-0123456789', WRITER, { ttl: 2, renewable: true });
    await adapter({ kind: 'token', token: 'hvs.periodic-0123456789' }).login();
    const renewal = await vault.waitFor((c) => c.path === 'auth/token/renew-self', 3000);
    expect(renewal.status).toBe(200);
    expect(logins()).toHaveLength(0);
  });

  it('does not renew a token without a TTL (root, or one Vault Agent manages), and uses it as given', async () => {
    vault.addToken('hvs.forever-0123456789', WRITER);
    const a = adapter({ kind: 'token', token: 'hvs.forever-0123456789' });
    await a.storeSecret(createdSecret('21', canary()), provenance);
    expect(vault.calls.map((c) => c.path)).toContain('auth/token/lookup-self');
    expect(vault.calls.filter((c) => c.path === 'auth/token/renew-self')).toHaveLength(0);
  });

  it('still works when its policy denies lookup-self: used as given, not renewed', async () => {
    vault.addToken('hvs.no-lookup-0123456789', [...WRITER, { path: 'auth/token/lookup-self', capabilities: ['deny'] }], { ttl: 3600 });
    const a = adapter({ kind: 'token', token: 'hvs.no-lookup-0123456789' });
    await expect(a.storeSecret(createdSecret('22', canary()), provenance)).resolves.toMatchObject({ version: 1 });
    expect(vault.calls.find((c) => c.path === 'auth/token/lookup-self')?.status).toBe(403);
  });
});
