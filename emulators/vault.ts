/**
 * A loopback HashiCorp Vault for tests: KV v2, token/AppRole/Kubernetes auth, ACL policies and the
 * sys endpoints ivs-bot uses, per contracts/vault.md §8. Reach it with `VAULT_ADDR=<double.url>`.
 *
 * It never logs. Its call records carry the token's accessor (never the token) and mask every value
 * of a KV `data` member and every login credential, so tests read stored material only through
 * `read()`, never from the call log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/** One path rule of an ACL policy (contract §6): exact, trailing `*` glob, `+` for one segment. */
export interface PolicyRule {
  readonly path: string;
  readonly capabilities: readonly Capability[];
}

export interface TokenOptions {
  /** Seconds; 0 never expires. Default 0. */
  readonly ttl?: number;
  readonly renewable?: boolean;
  /** Enterprise mode only: the namespace the token lives in. Default root (''). */
  readonly namespace?: string;
  readonly meta?: Readonly<Record<string, string>>;
}

export interface AppRoleOptions {
  readonly roleId: string;
  readonly secretId: string;
  readonly policies: readonly PolicyRule[];
  readonly mount?: string;
  readonly roleName?: string;
  /** Token TTL in seconds. Default 1200. */
  readonly ttl?: number;
  /** How many logins the secret id allows; 0 unlimited. Default 0. */
  readonly secretIdNumUses?: number;
}

export interface KubernetesRoleOptions {
  readonly role: string;
  /** Tests use an opaque string: the one JWT this role accepts. */
  readonly jwt: string;
  readonly policies: readonly PolicyRule[];
  readonly mount?: string;
  readonly serviceAccount?: string;
  readonly serviceAccountNamespace?: string;
  readonly ttl?: number;
}

export interface VaultDoubleOptions {
  /** KV v2 mounts. Default `['secret']`. */
  readonly kvMounts?: readonly string[];
  /**
   * Enterprise mode: these namespaces exist and `X-Vault-Namespace` / the path-prefix form select a
   * separate store per namespace. Without it the double is a community build that ignores the header.
   */
  readonly namespaces?: readonly string[];
  /** Default token: `vault-test-token`, allowed everything under `secret/`. `null` for none. */
  readonly token?: string | null;
  /** Milliseconds since the epoch, for every time the double records or compares. Default `Date.now`. */
  readonly now?: () => number;
}

/** What `failNext`, `dropNext` and `failWrites` match on. `pathPrefix` is the logical path (no `/v1/`). */
export interface FaultMatch {
  readonly method?: string;
  readonly pathPrefix?: string;
}

export interface VaultCall {
  readonly seq: number;
  readonly method: string;
  /** Logical path, without `/v1/`, the namespace prefix and the query. */
  readonly path: string;
  readonly query: string;
  readonly namespace: string;
  /** The token's accessor (not the token). `null` when no token was sent; `'unknown'` for a token the double does not know. */
  readonly accessor: string | null;
  /** Parsed JSON body with KV `data` values and credentials masked. */
  readonly body: unknown;
  /** 0 when the connection was dropped instead of answered. */
  readonly status: number;
  readonly contentType: string | undefined;
}

export interface KvVersionView {
  readonly created_time: string;
  readonly deletion_time: string;
  readonly destroyed: boolean;
}

export interface KvMetadataView {
  readonly cas_required: boolean;
  readonly created_time: string;
  readonly current_version: number;
  readonly custom_metadata: Record<string, string> | null;
  readonly delete_version_after: string;
  readonly max_versions: number;
  readonly oldest_version: number;
  readonly updated_time: string;
  readonly versions: Record<string, KvVersionView>;
}

export interface VaultDouble {
  readonly url: string;
  /** Delay before every request is handled (set it above the client timeout to force timeouts). */
  latencyMs: number;
  readonly calls: readonly VaultCall[];
  readonly sealed: boolean;
  addToken(token: string, policies: readonly PolicyRule[] | 'root', opts?: TokenOptions): void;
  /** Makes the token (given as itself or as its accessor) expired: every later use is a 403 `permission denied`. */
  expireToken(tokenOrAccessor: string): void;
  revokeToken(token: string): void;
  addAppRole(opts: AppRoleOptions): void;
  addKubernetesRole(opts: KubernetesRoleOptions): void;
  seal(): void;
  unseal(): void;
  setInitialized(initialized: boolean): void;
  setStandby(standby: boolean, opts?: { performance?: boolean }): void;
  /** Every logical request (not sys/health, sys/seal-status) answers 307 to this base URL; null to stop. */
  redirectTo(baseUrl: string | null): void;
  /** Mount-wide engine config (`{m}/config`). */
  configureMount(config: { casRequired?: boolean; maxVersions?: number }, mount?: string, namespace?: string): void;
  /** The next matching request(s) answer `status` with `{"errors": errors}` (default `[]`). */
  failNext(fault: FaultMatch & { status: number; errors?: readonly string[]; times?: number }): void;
  /** The next `n` KV writes (POST/PUT/PATCH/DELETE outside sys/ and auth/) answer `status` (default 500 `internal error`). */
  failWrites(n: number, fault?: { status?: number; errors?: readonly string[] }): void;
  /** The next matching request gets its connection reset; with `apply` it is carried out first. */
  dropNext(fault?: FaultMatch & { apply?: boolean }): void;
  /** Forgets every queued fault (failNext, failWrites, dropNext) not yet consumed. */
  clearFaults(): void;
  /** Writes a KV version directly (no ACL, no CAS). Path like `secret/intercom/…` or `secret/data/intercom/…`. */
  seed(path: string, data: Record<string, unknown>, opts?: { namespace?: string; customMetadata?: Record<string, string> }): number;
  /** Soft-deletes versions directly (default: the latest). */
  softDelete(path: string, versions?: readonly number[], opts?: { namespace?: string }): void;
  /** The stored data of a version (default latest), also when soft-deleted; undefined when absent or destroyed. */
  read(path: string, opts?: { version?: number; namespace?: string }): Record<string, unknown> | undefined;
  metadata(path: string, opts?: { namespace?: string }): KvMetadataView | undefined;
  /** Every KV key stored, as `<mount>/<key>` (e.g. `secret/intercom/…/current/web`), sorted. */
  paths(opts?: { namespace?: string }): string[];
  /** Resolves once at least `count` requests are being held back by `latencyMs`. */
  whenHeld(count?: number): Promise<void>;
  /** Resolves with the first call (past or future) that satisfies the predicate. */
  waitFor(predicate: (call: VaultCall) => boolean, timeoutMs?: number): Promise<VaultCall>;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN = 'vault-test-token';
const ALL: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list'];
export const BROAD_SECRET_POLICY: readonly PolicyRule[] = [{ path: 'secret/*', capabilities: ALL }];

/** Vault's built-in `default` policy, the part the bot relies on (contract §4.1). */
const DEFAULT_POLICY: readonly PolicyRule[] = [
  { path: 'auth/token/lookup-self', capabilities: ['read'] },
  { path: 'auth/token/renew-self', capabilities: ['update'] },
  { path: 'auth/token/revoke-self', capabilities: ['update'] },
  { path: 'sys/capabilities-self', capabilities: ['update'] },
];

const PERMISSION_DENIED = 'permission denied';
const ACL_DENIED = '1 error occurred:\n\t* permission denied\n\n';
const UNSUPPORTED = '1 error occurred:\n\t* unsupported operation\n\n';
const CAS_MISMATCH = 'check-and-set parameter did not match the current version';
const CAS_REQUIRED = 'check-and-set parameter required for this call';
const CAS_PARSE = 'error parsing check-and-set parameter';
const INVALID_V1_PATH =
  "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv put' for this operation.";
const ROOT_OF_MOUNT = 'Non-listing operations on the root of a K/V v2 mount are not supported.';
const DEFAULT_MAX_VERSIONS = 10;

interface TokenEntry {
  readonly token: string;
  readonly accessor: string;
  readonly policies: readonly PolicyRule[] | 'root';
  readonly policyNames: readonly string[];
  readonly namespace: string;
  readonly renewable: boolean;
  readonly ttl: number;
  readonly issuedAt: number;
  expiresAt: number | null;
  readonly meta: Readonly<Record<string, string>> | null;
}

interface KvVersion {
  data: Record<string, unknown> | null;
  readonly created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface KvKey {
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
  readonly createdTime: string;
  updatedTime: string;
  readonly versions: Map<number, KvVersion>;
}

interface KvMount {
  casRequired: boolean;
  maxVersions: number;
  readonly keys: Map<string, KvKey>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Fault = ({ kind: 'fail'; status: number; errors: readonly string[]; times: number } & FaultMatch) | ({ kind: 'drop'; apply: boolean } & FaultMatch);

function envelope(parts: { data?: unknown; warnings?: readonly string[] | null; auth?: unknown; mountType?: string }): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: parts.data ?? null,
    wrap_info: null,
    warnings: parts.warnings ?? null,
    auth: parts.auth ?? null,
    ...(parts.mountType ? { mount_type: parts.mountType } : {}),
  };
}

const errors = (status: number, ...messages: string[]): Reply => ({ status, body: { errors: messages } });
const noContent: Reply = { status: 204 };

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// --- ACL ----------------------------------------------------------------------------------------

function ruleRegex(pattern: string): RegExp {
  const glob = pattern.endsWith('*');
  const body = glob ? pattern.slice(0, -1) : pattern;
  const escaped = body
    .split('/')
    .map((seg) => (seg === '+' ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}${glob ? '.*' : ''}$`);
}

/** Vault's priority rules (POL "Priority matching"): positive when `a` beats `b`. */
function comparePriority(a: string, b: string): number {
  const firstWild = (p: string) => {
    const i = p.search(/[+*]/);
    return i === -1 ? Number.POSITIVE_INFINITY : i;
  };
  if (firstWild(a) !== firstWild(b)) return firstWild(a) > firstWild(b) ? 1 : -1;
  const aGlob = a.endsWith('*');
  const bGlob = b.endsWith('*');
  if (aGlob !== bGlob) return aGlob ? -1 : 1;
  const plus = (p: string) => p.split('/').filter((s) => s === '+').length;
  if (plus(a) !== plus(b)) return plus(a) > plus(b) ? -1 : 1;
  if (a.length !== b.length) return a.length > b.length ? 1 : -1;
  return a === b ? 0 : a > b ? 1 : -1;
}

/** Capabilities the token has on a path: the most specific matching pattern, unioned across policies. */
function capabilitiesOn(entry: TokenEntry, path: string): Capability[] | 'root' {
  if (entry.policies === 'root') return 'root';
  const byPattern = new Map<string, Set<Capability>>();
  for (const rule of [...DEFAULT_POLICY, ...entry.policies]) {
    if (!ruleRegex(rule.path).test(path)) continue;
    const caps = byPattern.get(rule.path) ?? new Set<Capability>();
    for (const c of rule.capabilities) caps.add(c);
    byPattern.set(rule.path, caps);
  }
  const best = [...byPattern.keys()].sort(comparePriority).pop();
  if (best === undefined) return [];
  const caps = byPattern.get(best) ?? new Set();
  if (caps.has('deny')) return [];
  return [...caps].sort();
}

function allows(entry: TokenEntry, path: string, needed: Capability): boolean {
  const caps = capabilitiesOn(entry, path);
  return caps === 'root' || caps.includes(needed);
}

// --- custom_metadata validation (KVP path_metadata.go) -------------------------------------------

function multierror(messages: readonly string[]): string {
  return `${messages.length} error${messages.length === 1 ? '' : 's'} occurred:\n${messages.map((m) => `\t* ${m}`).join('\n')}\n\n`;
}

function validateCustomMetadata(value: unknown): { ok: Record<string, string> } | { error: string } {
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    return { error: 'custom_metadata must be a map of string to string' };
  }
  const map = value as Record<string, string>;
  const problems: string[] = [];
  const count = Object.keys(map).length;
  if (count > 64) problems.push(`payload must contain at most 64 keys, provided ${count}`);
  else {
    for (const [k, v] of Object.entries(map)) {
      const kl = Buffer.byteLength(k);
      const vl = Buffer.byteLength(v);
      if (kl === 0 || kl > 128) problems.push(`length of key ${JSON.stringify(k)} is ${kl} but must be 0 < len(key) <= 128`);
      if (vl === 0 || vl > 512) problems.push(`length of value for key ${JSON.stringify(k)} is ${vl} but must be 0 < len(value) <= 512`);
      if (/[\p{C}]/u.test(k)) problems.push(`key ${JSON.stringify(k)} (${JSON.stringify(k)}) contains unprintable characters`);
      if (/[\p{C}]/u.test(v)) problems.push(`value for key ${JSON.stringify(k)} contains unprintable characters`);
    }
  }
  if (problems.length > 0) return { error: `custom_metadata validation failed: ${multierror(problems)}` };
  return { ok: { ...map } };
}

function parseVersions(body: Record<string, unknown>): number[] | undefined {
  const raw = body['versions'];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' || typeof raw === 'number' ? String(raw).split(',') : [];
  const out = list.map((v) => Number(v)).filter((n) => Number.isInteger(n) && n > 0);
  return out.length > 0 ? out : undefined;
}

function parseDurationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+)([smh]?)$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : n;
}

function maskBody(body: unknown): unknown {
  if (!isRecord(body)) return body;
  const out: Record<string, unknown> = { ...body };
  if (isRecord(out['data'])) out['data'] = Object.fromEntries(Object.keys(out['data']).map((k) => [k, '[masked]']));
  for (const k of ['secret_id', 'jwt', 'token', 'client_token']) if (k in out) out[k] = '[masked]';
  return out;
}

// --- the double ---------------------------------------------------------------------------------

export async function startVaultDouble(opts: VaultDoubleOptions = {}): Promise<VaultDouble> {
  const kvMounts = opts.kvMounts ?? ['secret'];
  const now = opts.now ?? Date.now;
  const nowIso = (): string => new Date(now()).toISOString();
  const enterprise = opts.namespaces !== undefined;
  const knownNamespaces = [...(opts.namespaces ?? [])].map((n) => n.replace(/^\/+|\/+$/g, ''));

  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let stores = new Map<string, Map<string, KvMount>>();
  let tokens = new Map<string, TokenEntry>();
  let appRoles: Array<AppRoleOptions & { uses: number }> = [];
  let k8sRoles: KubernetesRoleOptions[] = [];
  let faults: Fault[] = [];
  let writeFailures = { remaining: 0, status: 500, errors: ['internal error'] as readonly string[] };
  let calls: VaultCall[] = [];
  let seq = 0;
  let sealed = false;
  let initialized = true;
  let standby = false;
  let perfStandby = false;
  let redirectBase: string | null = null;
  let resetEpoch = 0;
  let held = 0;

  function mountsOf(ns: string): Map<string, KvMount> {
    let m = stores.get(ns);
    if (!m) {
      m = new Map(kvMounts.map((name) => [name, { casRequired: false, maxVersions: 0, keys: new Map() }]));
      stores.set(ns, m);
    }
    return m;
  }

  function addToken(token: string, policies: readonly PolicyRule[] | 'root', o: TokenOptions = {}): void {
    const ttl = o.ttl ?? 0;
    tokens.set(token, {
      token,
      accessor: randomBytes(12).toString('hex'),
      policies,
      policyNames: policies === 'root' ? ['root'] : ['default', 'test-policy'],
      namespace: (o.namespace ?? '').replace(/^\/+|\/+$/g, ''),
      renewable: o.renewable ?? ttl > 0,
      ttl,
      issuedAt: now(),
      expiresAt: ttl > 0 ? now() + ttl * 1000 : null,
      meta: o.meta ?? null,
    });
  }

  function mintToken(policies: readonly PolicyRule[], ttl: number, namespace: string, meta: Record<string, string>): TokenEntry {
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    addToken(token, policies, { ttl, renewable: true, namespace, meta });
    const entry = tokens.get(token);
    if (!entry) throw new Error('unreachable');
    return entry;
  }

  function authBlock(entry: TokenEntry): Record<string, unknown> {
    return {
      client_token: entry.token,
      accessor: entry.accessor,
      policies: entry.policyNames,
      token_policies: entry.policyNames,
      metadata: entry.meta,
      lease_duration: entry.ttl,
      renewable: entry.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: true,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  function initState(): void {
    resetEpoch += 1;
    stores = new Map();
    tokens = new Map();
    appRoles = [];
    k8sRoles = [];
    faults = [];
    writeFailures = { remaining: 0, status: 500, errors: ['internal error'] };
    calls = [];
    sealed = false;
    initialized = true;
    standby = false;
    perfStandby = false;
    redirectBase = null;
    api.latencyMs = 0;
    if (opts.token !== null) addToken(opts.token ?? DEFAULT_TOKEN, BROAD_SECRET_POLICY);
  }

  /** `secret/data/a/b` or `secret/a/b` → mount + key, for the inspection helpers. */
  function locate(path: string, ns: string): { mount: KvMount; key: string } | undefined {
    const clean = path.replace(/^\/+|\/+$/g, '');
    const mountName = kvMounts.find((m) => clean.startsWith(`${m}/`));
    if (!mountName) return undefined;
    let key = clean.slice(mountName.length + 1);
    key = key.replace(/^(data|metadata)\//, '');
    const mount = mountsOf(ns).get(mountName);
    return mount ? { mount, key } : undefined;
  }

  function maxVersionsOf(mount: KvMount, key: KvKey): number {
    return key.maxVersions > 0 ? key.maxVersions : mount.maxVersions > 0 ? mount.maxVersions : DEFAULT_MAX_VERSIONS;
  }

  function newKey(): KvKey {
    const t = nowIso();
    return {
      currentVersion: 0,
      oldestVersion: 0,
      maxVersions: 0,
      casRequired: false,
      customMetadata: null,
      createdTime: t,
      updatedTime: t,
      versions: new Map(),
    };
  }

  function putVersion(mount: KvMount, keyName: string, data: Record<string, unknown>): { key: KvKey; version: number; created: string } {
    const key = mount.keys.get(keyName) ?? newKey();
    mount.keys.set(keyName, key);
    const version = key.currentVersion + 1;
    const created = nowIso();
    key.versions.set(version, { data: structuredClone(data), created_time: created, deletion_time: '', destroyed: false });
    key.currentVersion = version;
    key.updatedTime = created;
    if (key.oldestVersion === 0) key.oldestVersion = version;
    const max = maxVersionsOf(mount, key);
    for (const v of [...key.versions.keys()].sort((a, b) => a - b)) {
      if (key.versions.size <= max) break;
      key.versions.delete(v);
    }
    key.oldestVersion = Math.min(...key.versions.keys());
    return { key, version, created };
  }

  const isDeleted = (v: KvVersion) => v.deletion_time !== '' && Date.parse(v.deletion_time) <= now();

  function metadataView(key: KvKey): KvMetadataView {
    const versions: Record<string, KvVersionView> = {};
    for (const [n, v] of key.versions) versions[String(n)] = { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed };
    return {
      cas_required: key.casRequired,
      created_time: key.createdTime,
      current_version: key.currentVersion,
      custom_metadata: key.customMetadata ? { ...key.customMetadata } : null,
      delete_version_after: '0s',
      max_versions: key.maxVersions,
      oldest_version: key.oldestVersion,
      updated_time: key.updatedTime,
      versions,
    };
  }

  function versionMetadata(key: KvKey, n: number, v: KvVersion): Record<string, unknown> {
    return {
      created_time: v.created_time,
      custom_metadata: key.customMetadata ? { ...key.customMetadata } : null,
      deletion_time: v.deletion_time,
      destroyed: v.destroyed,
      version: n,
    };
  }

  // --- KV v2 routes ---

  function kvRoute(mount: KvMount, rest: string, op: Operation, body: Record<string, unknown>, query: URLSearchParams, contentType: string | undefined): Reply {
    const slash = rest.indexOf('/');
    const verb = slash === -1 ? rest : rest.slice(0, slash);
    const keyName = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    const kv = (data: unknown, warnings?: readonly string[]): Reply => ({ status: 200, body: envelope({ data, warnings, mountType: 'kv' }) });

    if (verb === 'config') {
      if (op === 'read') return kv({ cas_required: mount.casRequired, delete_version_after: '0s', max_versions: mount.maxVersions });
      if (op === 'update') {
        if (typeof body['cas_required'] === 'boolean') mount.casRequired = body['cas_required'];
        if (typeof body['max_versions'] === 'number') mount.maxVersions = body['max_versions'];
        return noContent;
      }
      return errors(405, UNSUPPORTED);
    }
    if (!['data', 'metadata', 'delete', 'undelete', 'destroy'].includes(verb)) {
      return { status: 404, body: envelope({ warnings: [INVALID_V1_PATH] }) };
    }
    if (keyName === '' && op !== 'list') return { status: 404, body: envelope({ warnings: [ROOT_OF_MOUNT] }) };
    const key = mount.keys.get(keyName);

    if (verb === 'data') {
      if (op === 'list') return errors(405, UNSUPPORTED);
      if (op === 'read') {
        const wanted = Number(query.get('version') ?? '0');
        if (!key) return errors(404);
        const n = wanted > 0 ? wanted : key.currentVersion;
        const v = key.versions.get(n);
        if (!v) return errors(404);
        if (isDeleted(v) || v.destroyed) {
          return { status: 404, body: envelope({ data: { data: null, metadata: versionMetadata(key, n, v) }, mountType: 'kv' }) };
        }
        return kv({ data: structuredClone(v.data), metadata: versionMetadata(key, n, v) });
      }
      if (op === 'create' || op === 'update') {
        if (!('data' in body)) return errors(400, 'no data provided');
        const data = body['data'];
        if (!isRecord(data)) return errors(400, 'no data provided');
        const options = isRecord(body['options']) ? body['options'] : {};
        const casRaw = options['cas'];
        let cas: number | undefined;
        if (casRaw !== undefined) {
          cas = typeof casRaw === 'number' ? casRaw : typeof casRaw === 'string' && /^-?\d+$/.test(casRaw) ? Number(casRaw) : Number.NaN;
          if (!Number.isInteger(cas)) return errors(400, CAS_PARSE);
        }
        if (cas === undefined && (mount.casRequired || key?.casRequired)) return errors(400, CAS_REQUIRED);
        if (cas !== undefined && cas !== (key?.currentVersion ?? 0)) return errors(400, CAS_MISMATCH);
        const { key: stored, version, created } = putVersion(mount, keyName, data);
        return kv({
          created_time: created,
          custom_metadata: stored.customMetadata ? { ...stored.customMetadata } : null,
          deletion_time: '',
          destroyed: false,
          version,
        });
      }
      if (op === 'delete') {
        const latest = key?.versions.get(key.currentVersion);
        if (latest && !isDeleted(latest) && !latest.destroyed) latest.deletion_time = nowIso();
        return noContent;
      }
      return errors(405, UNSUPPORTED);
    }

    if (verb === 'metadata') {
      if (op === 'list') {
        const dir = keyName === '' ? '' : `${keyName}/`;
        const found = new Set<string>();
        for (const name of mount.keys.keys()) {
          if (!name.startsWith(dir)) continue;
          const remainder = name.slice(dir.length);
          const cut = remainder.indexOf('/');
          found.add(cut === -1 ? remainder : remainder.slice(0, cut + 1));
        }
        if (found.size === 0) return errors(404);
        return kv({ keys: [...found].sort() });
      }
      if (op === 'read') return key ? kv(metadataView(key)) : errors(404);
      if (op === 'create' || op === 'update') {
        let custom: Record<string, string> | undefined;
        if ('custom_metadata' in body) {
          const checked = validateCustomMetadata(body['custom_metadata']);
          if ('error' in checked) return errors(400, checked.error);
          custom = checked.ok;
        }
        const target = key ?? newKey();
        mount.keys.set(keyName, target);
        if (custom !== undefined) target.customMetadata = custom;
        if (typeof body['max_versions'] === 'number') target.maxVersions = body['max_versions'];
        const warnings: string[] = [];
        if (typeof body['cas_required'] === 'boolean') {
          target.casRequired = body['cas_required'];
          if (!body['cas_required'] && mount.casRequired) {
            warnings.push('"cas_required" set to false, but is mandated by backend config. This value will be ignored.');
          }
        }
        target.updatedTime = nowIso();
        return warnings.length > 0 ? kv(null, warnings) : noContent;
      }
      if (op === 'patch') {
        const type = (contentType ?? '').split(';')[0]?.trim();
        if (type !== 'application/merge-patch+json') {
          return errors(415, `PATCH requires Content-Type of application/merge-patch+json, provided ${contentType ?? ''}`);
        }
        if (!key) return errors(404);
        if ('custom_metadata' in body) {
          const patch = body['custom_metadata'];
          const merged: Record<string, unknown> = { ...(key.customMetadata ?? {}) };
          if (patch === null) for (const k of Object.keys(merged)) delete merged[k];
          else if (isRecord(patch)) {
            for (const [k, v] of Object.entries(patch)) {
              if (v === null) delete merged[k];
              else merged[k] = v;
            }
          }
          const checked = validateCustomMetadata(merged);
          if ('error' in checked) return errors(400, checked.error);
          key.customMetadata = checked.ok;
        }
        if (typeof body['max_versions'] === 'number') key.maxVersions = body['max_versions'];
        if (typeof body['cas_required'] === 'boolean') key.casRequired = body['cas_required'];
        key.updatedTime = nowIso();
        return noContent;
      }
      if (op === 'delete') {
        mount.keys.delete(keyName);
        return noContent;
      }
      return errors(405, UNSUPPORTED);
    }

    // delete/, undelete/, destroy/
    if (op !== 'create' && op !== 'update') return errors(405, UNSUPPORTED);
    const versions = parseVersions(body);
    if (!versions) return errors(400, verb === 'destroy' ? 'no version number provided' : 'No version number provided');
    for (const n of versions) {
      const v = key?.versions.get(n);
      if (!v) continue;
      if (verb === 'delete' && !v.destroyed && !isDeleted(v)) v.deletion_time = nowIso();
      if (verb === 'undelete' && !v.destroyed) v.deletion_time = '';
      if (verb === 'destroy') {
        v.destroyed = true;
        v.data = null;
      }
    }
    return noContent;
  }

  // --- request pipeline ---

  type Operation = 'read' | 'list' | 'create' | 'update' | 'patch' | 'delete';

  function healthReply(method: string, query: URLSearchParams): Reply {
    const code = (name: string, dflt: number): number | string => {
      const v = query.get(name);
      if (v === null || v === '') return dflt;
      return /^\d+$/.test(v) ? Number(v) : `bad code value for ${name}: ${v}`;
    };
    const flag = (name: string): boolean | string => {
      const v = query.get(name);
      if (v === null || v === '') return false;
      return parseBool(v) ?? `bad value for ${name} parameter: ${v}`;
    };
    const standbyOk = flag('standbyok');
    const perfOk = flag('perfstandbyok');
    const codes = {
      active: code('activecode', 200),
      standby: code('standbycode', 429),
      perf: code('performancestandbycode', 473),
      uninit: code('uninitcode', 501),
      sealed: code('sealedcode', 503),
      dr: code('drsecondarycode', 472),
    };
    for (const v of [standbyOk, perfOk, ...Object.values(codes)]) if (typeof v === 'string') return errors(400, v);
    const pick = (c: number | string) => c as number;
    let status = pick(codes.active);
    if (!initialized) status = pick(codes.uninit);
    else if (sealed) status = pick(codes.sealed);
    else if (perfStandby && !perfOk) status = pick(codes.perf);
    else if (standby && !standbyOk) status = pick(codes.standby);
    if (method === 'HEAD') return { status };
    return {
      status,
      body: {
        initialized,
        sealed,
        standby: standby || perfStandby,
        performance_standby: perfStandby,
        replication_performance_mode: 'disabled',
        replication_dr_mode: 'disabled',
        server_time_utc: Math.floor(now() / 1000),
        version: '1.17.0',
        ...(sealed ? {} : { cluster_name: 'vault-double', cluster_id: '00000000-0000-0000-0000-000000000000' }),
      },
    };
  }

  function sealStatusReply(): Reply {
    return {
      status: 200,
      body: {
        type: 'shamir',
        initialized,
        sealed,
        t: 1,
        n: 1,
        progress: 0,
        nonce: '',
        version: '1.17.0',
        build_date: '2024-06-01T00:00:00Z',
        migration: false,
        recovery_seal: false,
        storage_type: 'inmem',
        ...(sealed ? {} : { cluster_name: 'vault-double', cluster_id: '00000000-0000-0000-0000-000000000000' }),
      },
    };
  }

  function loginReply(mountName: string, body: Record<string, unknown>, ns: string): Reply | undefined {
    const approle = appRoles.filter((r) => (r.mount ?? 'approle') === mountName);
    const k8s = k8sRoles.filter((r) => (r.mount ?? 'kubernetes') === mountName);
    if (approle.length > 0) {
      const roleId = typeof body['role_id'] === 'string' ? body['role_id'] : '';
      const secretId = typeof body['secret_id'] === 'string' ? body['secret_id'] : '';
      if (roleId === '') return errors(400, 'missing role_id');
      if (secretId === '') return errors(400, 'missing secret_id');
      const role = approle.find((r) => r.roleId === roleId && r.secretId === secretId);
      if (!role) return errors(400, 'invalid role or secret ID');
      if (role.secretIdNumUses && role.secretIdNumUses > 0) {
        if (role.uses >= role.secretIdNumUses) return errors(400, 'invalid role or secret ID');
        role.uses += 1;
      }
      const entry = mintToken(role.policies, role.ttl ?? 1200, ns, { role_name: role.roleName ?? 'ivs-bot' });
      return { status: 200, body: envelope({ auth: authBlock(entry) }) };
    }
    if (k8s.length > 0) {
      const roleName = typeof body['role'] === 'string' ? body['role'] : '';
      const jwt = typeof body['jwt'] === 'string' ? body['jwt'] : '';
      if (roleName === '') return errors(400, 'missing role');
      if (jwt === '') return errors(400, 'missing jwt');
      const role = k8s.find((r) => r.role === roleName);
      if (!role) return errors(400, `invalid role name "${roleName}"`);
      if (role.jwt !== jwt) return errors(403, PERMISSION_DENIED);
      const entry = mintToken(role.policies, role.ttl ?? 3600, ns, {
        role: role.role,
        service_account_name: role.serviceAccount ?? 'ivs-bot',
        service_account_namespace: role.serviceAccountNamespace ?? 'default',
        service_account_secret_name: '',
        service_account_uid: randomUUID(),
      });
      return { status: 200, body: envelope({ auth: authBlock(entry) }) };
    }
    return undefined;
  }

  function resolveNamespace(headerNs: string | undefined, logical: string): { ns: string; path: string } | undefined {
    if (!enterprise) return { ns: '', path: logical };
    let ns = (headerNs ?? '').replace(/^\/+|\/+$/g, '');
    let path = logical;
    // The path-prefix form: `/v1/<ns>/secret/…`, relative to the header's namespace.
    for (const candidate of [...knownNamespaces].sort((a, b) => b.length - a.length)) {
      const rel = ns === '' ? candidate : candidate.startsWith(`${ns}/`) ? candidate.slice(ns.length + 1) : null;
      if (rel !== null && path.startsWith(`${rel}/`)) {
        ns = candidate;
        path = path.slice(rel.length + 1);
        break;
      }
    }
    if (ns !== '' && !knownNamespaces.includes(ns)) return undefined;
    return { ns, path };
  }

  function tokenValidIn(entry: TokenEntry, ns: string): boolean {
    if (entry.expiresAt !== null && entry.expiresAt <= now()) return false;
    return entry.namespace === '' || entry.namespace === ns || ns.startsWith(`${entry.namespace}/`);
  }

  function logical(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    token: TokenEntry | undefined,
    hasToken: boolean,
    ns: string,
    contentType: string | undefined,
  ): Reply {
    // Unauthenticated sys endpoints answer even while sealed.
    if (path === 'sys/health') return method === 'GET' || method === 'HEAD' ? healthReply(method, query) : errors(405, UNSUPPORTED);
    if (path === 'sys/seal-status') return method === 'GET' ? sealStatusReply() : errors(405, UNSUPPORTED);
    if (redirectBase !== null) {
      const search = query.toString();
      return { status: 307, headers: { Location: `${redirectBase}/v1/${path}${search ? `?${search}` : ''}` } };
    }
    if (sealed) return errors(503, 'Vault is sealed');

    const listParam = query.get('list');
    const isList = method === 'GET' && listParam !== null && parseBool(listParam) === true;
    const writeLike = method === 'POST' || method === 'PUT';
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) return errors(405, UNSUPPORTED);
    if (writeLike && path.endsWith('/')) return errors(400, "cannot write to a path ending in '/'");

    const loginMatch = /^auth\/([^/]+)\/login$/.exec(path);
    if (loginMatch && writeLike) {
      const reply = loginReply(loginMatch[1] ?? '', body, ns);
      if (reply) return reply;
    }

    if (!token || !hasToken || !tokenValidIn(token, ns)) return errors(403, PERMISSION_DENIED);

    // Existence check: KV data/ and metadata/ writes need `create` when the key has no metadata.
    const mountName = kvMounts.find((m) => path === m || path.startsWith(`${m}/`));
    const mount = mountName ? mountsOf(ns).get(mountName) : undefined;
    const rest = mountName ? path.slice(mountName.length + 1) : '';
    let op: Operation;
    if (isList) op = 'list';
    else if (method === 'GET') op = 'read';
    else if (method === 'PATCH') op = 'patch';
    else if (method === 'DELETE') op = 'delete';
    else {
      op = 'update';
      const m = /^(data|metadata)\/(.+)$/.exec(rest);
      if (mount && m && !mount.keys.has(m[2] ?? '')) op = 'create';
    }
    const aclPath = op === 'list' && !path.endsWith('/') ? `${path}/` : path;
    if (!allows(token, aclPath, op)) return errors(403, ACL_DENIED);

    if (path === 'auth/token/lookup-self' && (method === 'GET' || writeLike)) {
      const ttl = token.expiresAt === null ? 0 : Math.max(0, Math.floor((token.expiresAt - now()) / 1000));
      return {
        status: 200,
        body: envelope({
          data: {
            accessor: token.accessor,
            creation_time: Math.floor(token.issuedAt / 1000),
            creation_ttl: token.ttl,
            display_name: 'token',
            entity_id: '',
            expire_time: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString(),
            explicit_max_ttl: 0,
            id: token.token,
            identity_policies: [],
            issue_time: new Date(token.issuedAt).toISOString(),
            meta: token.meta,
            num_uses: 0,
            orphan: true,
            path: 'auth/token/create',
            policies: token.policyNames,
            renewable: token.renewable,
            ttl,
            type: 'service',
          },
        }),
      };
    }
    if (path === 'auth/token/renew-self' && writeLike) {
      if (!token.renewable) return errors(400, 'lease is not renewable');
      const increment = parseDurationSeconds(body['increment']) ?? token.ttl;
      token.expiresAt = now() + increment * 1000;
      return { status: 200, body: envelope({ auth: { ...authBlock(token), lease_duration: increment } }) };
    }
    if (path === 'sys/capabilities-self' && writeLike) {
      const paths = Array.isArray(body['paths'])
        ? body['paths'].filter((p): p is string => typeof p === 'string')
        : typeof body['path'] === 'string'
          ? [body['path']]
          : [];
      const data: Record<string, string[]> = {};
      for (const p of paths) {
        const caps = capabilitiesOn(token, p.replace(/^\/+/, ''));
        data[p] = caps === 'root' ? ['root'] : caps.length > 0 ? caps : ['deny'];
      }
      if (paths.length === 1 && paths[0] !== undefined) data['capabilities'] = data[paths[0]] ?? ['deny'];
      return { status: 200, body: { ...data, ...envelope({ data }) } };
    }
    if (mount) return kvRoute(mount, rest, op, body, query, contentType);
    return errors(404, `no handler for route "${path}". route entry not found.`);
  }

  function takeFault(method: string, path: string): Fault | undefined {
    const i = faults.findIndex((f) => (!f.method || f.method.toUpperCase() === method) && (!f.pathPrefix || path.startsWith(f.pathPrefix.replace(/^\/+/, ''))));
    if (i === -1) return undefined;
    const fault = faults[i];
    if (!fault) return undefined;
    if (fault.kind === 'fail' && fault.times > 1) faults[i] = { ...fault, times: fault.times - 1 };
    else faults.splice(i, 1);
    return fault;
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  }

  function send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...(reply.headers ?? {}) };
    if (reply.status === 204 || reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    res.writeHead(reply.status, headers).end(JSON.stringify(reply.body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://double');

    if (url.pathname.startsWith('/__double/')) {
      send(res, inspection(method, url));
      return;
    }
    if (api.latencyMs > 0) {
      const epoch = resetEpoch;
      held += 1;
      events.emit('held');
      await delay(api.latencyMs);
      held -= 1;
      // A request held back across reset() must not land in the next test's state.
      if (epoch !== resetEpoch) {
        req.socket.destroy();
        return;
      }
    }
    const headerNs = header(req, 'x-vault-namespace');
    const path0 = url.pathname.replace(/^\/v1\//, '');
    const located = resolveNamespace(headerNs, decodeURIComponent(path0));
    const path = located?.path ?? path0;
    const ns = located?.ns ?? '';
    const auth = header(req, 'authorization');
    const rawToken = header(req, 'x-vault-token') ?? (auth && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : undefined);
    const token = rawToken ? tokens.get(rawToken) : undefined;
    const contentType = header(req, 'content-type');

    let parsed: unknown = {};
    let parseError = false;
    if (rawBody.trim() !== '' && method !== 'GET' && method !== 'HEAD') {
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        parseError = true;
      }
    }
    const body = isRecord(parsed) ? parsed : {};
    const record = (status: number): void => {
      const call: VaultCall = {
        seq: ++seq,
        method,
        path,
        query: url.search.replace(/^\?/, ''),
        namespace: ns,
        accessor: rawToken ? (token?.accessor ?? 'unknown') : null,
        body: parseError ? '[unparseable]' : maskBody(parsed),
        status,
        contentType,
      };
      calls.push(call);
      events.emit('call', call);
    };

    if (url.pathname.includes('//')) {
      record(301);
      send(res, { status: 301, headers: { Location: `${url.pathname.replace(/\/{2,}/g, '/')}${url.search}` } });
      return;
    }
    if (!url.pathname.startsWith('/v1/')) {
      record(404);
      send(res, errors(404));
      return;
    }
    const fault = takeFault(method, path);
    if (fault?.kind === 'drop' && !fault.apply) {
      record(0);
      req.socket.destroy();
      return;
    }
    let reply: Reply;
    const isKvWrite = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) && !path.startsWith('sys/') && !path.startsWith('auth/');
    if (fault?.kind === 'fail') reply = errors(fault.status, ...fault.errors);
    else if (isKvWrite && writeFailures.remaining > 0) {
      writeFailures.remaining -= 1;
      reply = errors(writeFailures.status, ...writeFailures.errors);
    } else if (located === undefined) reply = errors(404, `no handler for route "${path}". route entry not found.`);
    else if (parseError) reply = errors(400, 'error parsing JSON');
    else reply = logical(method, path, url.searchParams, body, token, rawToken !== undefined, ns, contentType);

    if (fault?.kind === 'drop') {
      record(0);
      req.socket.destroy();
      return;
    }
    record(reply.status);
    send(res, reply);
  }

  function inspection(method: string, url: URL): Reply {
    const what = url.pathname.slice('/__double/'.length);
    if (what === 'calls' && method === 'GET') return { status: 200, body: { calls } };
    if (what === 'metadata' && method === 'GET') {
      const m = api.metadata(url.searchParams.get('path') ?? '');
      return m ? { status: 200, body: m } : errors(404);
    }
    if (method === 'POST' && what === 'seal') api.seal();
    else if (method === 'POST' && what === 'unseal') api.unseal();
    else if (method === 'POST' && what === 'reset') api.reset();
    else return errors(404);
    return noContent;
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, errors(500, `double failure: ${err instanceof Error ? err.message : String(err)}`));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const api: VaultDouble = {
    url: `http://127.0.0.1:${port}`,
    latencyMs: 0,
    get calls() {
      return calls;
    },
    get sealed() {
      return sealed;
    },
    addToken,
    expireToken(tokenOrAccessor) {
      const entry = tokens.get(tokenOrAccessor) ?? [...tokens.values()].find((t) => t.accessor === tokenOrAccessor);
      if (entry) entry.expiresAt = now() - 1;
    },
    revokeToken(token) {
      tokens.delete(token);
    },
    addAppRole(o) {
      // Same role id on the same mount: the new definition replaces the old one.
      appRoles = [...appRoles.filter((r) => !(r.roleId === o.roleId && (r.mount ?? 'approle') === (o.mount ?? 'approle'))), { ...o, uses: 0 }];
    },
    addKubernetesRole(o) {
      k8sRoles = [...k8sRoles.filter((r) => !(r.role === o.role && (r.mount ?? 'kubernetes') === (o.mount ?? 'kubernetes'))), o];
    },
    seal() {
      sealed = true;
    },
    unseal() {
      sealed = false;
    },
    setInitialized(v) {
      initialized = v;
    },
    setStandby(v, o = {}) {
      standby = v && !o.performance;
      perfStandby = v && Boolean(o.performance);
    },
    redirectTo(base) {
      redirectBase = base === null ? null : base.replace(/\/+$/, '');
    },
    configureMount(config, mount = kvMounts[0] ?? 'secret', namespace = '') {
      const m = mountsOf(namespace).get(mount);
      if (!m) throw new Error(`no KV mount ${mount}`);
      if (config.casRequired !== undefined) m.casRequired = config.casRequired;
      if (config.maxVersions !== undefined) m.maxVersions = config.maxVersions;
    },
    failNext(f) {
      faults.push({ kind: 'fail', method: f.method, pathPrefix: f.pathPrefix, status: f.status, errors: f.errors ?? [], times: f.times ?? 1 });
    },
    failWrites(n, f = {}) {
      writeFailures = { remaining: n, status: f.status ?? 500, errors: f.errors ?? ['internal error'] };
    },
    dropNext(f = {}) {
      faults.push({ kind: 'drop', method: f.method, pathPrefix: f.pathPrefix, apply: f.apply ?? false });
    },
    clearFaults() {
      faults = [];
      writeFailures = { remaining: 0, status: 500, errors: [] };
    },
    seed(path, data, o = {}) {
      const at = locate(path, o.namespace ?? '');
      if (!at) throw new Error(`not under a KV mount: ${path}`);
      const { key, version } = putVersion(at.mount, at.key, data);
      if (o.customMetadata) key.customMetadata = { ...o.customMetadata };
      return version;
    },
    softDelete(path, versions, o = {}) {
      const at = locate(path, o.namespace ?? '');
      const key = at?.mount.keys.get(at.key);
      if (!key) return;
      for (const n of versions ?? [key.currentVersion]) {
        const v = key.versions.get(n);
        if (v && !v.destroyed) v.deletion_time = nowIso();
      }
    },
    read(path, o = {}) {
      const at = locate(path, o.namespace ?? '');
      const key = at?.mount.keys.get(at.key);
      const v = key?.versions.get(o.version ?? key.currentVersion);
      return v?.data ? structuredClone(v.data) : undefined;
    },
    metadata(path, o = {}) {
      const at = locate(path, o.namespace ?? '');
      const key = at?.mount.keys.get(at.key);
      return key ? metadataView(key) : undefined;
    },
    paths(o = {}) {
      const out: string[] = [];
      for (const [name, mount] of mountsOf(o.namespace ?? '')) for (const key of mount.keys.keys()) out.push(`${name}/${key}`);
      return out.sort();
    },
    whenHeld(count = 1) {
      if (held >= count) return Promise.resolve();
      return new Promise((resolve) => {
        const onHeld = () => {
          if (held < count) return;
          events.off('held', onHeld);
          resolve();
        };
        events.on('held', onHeld);
      });
    },
    waitFor(predicate, timeoutMs = 5000) {
      const past = calls.find(predicate);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const onCall = (call: VaultCall) => {
          if (!predicate(call)) return;
          clearTimeout(timer);
          events.off('call', onCall);
          resolve(call);
        };
        const timer = setTimeout(() => {
          events.off('call', onCall);
          reject(new Error(`vault double: no matching call within ${timeoutMs}ms`));
        }, timeoutMs);
        events.on('call', onCall);
      });
    },
    reset() {
      initState();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  initState();
  return api;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
