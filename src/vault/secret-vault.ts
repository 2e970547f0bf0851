import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { VaultError } from '../core/errors';
import type { MaterialStatus, Provenance, SecretVault } from '../core/ports';
import { unsealForVault } from '../core/secret-material';
import type { CreatedSecret, Platform, SecretInfo } from '../core/types';
import { kvLayout, PROBE_ID } from './kv-layout';
import { provenanceMetadata } from './provenance-metadata';
import { createVaultClient, type VaultClient } from './vault-client';
import { createVaultSession, type VaultAuthOptions, type VaultSession } from './vault-session';

export interface SecretVaultOptions {
  readonly addr: string;
  /** A static token; or use `auth`. */
  readonly token?: string;
  readonly auth?: VaultAuthOptions;
  readonly namespace?: string;
  /** Default `secret`. */
  readonly kvMount?: string;
  /** e.g. `intercom/identity-verification`. */
  readonly pathPrefix: string;
  readonly workspace: string;
  /** Per HTTP request. Default 5000. */
  readonly timeoutMs?: number;
  readonly caPem?: string;
  readonly skipTlsVerify?: boolean;
  readonly logger?: Logger;
  /**
   * Another adapter's connection (client and login session) to share: one login for all the
   * workspaces' subtrees. Its owner logs in and closes it.
   */
  readonly sharing?: VaultAdapter;
  /** The bot's clock, for telling whether a version's deletion time has passed. Default `Date.now`. */
  readonly now?: () => number;
}

/** The SecretVault port plus the lifecycle main needs. */
export interface VaultAdapter extends SecretVault {
  /** Logs in now (AppRole/Kubernetes), so a bad credential stops the start; no-op for a token. */
  login(): Promise<void>;
  close(): void;
  /** The connection, for another workspace's adapter (`sharing`). */
  readonly connection: { readonly client: VaultClient; readonly session: VaultSession };
}

const WriteResponse = z.object({ data: z.object({ version: z.number().int() }) });
const VersionState = z.object({ deletion_time: z.string(), destroyed: z.boolean() });
const MetadataResponse = z.object({
  data: z.object({ current_version: z.number().int(), versions: z.record(z.string(), VersionState) }),
});
const DataResponse = z.object({
  data: z.object({
    data: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.object({ version: z.number().int() }).passthrough(),
  }),
});
/** 404 on a KV read: `{"errors":[]}` when nothing is there, or the envelope when the latest version is deleted. */
const MissingDataResponse = z.object({ data: z.object({ metadata: z.object({ version: z.number().int() }) }) });

type Metadata = z.infer<typeof MetadataResponse>['data'];

function isGone(v: { deletion_time: string; destroyed: boolean }, now: number): boolean {
  return v.destroyed || (v.deletion_time !== '' && Date.parse(v.deletion_time) <= now);
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string, path: string): T {
  const result = schema.safeParse(body);
  // The zod error is dropped: it might quote the values it saw.
  if (!result.success) throw new VaultError('failed', `vault ${what} ${path}: unexpected response shape`, { path });
  return result.data;
}

function sameMaterial(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * SPEC §5 on Vault KV v2: `secrets/<id>` written once with cas 0, provenance in custom_metadata,
 * `current/<platform>` repointed with check-and-set. Material is read from SecretMaterial here and
 * nowhere else, and lives only in local variables.
 */
export function createSecretVault(opts: SecretVaultOptions): VaultAdapter {
  const log = opts.logger?.child({ component: 'vault' });
  const layout = kvLayout({ kvMount: opts.kvMount ?? 'secret', pathPrefix: opts.pathPrefix, workspace: opts.workspace });
  const auth: VaultAuthOptions = opts.auth ?? { kind: 'token', token: opts.token ?? '' };
  const connection = opts.sharing?.connection ?? connect(opts, auth, log);
  const { client, session } = connection;

  /** Runs one step; failures are logged with facts only and re-thrown. */
  async function step<T>(what: string, path: string, call: () => Promise<T>): Promise<T> {
    try {
      return await session.run(call);
    } catch (err) {
      const e = err instanceof VaultError ? err : new VaultError('failed', `vault ${what} ${path}: unexpected failure`, { path });
      log?.warn({ op: what, path, kind: e.kind, status: e.details.status, code: e.details.code }, e.message);
      throw e;
    }
  }

  async function readMetadata(key: string): Promise<Metadata | undefined> {
    const path = layout.metadata(key);
    const res = await step('read metadata', path, () => client.readMaybe(path));
    return res.found ? parse(MetadataResponse, res.body, 'read metadata', path).data : undefined;
  }

  /**
   * What `secrets/<id>` holds compared with this material: the same (an earlier attempt landed before
   * its answer was lost), something else, or unknown (unreadable).
   */
  async function compareStored(path: string, id: string, raw: string): Promise<{ same: number } | 'different' | 'unknown'> {
    try {
      const res = await session.run(() => client.readMaybe(path));
      if (!res.found) return 'unknown';
      const { data } = parse(DataResponse, res.body, 'read', path);
      const stored = data.data?.['secret'];
      const same = typeof stored === 'string' && data.data?.['intercom_secret_id'] === id && sameMaterial(stored, raw);
      return same ? { same: data.metadata.version } : 'different';
    } catch {
      return 'unknown';
    }
  }

  return {
    async preflight(purpose: 'create' | 'delete' = 'create') {
      const secretKey = layout.probeKey('secrets');
      const currentKey = layout.probeKey('current');
      // What the step will do: a create writes secrets/<id> (create-only) and its metadata; a delete
      // soft-deletes it and patches its metadata; both repoint current/<platform>, or clear it.
      const needs: Array<[string, readonly string[]]> =
        purpose === 'create'
          ? [
              [layout.data(secretKey), ['create', 'read']],
              [layout.metadata(secretKey), ['update']],
              [layout.data(currentKey), ['create', 'update', 'read']],
            ]
          : [
              [layout.metadata(secretKey), ['read', 'patch']],
              [layout.delete(secretKey), ['update']],
              [layout.data(currentKey), ['create', 'update', 'read']],
              [layout.delete(currentKey), ['update']],
            ];
      const paths = needs.map(([p]) => p);
      // Two reads that need nothing of each other leave together: one round trip of waiting before
      // the create, not two. Health is still judged first, so a sealed Vault says "sealed".
      const [healthAnswer, capabilitiesAnswer] = await Promise.allSettled([
        step('health', 'sys/health', () => client.health()),
        step('capabilities', 'sys/capabilities-self', () => client.capabilitiesSelf(paths)),
      ]);
      if (healthAnswer.status === 'rejected') throw healthAnswer.reason;
      const health = healthAnswer.value;
      const h = (typeof health === 'object' && health !== null ? health : {}) as { initialized?: unknown; sealed?: unknown };
      if (typeof h.sealed !== 'boolean') throw new VaultError('unreachable', 'vault health: the answer is not from Vault', { path: 'sys/health' });
      if (h.initialized === false) throw new VaultError('unreachable', 'vault health: Vault is not initialised', { path: 'sys/health' });
      if (h.sealed) throw new VaultError('sealed', 'vault health: Vault is sealed', { path: 'sys/health', status: 503 });
      if (capabilitiesAnswer.status === 'rejected') throw capabilitiesAnswer.reason;
      const body = capabilitiesAnswer.value;
      const granted = ((body as { data?: unknown } | null)?.data ?? body) as Record<string, unknown>;
      const missing: string[] = [];
      for (const [path, wanted] of needs) {
        const raw = granted[path];
        const caps = Array.isArray(raw) ? raw.filter((c): c is string => typeof c === 'string') : ['deny'];
        if (caps.includes('root')) continue;
        const lacking = wanted.filter((c) => !caps.includes(c));
        if (lacking.length > 0) missing.push(`${lacking.join('+')} on ${path.replace(PROBE_ID, '*')} (has ${caps.join(',') || 'nothing'})`);
      }
      if (missing.length > 0) {
        throw new VaultError('denied', `vault preflight: the token lacks ${missing.join('; ')}`, { path: paths[0] ?? '' });
      }
    },

    async storeSecret(secret: CreatedSecret, provenance: Provenance) {
      const key = layout.secretKey(secret.id);
      const path = layout.data(key);
      const raw = unsealForVault(secret.material);
      const body = {
        options: { cas: 0 },
        data: {
          secret: raw,
          intercom_secret_id: secret.id,
          name: secret.name,
          supports_android: secret.platforms.includes('android'),
          supports_ios: secret.platforms.includes('ios'),
          supports_web: secret.platforms.includes('web'),
          created_at: secret.createdAt,
        },
      };
      let version: number;
      try {
        const res = await session.run(() => client.write(path, body, [raw]));
        version = parse(WriteResponse, res, 'write', path).data.version;
      } catch (err) {
        // A conflict (or a 403 under a create-only policy) may be our own earlier attempt that landed
        // before its answer was lost: identical material means stored, anything else is never overwritten.
        const e = err instanceof VaultError ? err : new VaultError('failed', `vault write ${path}: unexpected failure`, { path });
        const stored = e.kind === 'conflict' || e.kind === 'denied' ? await compareStored(path, secret.id, raw) : 'unknown';
        if (typeof stored !== 'object') {
          const reported =
            e.kind === 'conflict' || stored === 'different'
              ? new VaultError('conflict', `vault write ${path}: already holds material; not overwritten`, { ...e.details })
              : e;
          log?.warn({ op: 'write', path, kind: reported.kind, status: reported.details.status, code: reported.details.code }, reported.message);
          throw reported;
        }
        log?.info({ path, version: stored.same }, 'material was already stored by an earlier attempt');
        version = stored.same;
      }
      const metadataPath = layout.metadata(key);
      await step('write metadata', metadataPath, () => client.write(metadataPath, { custom_metadata: provenanceMetadata(provenance) }));
      log?.info({ path, version, requestId: provenance.requestId }, 'material stored in Vault');
      return { path, version };
    },

    async repointCurrent(platform: Platform, target: SecretInfo | null, opts: { ifVersion?: number } = {}) {
      const key = layout.currentKey(platform);
      const path = layout.data(key);
      // The version to check-and-set against comes from a data read: its 404 envelope still names the
      // current version when the latest one is soft-deleted, where `cas: 0` would fail (vault.md §3.1).
      const currentVersion = async (): Promise<{ version: number; live: boolean }> => {
        const res = await step('read', path, () => client.readMaybe(path));
        if (res.found) return { version: parse(DataResponse, res.body, 'read', path).data.metadata.version, live: true };
        const deleted = MissingDataResponse.safeParse(res.body);
        return { version: deleted.success ? deleted.data.data.metadata.version : 0, live: false };
      };

      if (target === null) {
        const current = await currentVersion();
        if (opts.ifVersion !== undefined && current.version !== opts.ifVersion) {
          throw new VaultError('conflict', `vault ${path}: moved on from version ${opts.ifVersion} to ${current.version}`, { path });
        }
        if (!current.live) return { path };
        const deletePath = layout.delete(key);
        await step('delete', deletePath, () => client.write(deletePath, { versions: [current.version] }));
        log?.info({ path, version: current.version }, 'current copy soft-deleted: no active secret for the platform');
        return { path, version: current.version };
      }

      const sourcePath = layout.data(layout.secretKey(target.id));
      const source = await step('read', sourcePath, () => client.readMaybe(sourcePath));
      const stored = source.found ? parse(DataResponse, source.body, 'read', sourcePath).data.data : null;
      const raw = stored?.['secret'];
      if (typeof raw !== 'string' || raw.length === 0) {
        throw new VaultError('not_found', `vault read ${sourcePath}: no live material for secret ${target.id}`, { path: sourcePath, status: 404 });
      }
      const cas = opts.ifVersion ?? (await currentVersion()).version;
      const body = {
        options: { cas },
        data: { secret: raw, intercom_secret_id: target.id, name: target.name, created_at: target.createdAt, platform },
      };
      const res = await step('write', path, () => client.write(path, body, [raw]));
      const version = parse(WriteResponse, res, 'write', path).data.version;
      log?.info({ path, version, secretId: target.id }, 'current copy repointed');
      return { path, version };
    },

    async currentTarget(platform: Platform) {
      const path = layout.data(layout.currentKey(platform));
      const res = await step('read', path, () => client.readMaybe(path));
      if (!res.found) {
        const deleted = MissingDataResponse.safeParse(res.body);
        return { id: null, version: deleted.success ? deleted.data.data.metadata.version : 0 };
      }
      const { data, metadata } = parse(DataResponse, res.body, 'read', path).data;
      const id = data?.['intercom_secret_id'];
      return { id: typeof id === 'string' && id !== '' ? id : null, version: metadata.version };
    },

    async materialStatus(ids: readonly string[]) {
      const now = (opts.now ?? Date.now)();
      // A workspace has a handful of secrets: ask about them all at once, not one round trip each.
      const statuses = await Promise.all(
        ids.map(async (id): Promise<[string, MaterialStatus]> => {
          const meta = await readMetadata(layout.secretKey(id));
          const latest = meta?.versions[String(meta.current_version)];
          return [id, !meta || !latest ? 'missing' : isGone(latest, now) ? 'deleted' : 'present'];
        }),
      );
      return new Map(statuses);
    },

    async markDeleted(id: string, deletedAt: Date) {
      const key = layout.secretKey(id);
      const path = layout.data(key);
      const meta = await readMetadata(key);
      if (!meta) {
        log?.info({ path }, 'nothing stored to mark deleted');
        return { path };
      }
      const now = (opts.now ?? Date.now)();
      const live = Object.entries(meta.versions)
        .filter(([, v]) => !isGone(v, now))
        .map(([n]) => Number(n));
      if (live.length > 0) {
        const deletePath = layout.delete(key);
        await step('delete', deletePath, () => client.write(deletePath, { versions: live }));
      }
      const metadataPath = layout.metadata(key);
      await step('patch metadata', metadataPath, () => client.patch(metadataPath, { custom_metadata: { intercom_deleted_at: deletedAt.toISOString() } }));
      log?.info({ path, versions: live }, 'material soft-deleted after the Intercom delete');
      return { path };
    },

    async readiness() {
      try {
        const health = (await session.run(() => client.health())) as { sealed?: unknown } | null;
        if (typeof health?.sealed !== 'boolean') return { ok: false, detail: 'vault: the health answer is not from Vault' };
        if (health.sealed) return { ok: false, detail: 'vault: sealed' };
        await session.run(() => client.lookupSelf());
        return { ok: true, detail: 'vault: unsealed, token valid' };
      } catch (err) {
        const e = err instanceof VaultError ? err : undefined;
        if (e?.kind === 'denied') return { ok: false, detail: 'vault: token rejected' };
        return { ok: false, detail: e ? `vault: ${e.kind}${e.details.code ? ` (${e.details.code})` : ''}` : 'vault: unexpected failure' };
      }
    },

    login: () => session.login(),
    close: () => session.close(),
    connection,
  };
}

function connect(opts: SecretVaultOptions, auth: VaultAuthOptions, log: Logger | undefined): VaultAdapter['connection'] {
  const client: VaultClient = createVaultClient({
    addr: opts.addr,
    token: auth.kind === 'token' ? auth.token : '',
    namespace: opts.namespace,
    timeoutMs: opts.timeoutMs ?? 5000,
    caPem: opts.caPem,
    skipTlsVerify: opts.skipTlsVerify,
  });
  return { client, session: createVaultSession(client, auth, { logger: log }) };
}
