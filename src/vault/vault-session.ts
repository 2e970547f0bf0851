import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { VaultError } from '../core/errors';
import type { TokenLease, VaultClient } from './vault-client';

export type VaultAuthOptions =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'approle'; readonly roleId: string; readonly secretId: string; readonly mount?: string }
  | { readonly kind: 'kubernetes'; readonly role: string; readonly jwtPath: string; readonly mount?: string };

/**
 * Keeps the client holding a usable token. A static token is used as given; if Vault says it is
 * renewable with a TTL (a periodic token, say), it is renewed at two thirds of it, so it does not
 * quietly run out while the bot waits for approvals. AppRole and Kubernetes log in on first use,
 * renew at two thirds of the lease, and on a 403 `permission denied` log in once
 * more and retry once (contract vault.md §7.5 rule g). Logins are serialised (pitfall 10): concurrent
 * callers share one login, and a caller whose token was already replaced just retries.
 */
export interface VaultSession {
  run<T>(call: () => Promise<T>): Promise<T>;
  /** Logs in now (AppRole/Kubernetes); looks the static token up to schedule its renewal. */
  login(): Promise<void>;
  /** Stops renewal. */
  close(): void;
}

export interface VaultSessionOptions {
  readonly logger?: Logger;
  /** Fraction of the lease after which the token is renewed. */
  readonly renewFraction?: number;
}

export function createVaultSession(client: VaultClient, auth: VaultAuthOptions, opts: VaultSessionOptions = {}): VaultSession {
  const renewFraction = opts.renewFraction ?? 2 / 3;
  let generation = 0;
  let loggedIn = false;
  let inFlight: Promise<void> | null = null;
  let renewTimer: NodeJS.Timeout | undefined;
  let closed = false;

  async function readJwt(path: string): Promise<string> {
    try {
      // Read at every login: projected service-account tokens rotate.
      return (await readFile(path, 'utf8')).trim();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new VaultError('invalid', `cannot read the Kubernetes service-account token at ${path}`, typeof code === 'string' ? { code } : {});
    }
  }

  async function performLogin(): Promise<void> {
    let lease: TokenLease;
    if (auth.kind === 'approle') {
      lease = await client.approleLogin(auth.mount ?? 'approle', auth.roleId, auth.secretId);
    } else if (auth.kind === 'kubernetes') {
      lease = await client.kubernetesLogin(auth.mount ?? 'kubernetes', auth.role, await readJwt(auth.jwtPath));
    } else {
      await watchStaticToken();
      loggedIn = true;
      return;
    }
    generation += 1;
    loggedIn = true;
    opts.logger?.info({ method: auth.kind, leaseSeconds: lease.leaseDurationSeconds }, 'logged in to Vault');
    scheduleRenewal(lease);
  }

  async function watchStaticToken(): Promise<void> {
    try {
      const self = await client.lookupSelf();
      opts.logger?.info({ method: 'token', ttlSeconds: self.ttlSeconds, renewable: self.renewable }, 'using the configured Vault token');
      scheduleRenewal({ leaseDurationSeconds: self.ttlSeconds, renewable: self.renewable });
    } catch (err) {
      // Not fatal: a policy may deny lookup-self. The token is used as given; calls say if it fails.
      const e = err instanceof VaultError ? err : undefined;
      opts.logger?.warn({ kind: e?.kind, status: e?.details.status }, 'could not look up the configured Vault token; it will not be renewed');
    }
  }

  function login(): Promise<void> {
    inFlight ??= performLogin().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  function scheduleRenewal(lease: TokenLease): void {
    if (renewTimer) clearTimeout(renewTimer);
    renewTimer = undefined;
    if (closed || !lease.renewable || lease.leaseDurationSeconds <= 0) return;
    renewTimer = setTimeout(() => void renew(), Math.max(1, lease.leaseDurationSeconds * 1000 * renewFraction));
    renewTimer.unref();
  }

  async function renew(): Promise<void> {
    try {
      scheduleRenewal(await client.renewSelf());
    } catch (err) {
      // The next call logs in afresh.
      loggedIn = false;
      const e = err instanceof VaultError ? err : undefined;
      opts.logger?.warn({ kind: e?.kind, status: e?.details.status }, 'Vault token renewal failed; will log in again');
    }
  }

  return {
    async run(call) {
      if (!loggedIn) await login();
      const seen = generation;
      try {
        return await call();
      } catch (err) {
        // Only a rejected token (not a policy that lacks a path) is worth a fresh login: each login
        // may spend one use of a limited AppRole secret_id.
        const retriable = auth.kind !== 'token' && err instanceof VaultError && err.kind === 'denied' && err.details.code === 'token_rejected';
        if (!retriable) throw err;
        if (seen === generation) await login();
        return call();
      }
    },
    login,
    close() {
      closed = true;
      if (renewTimer) clearTimeout(renewTimer);
      renewTimer = undefined;
    },
  };
}
