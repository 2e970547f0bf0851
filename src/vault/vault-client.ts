import NodeVault from 'node-vault';
import { VaultError } from '../core/errors';
import { toVaultError } from './translate-error';

/**
 * The only module that touches node-vault. It follows every rule of contracts/vault.md §7.5:
 * noCustomHTTPVerbs, no config-level headers (they freeze the first token), strictSSL always
 * passed (VAULT_SKIP_VERIFY in the environment would otherwise switch verification off), mount_point
 * always passed to logins, node-vault's debug output replaced by a no-op, and nothing taken from the
 * environment (VAULT_TOKEN, VAULT_NAMESPACE, VAULT_PREFIX are overridden explicitly). Every rejection
 * is re-thrown as a scrubbed VaultError.
 */
export interface VaultClientOptions {
  readonly addr: string;
  readonly token?: string;
  readonly namespace?: string;
  readonly timeoutMs: number;
  readonly caPem?: string;
  /** Only for tests against a self-signed Vault; config never sets it. */
  readonly skipTlsVerify?: boolean;
}

/** What a login or renewal says about the new token (never the token itself). */
export interface TokenLease {
  readonly leaseDurationSeconds: number;
  readonly renewable: boolean;
}

/** A KV read that may legitimately find nothing: 404 bodies (the soft-delete envelope) are returned, not thrown. */
export type MaybeFound = { readonly found: true; readonly body: unknown } | { readonly found: false; readonly body: unknown };

export interface VaultClient {
  read(path: string): Promise<unknown>;
  readMaybe(path: string): Promise<MaybeFound>;
  /** POST. `sensitive` values are scrubbed from any error message as well as the token. */
  write(path: string, body: object, sensitive?: readonly string[]): Promise<unknown>;
  /** PATCH with application/merge-patch+json. */
  patch(path: string, body: object): Promise<unknown>;
  /** GET sys/health?standbyok=true. Resolves with the body whatever the status (node-vault never rejects here). */
  health(): Promise<unknown>;
  capabilitiesSelf(paths: readonly string[]): Promise<unknown>;
  /** Resolves when the token is valid; the response (which holds the token as `data.id`) is discarded. */
  lookupSelf(): Promise<{ ttlSeconds: number; renewable: boolean }>;
  renewSelf(): Promise<TokenLease>;
  approleLogin(mount: string, roleId: string, secretId: string): Promise<TokenLease>;
  kubernetesLogin(mount: string, role: string, jwt: string): Promise<TokenLease>;
  setToken(token: string): void;
}

/** Runtime fields node-vault reads but its typings omit. */
interface NodeVaultRuntime {
  token: string;
  namespace?: string;
  pathPrefix?: string;
}

export function createVaultClient(opts: VaultClientOptions): VaultClient {
  const vault = NodeVault({
    endpoint: opts.addr,
    apiVersion: 'v1',
    token: opts.token ?? '',
    namespace: opts.namespace ?? '',
    noCustomHTTPVerbs: true,
    debug: () => undefined,
    requestOptions: {
      timeout: opts.timeoutMs,
      strictSSL: opts.skipTlsVerify !== true,
      ...(opts.caPem ? { ca: opts.caPem } : {}),
    },
  });
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX for empty values; nobody but
  // config reads the environment, so pin them.
  const runtime = vault as unknown as NodeVaultRuntime;
  runtime.token = opts.token ?? '';
  runtime.namespace = opts.namespace ?? '';
  runtime.pathPrefix = '';

  async function call<T>(op: string, path: string, run: () => Promise<T>, sensitive: readonly string[] = []): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toVaultError(err, { op, path, sensitive: [runtime.token, ...sensitive] });
    }
  }

  function leaseOf(body: unknown): TokenLease {
    const auth = (body as { auth?: { lease_duration?: unknown; renewable?: unknown } } | null)?.auth;
    return {
      leaseDurationSeconds: typeof auth?.lease_duration === 'number' ? auth.lease_duration : 0,
      renewable: auth?.renewable === true,
    };
  }

  return {
    read: (path) => call('read', path, () => vault.read(path) as Promise<unknown>),
    async readMaybe(path) {
      try {
        return { found: true, body: (await vault.read(path)) as unknown };
      } catch (err) {
        const response = (err as { response?: { statusCode?: unknown; body?: unknown } } | null)?.response;
        // "Nothing there" is a 404 with no errors, or with the envelope of a deleted version. Any
        // other 404 ("no handler for route": a mistyped or KV v1 mount) is a configuration error,
        // not a missing secret: taken for one, it would make stored secrets look like orphans.
        if (response?.statusCode === 404 && isNothingThere(response.body)) return { found: false, body: response.body };
        if (response?.statusCode === 404) {
          throw new VaultError('invalid', `vault read ${path}: no such KV v2 path (is VAULT_KV_MOUNT a KV version 2 mount?)`, { status: 404, path });
        }
        throw toVaultError(err, { op: 'read', path, sensitive: [runtime.token] });
      }
    },
    write: (path, body, sensitive = []) => call('write', path, () => vault.write(path, body) as Promise<unknown>, sensitive),
    patch: (path, body) => call('patch', path, () => vault.update(path, body) as Promise<unknown>),
    health: () => call('health', 'sys/health', () => vault.health({ standbyok: true }) as Promise<unknown>),
    capabilitiesSelf: (paths) => call('capabilities', 'sys/capabilities-self', () => vault.write('sys/capabilities-self', { paths }) as Promise<unknown>),
    async lookupSelf() {
      const body = await call('lookup-self', 'auth/token/lookup-self', () => vault.tokenLookupSelf() as Promise<unknown>);
      const data = (body as { data?: { ttl?: unknown; renewable?: unknown } } | null)?.data;
      return { ttlSeconds: typeof data?.ttl === 'number' ? data.ttl : 0, renewable: data?.renewable === true };
    },
    async renewSelf() {
      return leaseOf(await call('renew-self', 'auth/token/renew-self', () => vault.tokenRenewSelf() as Promise<unknown>));
    },
    async approleLogin(mount, roleId, secretId) {
      const path = `auth/${mount}/login`;
      return leaseOf(
        await call('login', path, () => vault.approleLogin({ mount_point: mount, role_id: roleId, secret_id: secretId }) as Promise<unknown>, [secretId]),
      );
    },
    async kubernetesLogin(mount, role, jwt) {
      const path = `auth/${mount}/login`;
      return leaseOf(await call('login', path, () => vault.kubernetesLogin({ mount_point: mount, role, jwt }) as Promise<unknown>, [jwt]));
    },
    setToken(token) {
      runtime.token = token;
    },
  };
}

/** A KV v2 404 that means "nothing stored here": `{"errors":[]}`, or a deleted version's envelope. */
function isNothingThere(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  const b = body as { errors?: unknown; data?: { metadata?: unknown } };
  if (Array.isArray(b.errors) && b.errors.length === 0) return true;
  return b.data !== undefined && b.data !== null && typeof b.data.metadata === 'object' && b.data.metadata !== null;
}
