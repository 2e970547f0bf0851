import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VaultError } from '../../src/core/errors';
import { createSecretVault, type SecretVaultOptions, type VaultAdapter } from '../../src/vault';
import { startVaultDouble, type VaultDouble } from '../../emulators/vault';
import { freePort as closedPort } from '../../emulators/free-port';
import { canary, capturedLogger, createdSecret, PREFIX, provenance } from './support';

/**
 * For every failure path: the error, however it is turned into text, and every log line carry
 * neither the Vault token nor the material (contracts/vault.md §7.5 pitfall 3).
 */

const BASE = `secret/data/${PREFIX}/default`;
const TOKEN = `hvs.LEAKCANARY${randomBytes(12).toString('hex')}`;
const SECRET_ID = `secret-id-${randomBytes(12).toString('hex')}`;

let vault: VaultDouble;
const adapters: VaultAdapter[] = [];

beforeAll(async () => {
  vault = await startVaultDouble();
});
beforeEach(() => {
  vault.reset();
  vault.addToken(TOKEN, [{ path: 'secret/*', capabilities: ['create', 'read', 'update', 'patch', 'delete', 'list'] }]);
});
afterAll(async () => {
  for (const a of adapters) a.close();
  await vault.close();
});

interface Scenario {
  readonly name: string;
  readonly kind: VaultError['kind'];
  readonly options?: () => Promise<Partial<SecretVaultOptions>>;
  /** Sets up the fault, then runs the failing operation with the canary material. */
  readonly run: (a: VaultAdapter, raw: string) => Promise<unknown>;
}

const store = (id: string) => (a: VaultAdapter, raw: string) => a.storeSecret(createdSecret(id, raw), provenance);

const scenarios: Scenario[] = [
  {
    name: 'a CAS conflict on the one-time write',
    kind: 'conflict',
    run: async (a, raw) => {
      vault.seed(`${BASE}/secrets/1`, { secret: 'someone-else' });
      return a.storeSecret(createdSecret('1', raw), provenance);
    },
  },
  {
    name: 'a permission denied on the write',
    kind: 'denied',
    run: async (a, raw) => {
      vault.addToken(TOKEN, [{ path: 'secret/*', capabilities: ['read'] }]);
      return a.storeSecret(createdSecret('2', raw), provenance);
    },
  },
  {
    name: 'a sealed Vault',
    kind: 'sealed',
    run: async (a, raw) => {
      vault.seal();
      return a.storeSecret(createdSecret('3', raw), provenance);
    },
  },
  {
    name: 'a timeout while writing the material',
    kind: 'unreachable',
    options: async () => ({ timeoutMs: 100 }),
    run: async (a, raw) => {
      vault.latencyMs = 1000;
      return a.storeSecret(createdSecret('4', raw), provenance);
    },
  },
  {
    name: 'a connection reset while writing the material',
    kind: 'unreachable',
    run: async (a, raw) => {
      vault.dropNext({ method: 'POST', pathPrefix: `${BASE}/secrets/` });
      return a.storeSecret(createdSecret('5', raw), provenance);
    },
  },
  {
    name: 'a write that landed but whose answer was lost',
    kind: 'unreachable',
    run: async (a, raw) => {
      vault.dropNext({ method: 'POST', pathPrefix: `${BASE}/secrets/`, apply: true });
      return a.storeSecret(createdSecret('6', raw), provenance);
    },
  },
  {
    name: 'connection refused',
    kind: 'unreachable',
    options: async () => ({ addr: `http://127.0.0.1:${await closedPort()}` }),
    run: store('7'),
  },
  {
    name: 'an internal error on the write',
    kind: 'failed',
    run: async (a, raw) => {
      vault.failWrites(1);
      return a.storeSecret(createdSecret('8', raw), provenance);
    },
  },
  {
    name: 'an internal error while copying the material to current/<platform>',
    kind: 'failed',
    run: async (a, raw) => {
      vault.seed(`${BASE}/secrets/9`, { secret: raw, intercom_secret_id: '9' });
      vault.failNext({ method: 'POST', pathPrefix: `${BASE}/current/`, status: 500, errors: ['internal error'] });
      return a.repointCurrent('web', { id: '9', name: 'n', platforms: ['web'], createdAt: 1 });
    },
  },
  {
    name: 'a timeout while copying the material to current/<platform>',
    kind: 'unreachable',
    options: async () => ({ timeoutMs: 150 }),
    run: async (a, raw) => {
      vault.seed(`${BASE}/secrets/10`, { secret: raw, intercom_secret_id: '10' });
      const pending = a.repointCurrent('web', { id: '10', name: 'n', platforms: ['web'], createdAt: 1 });
      await vault.waitFor((c) => c.path === `${BASE}/current/web` && c.method === 'GET');
      vault.latencyMs = 1000;
      return pending;
    },
  },
  {
    name: 'an AppRole login with a wrong secret id',
    kind: 'invalid',
    options: async () => ({ token: undefined, auth: { kind: 'approle', roleId: 'role-1', secretId: SECRET_ID } }),
    run: store('11'),
  },
  {
    name: 'a preflight without create permission',
    kind: 'denied',
    run: async (a) => {
      vault.addToken(TOKEN, [{ path: 'secret/*', capabilities: ['read'] }]);
      return a.preflight();
    },
  },
];

describe('no failure leaks the token or the material', () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: the error and the logs hold neither`, async () => {
      const raw = canary('LEAKMATERIAL');
      const { logger, lines } = capturedLogger();
      const extra = scenario.options ? await scenario.options() : {};
      const a = createSecretVault({ addr: vault.url, token: TOKEN, pathPrefix: PREFIX, workspace: 'default', timeoutMs: 2000, logger, ...extra });
      adapters.push(a);
      vault.addAppRole({ roleId: 'role-1', secretId: 'the-right-one', policies: [] });

      const err = await scenario.run(a, raw).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VaultError);
      const e = err as VaultError;
      expect(e.kind).toBe(scenario.kind);

      const renderings = [
        JSON.stringify(e),
        String(e),
        `${e.message}`,
        inspect(e, { depth: 10, showHidden: true }),
        e.stack ?? '',
        JSON.stringify(e.details),
        ...lines,
      ];
      const everything = renderings.join('\n');
      expect(everything).not.toContain(TOKEN);
      expect(everything).not.toContain(raw);
      expect(everything).not.toContain(SECRET_ID);
      // The failure is told with facts, and logged.
      expect(e.message).toMatch(/^vault /);
      expect(Object.keys(e)).not.toContain('cause');
    });
  }

  it('a failing write is logged with kind and path only', async () => {
    const { logger, lines } = capturedLogger();
    const a = createSecretVault({ addr: vault.url, token: TOKEN, pathPrefix: PREFIX, workspace: 'default', logger });
    adapters.push(a);
    vault.failWrites(1, { status: 503, errors: ['Vault is sealed'] });
    await a.storeSecret(createdSecret('20', canary()), provenance).catch(() => undefined);
    const record = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r['kind'] === 'sealed');
    expect(record).toMatchObject({ level: 40, component: 'vault', path: `${BASE}/secrets/20`, status: 503 });
  });
});
