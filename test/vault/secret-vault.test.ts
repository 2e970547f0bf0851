import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { VaultError } from '../../src/core/errors';
import { createSecretVault, type SecretVaultOptions, type VaultAdapter } from '../../src/vault';
import { DEFAULT_TOKEN, startVaultDouble, type PolicyRule, type VaultDouble } from '../../emulators/vault';
import { freePort as closedPort } from '../../emulators/free-port';
import { canary, capturedLogger, createdSecret, PREFIX, provenance } from './support';

const BASE = `secret/data/${PREFIX}/default`;
const META = `secret/metadata/${PREFIX}/default`;

/** The bot's minimal policy from contracts/vault.md §1, plus delete on current/ for repointing to nothing. */
const MINIMAL_POLICY: PolicyRule[] = [
  { path: 'secret/data/intercom/identity-verification/+/secrets/*', capabilities: ['create', 'read'] },
  { path: 'secret/metadata/intercom/identity-verification/+/secrets/*', capabilities: ['create', 'update', 'read', 'patch'] },
  { path: 'secret/delete/intercom/identity-verification/+/secrets/*', capabilities: ['update'] },
  { path: 'secret/data/intercom/identity-verification/+/current/*', capabilities: ['create', 'update', 'read'] },
];

let vault: VaultDouble;
const adapters: VaultAdapter[] = [];

function adapter(overrides: Partial<SecretVaultOptions> = {}): VaultAdapter {
  const a = createSecretVault({ addr: vault.url, token: DEFAULT_TOKEN, pathPrefix: PREFIX, workspace: 'default', timeoutMs: 2000, ...overrides });
  adapters.push(a);
  return a;
}

async function rejection(p: Promise<unknown>): Promise<VaultError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VaultError);
  return err as VaultError;
}

beforeAll(async () => {
  vault = await startVaultDouble();
});
beforeEach(() => {
  vault.reset();
});
afterAll(async () => {
  for (const a of adapters) a.close();
  await vault.close();
});

describe('storeSecret', () => {
  it('writes the material once under secrets/<id> with the listing fields and returns version 1', async () => {
    const raw = canary();
    const result = await adapter().storeSecret(createdSecret('103', raw, ['web', 'ios']), provenance);
    expect(result).toEqual({ path: `${BASE}/secrets/103`, version: 1 });
    expect(vault.read(`${BASE}/secrets/103`)).toEqual({
      secret: raw,
      intercom_secret_id: '103',
      name: 'Production [R-103]',
      supports_android: false,
      supports_ios: true,
      supports_web: true,
      created_at: 1734537500,
    });
    const write = await vault.waitFor((c) => c.method === 'POST' && c.path === `${BASE}/secrets/103`);
    expect(write.body).toMatchObject({ options: { cas: 0 } });
  });

  it('records who asked and who approved as custom_metadata', async () => {
    await adapter().storeSecret(createdSecret('104', canary()), provenance);
    expect(vault.metadata(`${META}/secrets/104`)?.custom_metadata).toEqual({
      request_id: 'R-7F3K2Q',
      requester: 'U0REQUEST',
      approvers: 'U0APPROV1,U0APPROV2',
      slack_channel: 'C0SECRETS',
    });
  });

  it('fits a long approver list into the 512-byte custom_metadata limit with whole ids', async () => {
    const approvers = Array.from({ length: 80 }, (_, i) => `U0APPROVER${String(i).padStart(3, '0')}`);
    await adapter().storeSecret(createdSecret('105', canary()), { ...provenance, approvers });
    const joined = vault.metadata(`${META}/secrets/105`)?.custom_metadata?.['approvers'] ?? '';
    expect(Buffer.byteLength(joined)).toBeLessThanOrEqual(512);
    expect(
      joined
        .split(',')
        .slice(0, -1)
        .every((id) => approvers.includes(id)),
    ).toBe(true);
    expect(joined).toMatch(/,\+\d+ more$/);
  });

  it('refuses a second, different write to the same id as a conflict and keeps the first material', async () => {
    const first = canary('first');
    const a = adapter();
    await a.storeSecret(createdSecret('200', first), provenance);
    const err = await rejection(a.storeSecret(createdSecret('200', canary('second')), provenance));
    expect(err.kind).toBe('conflict');
    expect(err.details.status).toBe(400);
    expect(vault.read(`${BASE}/secrets/200`)?.['secret']).toBe(first);
    expect(vault.metadata(`${META}/secrets/200`)?.current_version).toBe(1);
  });

  it('treats a retry whose first attempt landed (answer lost) as stored, without a second version', async () => {
    const raw = canary();
    const a = adapter();
    vault.dropNext({ method: 'POST', pathPrefix: `${BASE}/secrets/201`, apply: true });
    const lost = await rejection(a.storeSecret(createdSecret('201', raw), provenance));
    expect(lost.kind).toBe('unreachable');
    expect(vault.read(`${BASE}/secrets/201`)?.['secret']).toBe(raw);

    const retried = await a.storeSecret(createdSecret('201', raw), provenance);
    expect(retried.version).toBe(1);
    expect(vault.metadata(`${META}/secrets/201`)?.current_version).toBe(1);
    expect(vault.metadata(`${META}/secrets/201`)?.custom_metadata?.['request_id']).toBe('R-7F3K2Q');
  });

  it('works under the minimal create-only policy and reports a second, different write as a conflict', async () => {
    vault.addToken('hvs.minimal-token-0123456789', MINIMAL_POLICY);
    const a = adapter({ token: 'hvs.minimal-token-0123456789' });
    await a.preflight();
    await a.storeSecret(createdSecret('202', canary()), provenance);
    const err = await rejection(a.storeSecret(createdSecret('202', canary('other')), provenance));
    expect(err.kind).toBe('conflict');
    expect(vault.calls.some((c) => c.path === `${BASE}/secrets/202` && c.method === 'POST' && c.status === 403)).toBe(true);
  });

  it('fails with kind sealed and stores nothing while Vault is sealed', async () => {
    vault.seal();
    const err = await rejection(adapter().storeSecret(createdSecret('300', canary()), provenance));
    expect(err.kind).toBe('sealed');
    expect(err.details.status).toBe(503);
    vault.unseal();
    expect(vault.read(`${BASE}/secrets/300`)).toBeUndefined();
  });

  it('does not retry by itself: one failed write is one request', async () => {
    vault.failWrites(1, { status: 500, errors: ['internal error'] });
    const err = await rejection(adapter().storeSecret(createdSecret('301', canary()), provenance));
    expect(err.kind).toBe('failed');
    expect(vault.calls.filter((c) => c.path === `${BASE}/secrets/301` && c.method === 'POST')).toHaveLength(1);
  });

  it('refuses an id that could leave the secrets folder', async () => {
    const err = await rejection(adapter().storeSecret(createdSecret('../current/web', canary()), provenance));
    expect(err.kind).toBe('invalid');
    expect(vault.calls).toHaveLength(0);
  });
});

describe('preflight', () => {
  it('passes for a token that may create under secrets/', async () => {
    await expect(adapter().preflight()).resolves.toBeUndefined();
    const call = await vault.waitFor((c) => c.path === 'sys/capabilities-self');
    expect(call.body).toMatchObject({ paths: expect.arrayContaining([`${BASE}/secrets/_preflight`]) });
  });

  it('passes for a root token', async () => {
    vault.addToken('root-token-for-preflight', 'root');
    await expect(adapter({ token: 'root-token-for-preflight' }).preflight()).resolves.toBeUndefined();
  });

  it('for a delete, checks soft-deleting and patching secrets/ and clearing current/: the minimal create policy is not enough', async () => {
    vault.addToken('hvs.create-only-token-0123456789', MINIMAL_POLICY);
    const createOnly = adapter({ token: 'hvs.create-only-token-0123456789' });
    await expect(createOnly.preflight('create')).resolves.toBeUndefined();
    const err = await rejection(createOnly.preflight('delete'));
    expect(err.kind).toBe('denied');
    expect(err.message).toContain(`update on ${BASE.replace('/data/', '/delete/')}/current/*`);
    const withDelete: PolicyRule[] = [...MINIMAL_POLICY, { path: 'secret/delete/intercom/identity-verification/+/current/*', capabilities: ['update'] }];
    vault.addToken('hvs.delete-token-0123456789', withDelete);
    await expect(adapter({ token: 'hvs.delete-token-0123456789' }).preflight('delete')).resolves.toBeUndefined();
  });

  it('fails with kind sealed when Vault is sealed', async () => {
    vault.seal();
    const err = await rejection(adapter().preflight());
    expect(err.kind).toBe('sealed');
  });

  it('fails with kind denied when the token may only read', async () => {
    vault.addToken('hvs.read-only-token-0123456789', [{ path: 'secret/*', capabilities: ['read'] }]);
    const err = await rejection(adapter({ token: 'hvs.read-only-token-0123456789' }).preflight());
    expect(err.kind).toBe('denied');
    expect(err.message).toContain('create');
  });

  it('fails with kind denied when nothing is granted (capabilities deny)', async () => {
    vault.addToken('hvs.nothing-token-0123456789', []);
    const err = await rejection(adapter({ token: 'hvs.nothing-token-0123456789' }).preflight());
    expect(err.kind).toBe('denied');
    expect(err.message).toContain('deny');
  });

  it('fails with kind denied for an unknown token', async () => {
    const err = await rejection(adapter({ token: 'hvs.unknown-token-0123456789' }).preflight());
    expect(err.kind).toBe('denied');
    expect(err.details.status).toBe(403);
  });

  it('fails with kind unreachable when nothing listens', async () => {
    const err = await rejection(adapter({ addr: `http://127.0.0.1:${await closedPort()}` }).preflight());
    expect(err.kind).toBe('unreachable');
    expect(err.details.code).toBe('ECONNREFUSED');
  });
});

describe('a KV mount that is not there', () => {
  it('is a configuration error, not "no material": stored secrets must not look like orphans', async () => {
    vault.addToken('root-token-for-reads', 'root');
    const a = adapter({ token: 'root-token-for-reads', kvMount: 'no-such-mount' });
    const err = await rejection(a.materialStatus(['400']));
    expect(err.kind).toBe('invalid');
    expect(err.message).toMatch(/VAULT_KV_MOUNT/);
    expect((await rejection(a.currentTarget('web'))).kind).toBe('invalid');
  });
});

describe('repointCurrent', () => {
  it('creates current/<platform> from the stored secret', async () => {
    const raw = canary();
    const a = adapter();
    await a.storeSecret(createdSecret('400', raw), provenance);
    const result = await a.repointCurrent('web', { id: '400', name: 'Production [R-400]', platforms: ['web'], createdAt: 1734537500 });
    expect(result).toEqual({ path: `${BASE}/current/web`, version: 1 });
    expect(vault.read(`${BASE}/current/web`)).toEqual({
      secret: raw,
      intercom_secret_id: '400',
      name: 'Production [R-400]',
      created_at: 1734537500,
      platform: 'web',
    });
  });

  it('updates current/<platform> with check-and-set against the version it read', async () => {
    const a = adapter();
    const second = canary('second');
    await a.storeSecret(createdSecret('401', canary('first')), provenance);
    await a.storeSecret(createdSecret('402', second), provenance);
    await a.repointCurrent('ios', { id: '401', name: 'n1', platforms: ['ios'], createdAt: 1 });
    const result = await a.repointCurrent('ios', { id: '402', name: 'n2', platforms: ['ios'], createdAt: 2 });
    expect(result.version).toBe(2);
    expect(vault.read(`${BASE}/current/ios`)?.['secret']).toBe(second);
    const writes = vault.calls.filter((c) => c.method === 'POST' && c.path === `${BASE}/current/ios`);
    expect(writes.map((c) => (c.body as { options: { cas: number } }).options.cas)).toEqual([0, 1]);
  });

  it('writes over a soft-deleted current copy using its version, not cas 0', async () => {
    const a = adapter();
    await a.storeSecret(createdSecret('403', canary()), provenance);
    vault.seed(`${BASE}/current/android`, { secret: 'old' });
    vault.seed(`${BASE}/current/android`, { secret: 'older' });
    vault.softDelete(`${BASE}/current/android`);
    const result = await a.repointCurrent('android', { id: '403', name: 'n', platforms: ['android'], createdAt: 3 });
    expect(result.version).toBe(3);
    expect(vault.read(`${BASE}/current/android`)?.['intercom_secret_id']).toBe('403');
  });

  it('reports a conflict when another writer moved current/<platform> in between', async () => {
    const a = adapter();
    await a.storeSecret(createdSecret('404', canary()), provenance);
    vault.failNext({ method: 'POST', pathPrefix: `${BASE}/current/web`, status: 400, errors: ['check-and-set parameter did not match the current version'] });
    const err = await rejection(a.repointCurrent('web', { id: '404', name: 'n', platforms: ['web'], createdAt: 4 }));
    expect(err.kind).toBe('conflict');
  });

  it('tells which secret current/<platform> hands out, with its version, and repoints only while it is still at a version read before', async () => {
    const a = adapter();
    await a.storeSecret(createdSecret('406', canary()), provenance);
    await a.storeSecret(createdSecret('407', canary()), provenance);
    expect(await a.currentTarget('web')).toEqual({ id: null, version: 0 });
    await a.repointCurrent('web', { id: '406', name: 'n', platforms: ['web'], createdAt: 6 });
    const seen = await a.currentTarget('web');
    expect(seen).toEqual({ id: '406', version: 1 });
    // Someone else repoints it after it was read: a check-and-set against that version is refused.
    await a.repointCurrent('web', { id: '407', name: 'n', platforms: ['web'], createdAt: 7 });
    expect((await rejection(a.repointCurrent('web', { id: '406', name: 'n', platforms: ['web'], createdAt: 6 }, { ifVersion: seen.version }))).kind).toBe(
      'conflict',
    );
    expect((await rejection(a.repointCurrent('web', null, { ifVersion: seen.version }))).kind).toBe('conflict');
    expect(vault.read(`${BASE}/current/web`)?.['intercom_secret_id']).toBe('407');
  });

  it('soft-deletes the latest current copy when no secret is left for the platform', async () => {
    const a = adapter();
    await a.storeSecret(createdSecret('405', canary()), provenance);
    await a.repointCurrent('web', { id: '405', name: 'n', platforms: ['web'], createdAt: 5 });
    const result = await a.repointCurrent('web', null);
    expect(result).toEqual({ path: `${BASE}/current/web`, version: 1 });
    expect(vault.metadata(`${META}/current/web`)?.versions['1']?.deletion_time).not.toBe('');
  });

  it('does nothing when pointing an absent or already deleted current copy at nothing', async () => {
    const a = adapter();
    await expect(a.repointCurrent('ios', null)).resolves.toEqual({ path: `${BASE}/current/ios` });
    vault.seed(`${BASE}/current/web`, { secret: 'x' });
    vault.softDelete(`${BASE}/current/web`);
    await expect(a.repointCurrent('web', null)).resolves.toEqual({ path: `${BASE}/current/web` });
    expect(vault.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('refuses to point at a secret whose material is not in Vault', async () => {
    const err = await rejection(adapter().repointCurrent('web', { id: '499', name: 'n', platforms: ['web'], createdAt: 1 }));
    expect(err.kind).toBe('not_found');
    expect(vault.metadata(`${META}/current/web`)).toBeUndefined();
  });
});

describe('materialStatus and markDeleted', () => {
  it('tells present, missing and deleted material apart', async () => {
    const a = adapter();
    await a.storeSecret(createdSecret('500', canary()), provenance);
    await a.storeSecret(createdSecret('501', canary()), provenance);
    vault.softDelete(`${BASE}/secrets/501`);
    const status = await a.materialStatus(['500', '501', '502']);
    expect([...status]).toEqual([
      ['500', 'present'],
      ['501', 'deleted'],
      ['502', 'missing'],
    ]);
  });

  it('soft-deletes every version and records intercom_deleted_at, keeping the provenance', async () => {
    const a = adapter();
    await a.storeSecret(createdSecret('600', canary()), provenance);
    const at = new Date('2025-01-02T03:04:05.000Z');
    await expect(a.markDeleted('600', at)).resolves.toEqual({ path: `${BASE}/secrets/600` });
    const meta = vault.metadata(`${META}/secrets/600`);
    expect(meta?.versions['1']?.deletion_time).not.toBe('');
    expect(meta?.custom_metadata).toMatchObject({ intercom_deleted_at: '2025-01-02T03:04:05.000Z', request_id: 'R-7F3K2Q' });
    expect((await a.materialStatus(['600'])).get('600')).toBe('deleted');
    const patch = await vault.waitFor((c) => c.method === 'PATCH');
    expect(patch.contentType).toBe('application/merge-patch+json');
  });

  it('is a no-op for an id that never had material', async () => {
    await expect(adapter().markDeleted('601', new Date())).resolves.toEqual({ path: `${BASE}/secrets/601` });
    expect(vault.metadata(`${META}/secrets/601`)).toBeUndefined();
  });
});

describe('readiness', () => {
  it('is ok while Vault is unsealed and the token valid', async () => {
    await expect(adapter().readiness()).resolves.toEqual({ ok: true, detail: 'vault: unsealed, token valid' });
  });

  it('says sealed, token rejected or unreachable without throwing', async () => {
    vault.seal();
    expect(await adapter().readiness()).toEqual({ ok: false, detail: 'vault: sealed' });
    vault.unseal();
    expect(await adapter({ token: 'hvs.not-a-token-0123456789' }).readiness()).toEqual({ ok: false, detail: 'vault: token rejected' });
    const down = await adapter({ addr: `http://127.0.0.1:${await closedPort()}` }).readiness();
    expect(down).toEqual({ ok: false, detail: 'vault: unreachable (ECONNREFUSED)' });
  });
});

describe('network failures', () => {
  it('times out with kind unreachable when Vault answers too slowly', async () => {
    vault.latencyMs = 1000;
    const err = await rejection(adapter({ timeoutMs: 100 }).storeSecret(createdSecret('700', canary()), provenance));
    expect(err.kind).toBe('unreachable');
    expect(['ECONNABORTED', 'ETIMEDOUT']).toContain(err.details.code);
    expect(err.message).toContain('timed out');
  });

  it('reports a reset connection as unreachable', async () => {
    vault.dropNext({ pathPrefix: `${BASE}/secrets/701` });
    const err = await rejection(adapter().storeSecret(createdSecret('701', canary()), provenance));
    expect(err.kind).toBe('unreachable');
    expect(err.details.code).toBe('ECONNRESET');
    expect(vault.read(`${BASE}/secrets/701`)).toBeUndefined();
  });

  it('reports a missing mount as a configuration problem, not as missing material', async () => {
    vault.addToken('root-token-for-mount', 'root');
    const err = await rejection(adapter({ token: 'root-token-for-mount', kvMount: 'kv-typo' }).storeSecret(createdSecret('702', canary()), provenance));
    expect(err.kind).toBe('not_found');
    expect(err.message).toContain('no handler for route');
  });
});

describe('namespaces', () => {
  it('writes into the namespace named in the settings', async () => {
    const enterprise = await startVaultDouble({ namespaces: ['team-a'] });
    try {
      enterprise.addToken('hvs.team-a-token-0123456789', [{ path: 'secret/*', capabilities: ['create', 'read', 'update', 'patch', 'delete'] }], {
        namespace: 'team-a',
      });
      const a = createSecretVault({
        addr: enterprise.url,
        token: 'hvs.team-a-token-0123456789',
        namespace: 'team-a',
        pathPrefix: PREFIX,
        workspace: 'default',
      });
      await a.storeSecret(createdSecret('800', canary()), provenance);
      expect(enterprise.read(`${BASE}/secrets/800`, { namespace: 'team-a' })).toBeDefined();
      expect(enterprise.read(`${BASE}/secrets/800`)).toBeUndefined();
    } finally {
      await enterprise.close();
    }
  });
});

describe('logging', () => {
  it('logs a stored secret with its path and version and never its material', async () => {
    const { logger, lines } = capturedLogger();
    const raw = canary();
    await adapter({ logger }).storeSecret(createdSecret('900', raw), provenance);
    expect(lines.some((l) => l.includes(`${BASE}/secrets/900`) && l.includes('"version":1'))).toBe(true);
    expect(lines.join('\n')).not.toContain(raw);
  });
});

describe('node-vault hygiene', () => {
  it('stays silent even when node-vault debug output is switched on', async () => {
    const debugLib = createRequire(__filename)('debug') as { enable(namespaces: string): void; disable(): string };
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    debugLib.enable('node-vault');
    try {
      const raw = canary();
      await adapter().storeSecret(createdSecret('950', raw), provenance);
      expect(vault.read(`${BASE}/secrets/950`)?.['secret']).toBe(raw);
    } finally {
      debugLib.disable();
      spy.mockRestore();
    }
    expect(written.filter((w) => w.includes('node-vault'))).toEqual([]);
  });

  it('takes nothing from VAULT_TOKEN, VAULT_NAMESPACE or VAULT_PREFIX in the environment', async () => {
    const saved = { ...process.env };
    process.env['VAULT_TOKEN'] = DEFAULT_TOKEN;
    process.env['VAULT_NAMESPACE'] = 'elsewhere';
    process.env['VAULT_PREFIX'] = '/elsewhere';
    try {
      const raw = canary();
      await adapter().storeSecret(createdSecret('951', raw), provenance);
      expect(vault.read(`${BASE}/secrets/951`)?.['secret']).toBe(raw);
      const unauthenticated = await rejection(adapter({ token: '' }).materialStatus(['951']));
      expect(unauthenticated.kind).toBe('denied');
      expect(vault.calls.at(-1)?.accessor).toBeNull();
    } finally {
      process.env = saved;
    }
  });
});
