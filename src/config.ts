import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CHANNEL_ID, loadWorkspacesFile, type WorkspaceConfig } from './config-file';
import { parseDuration } from './duration';
import { resolveIntercomBaseUrl } from './intercom/region';
import { COMMAND_WORDS } from './slack/command-parser';

export type { WorkspaceConfig } from './config-file';

/**
 * The only place that reads the environment (`loadConfig(process.env)` in main). Every setting of
 * SPEC §3, §5 and §6 is named here, validated together, and every problem is reported at once.
 * With `IVS_CONFIG` the workspaces come from a YAML file (SPEC §9, config-file.ts); without it the
 * environment describes one workspace, exactly as in the first release.
 */

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type VaultAuth =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'approle'; readonly roleId: string; readonly secretId: string; readonly mount: string }
  | { readonly kind: 'kubernetes'; readonly role: string; readonly jwtPath: string; readonly mount: string };

export interface Config {
  readonly slack: {
    readonly botToken: string;
    readonly signingSecret?: string;
    readonly appToken?: string;
    readonly apiUrl: string;
  };
  readonly port: number;
  readonly redis: { readonly url: string; readonly keyPrefix: string };
  readonly vault: {
    readonly addr: string;
    readonly auth: VaultAuth;
    readonly namespace?: string;
    readonly kvMount: string;
    readonly pathPrefix: string;
    readonly caPem?: string;
  };
  /**
   * The Intercom workspaces, in the order of the file (or the one of the environment settings). Each
   * has its own Intercom, Vault subtree, channels and policy.
   */
  readonly workspaces: readonly WorkspaceConfig[];
  readonly ivs: {
    /** The YAML file the workspaces came from; absent when the environment describes one workspace. */
    readonly configFile?: string;
    readonly maxOpenPerRequester: number;
    /** How long a `/ivs list` answer may be shown again; 0 asks Intercom and Vault every time. */
    readonly listMaxAgeMs: number;
    /** IVS_REMINDER_INTERVAL: at most one reminder of due secrets per this, across replicas. */
    readonly reminderIntervalMs: number;
    /** IVS_FINISH_REMINDER: a rotation waiting to be finished this long gets a nudge, once per this. */
    readonly finishReminderMs: number;
    /** How long a card or thread reply is retried before it is given up (SPEC §8). */
    readonly deliveryMaxAgeMs: number;
  };
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Set only by `npm run sandbox`: the bot's clock is real time plus the offset in this file. Refused in production. */
  readonly sandbox?: { readonly clockFile: string };
  /** Every credential in the config, so the logger can redact them wherever they appear. */
  readonly secrets: readonly string[];
}

const DEFAULT_VAULT_PREFIX = 'intercom/identity-verification';

/** The environment settings that describe the one workspace; with IVS_CONFIG the file does. */
const PER_WORKSPACE_ENV = [
  'IVS_WORKSPACE',
  'IVS_CHANNELS',
  'IVS_REQUESTERS',
  'IVS_APPROVERS',
  'IVS_APPROVALS_REQUIRED',
  'IVS_REQUEST_TTL',
  'IVS_MIN_OVERLAP',
  'IVS_ROTATE_AFTER',
  'INTERCOM_API_URL',
] as const;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const idList = (pattern: RegExp, what: string) =>
  optional.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ids = v.split(/[\s,]+/).filter(Boolean);
    const bad = ids.filter((id) => !pattern.test(id));
    if (bad.length) ctx.addIssue({ code: 'custom', message: `not ${what}: ${bad.join(', ')}` });
    return ids;
  });

const DAY_MS = 86_400_000;

/** A duration that may be left unset, within [min, max] when set (unset means "no such policy"). */
const boundedOptionalDuration = (min: { ms: number; text: string }, max: { ms: number; text: string }) =>
  optional.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === null || ms < min.ms || ms > max.ms) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration from ${min.text} to ${max.text} (like 90d, 365d)` });
      return undefined;
    }
    return ms;
  });

/** A duration with a default, within [min, max]. */
const boundedDuration = (fallback: string, min: { ms: number; text: string }, max: { ms: number; text: string }) =>
  optional.transform((v, ctx) => {
    const ms = parseDuration(v ?? fallback);
    if (ms === null || ms < min.ms || ms > max.ms) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration from ${min.text} to ${max.text} (like 12h, 3d, 7d)` });
      return 0;
    }
    return ms;
  });

/**
 * Every duration has an upper bound too: a time beyond what a Date holds (`100000000d`) would make
 * every card unrenderable, and one of years means a request that is never settled.
 */
const duration = (
  fallback: string,
  min: { ms: number; text: string } = { ms: 1000, text: '1s' },
  max: { ms: number; text: string } = { ms: 30 * DAY_MS, text: '30d' },
) =>
  optional.transform((v, ctx) => {
    const ms = parseDuration(v ?? fallback);
    if (ms === null || ms < min.ms || ms > max.ms) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration from ${min.text} to ${max.text} (like 90s, 15m, 1h, 2d)` });
      return 0;
    }
    return ms;
  });

const integer = (fallback: number, min: number, max: number) =>
  optional.transform((v, ctx) => {
    // Digits only: Number() would also take `0x10`, `1e3` or `1.0`, which nobody means here.
    const n = v === undefined ? fallback : /^\d{1,9}$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `"${v}" must be a whole number from ${min} to ${max}` });
    }
    return n;
  });

const httpUrl = optional.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL');

const schema = z.object({
  SLACK_BOT_TOKEN: optional
    .refine((v) => v !== undefined, 'is required')
    .refine((v) => v === undefined || v.startsWith('xoxb-'), 'must be a bot token (xoxb-…)'),
  SLACK_SIGNING_SECRET: optional,
  SLACK_APP_TOKEN: optional.refine((v) => v === undefined || v.startsWith('xapp-'), 'must be an app-level token (xapp-…)'),
  SLACK_API_URL: httpUrl,
  PORT: integer(3000, 0, 65535),
  REDIS_URL: optional.refine(
    (v) => v === undefined || /^(rediss?|redis\+sentinel|redis\+cluster):\/\//.test(v),
    'must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL',
  ),
  REDIS_KEY_PREFIX: optional,
  INTERCOM_ACCESS_TOKEN: optional,
  INTERCOM_API_URL: optional.transform((v, ctx) => {
    try {
      return resolveIntercomBaseUrl(v ?? 'us');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^INTERCOM_API_URL /, '') });
      return '';
    }
  }),
  VAULT_ADDR: httpUrl.refine((v) => v !== undefined, 'is required'),
  VAULT_TOKEN: optional,
  VAULT_ROLE_ID: optional,
  VAULT_SECRET_ID: optional,
  VAULT_APPROLE_MOUNT: optional,
  VAULT_K8S_ROLE: optional,
  VAULT_K8S_MOUNT: optional,
  VAULT_K8S_TOKEN_PATH: optional,
  VAULT_NAMESPACE: optional,
  VAULT_KV_MOUNT: optional.refine((v) => v === undefined || /^[\w.-]+(\/[\w.-]+)*$/.test(v), 'must be a mount path like secret'),
  VAULT_PATH_PREFIX: optional.refine((v) => v === undefined || /^[\w.-]+(\/[\w.-]+)*$/.test(v), 'must be a relative path like intercom/identity-verification'),
  VAULT_CACERT: optional,
  VAULT_SKIP_VERIFY: optional.refine((v) => v === undefined || v === 'false', 'is not supported: TLS to Vault is always verified (use VAULT_CACERT)'),
  IVS_WORKSPACE: optional.refine((v) => v === undefined || /^[\w.-]{1,64}$/.test(v), 'must be 1–64 letters, digits, dots, dashes or underscores'),
  IVS_CHANNELS: idList(CHANNEL_ID, 'channel ids (C…/G…)'),
  IVS_REQUESTERS: idList(new RegExp(`${USER_ID.source}|${GROUP_ID.source}`), 'user (U…/W…) or user-group (S…) ids'),
  IVS_APPROVERS: idList(new RegExp(`${USER_ID.source}|${GROUP_ID.source}`), 'user (U…/W…) or user-group (S…) ids'),
  IVS_APPROVALS_REQUIRED: integer(1, 1, 10),
  IVS_REQUEST_TTL: duration('1h'),
  // Signers may need weeks to roll a secret out; longer than a quarter is a rotation nobody finishes.
  IVS_MIN_OVERLAP: duration('1h', undefined, { ms: 90 * DAY_MS, text: '90d' }),
  IVS_CONFIG: optional,
  IVS_MAX_OPEN_REQUESTS: integer(3, 1, 50),
  // At most 1m: a longer-lived list would hide changes made outside the bot.
  IVS_LIST_MAX_AGE: duration('5s', { ms: 0, text: '0s' }, { ms: 60_000, text: '1m' }),
  // SPEC §10. A policy shorter than a day would nag about secrets minutes old; ten years is the
  // longest that still means something. Reminders more often than hourly would be noise.
  IVS_ROTATE_AFTER: boundedOptionalDuration({ ms: DAY_MS, text: '1d' }, { ms: 3650 * DAY_MS, text: '3650d' }),
  IVS_REMINDER_INTERVAL: boundedDuration('7d', { ms: 3_600_000, text: '1h' }, { ms: 365 * DAY_MS, text: '365d' }),
  IVS_FINISH_REMINDER: boundedDuration('3d', { ms: 3_600_000, text: '1h' }, { ms: 365 * DAY_MS, text: '365d' }),
  // A request is readable for 30 days after it ends, and its card is rendered from it.
  IVS_DELIVERY_MAX_AGE: boundedDuration('24h', { ms: 60_000, text: '1m' }, { ms: 30 * DAY_MS, text: '30d' }),
  LOG_LEVEL: optional.refine((v) => v === undefined || (LOG_LEVELS as readonly string[]).includes(v), `must be one of ${LOG_LEVELS.join(', ')}`),
  IVS_SANDBOX_CLOCK_FILE: optional,
  DEBUG: optional.refine((v) => v === undefined || !/node-vault|\*/.test(v), 'must not enable node-vault debug output (it logs secret payloads)'),
});

export function loadConfig(env: Env): ConfigResult {
  const parsed = schema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.success ? parsed.data : undefined;

  // Cross-field rules, checked on the raw values so they are reported even when others failed.
  const raw = (k: string) => (env[k] ?? '').trim() || undefined;
  const configFile = raw('IVS_CONFIG');
  let fileWorkspaces: readonly WorkspaceConfig[] | undefined;
  if (configFile) {
    // One source per workspace setting: a value in the environment next to the file would be
    // silently ignored or silently win, and either surprises someone. So it is refused.
    for (const key of PER_WORKSPACE_ENV) {
      if (raw(key)) problems.push(`${key} is set, but with IVS_CONFIG every workspace setting comes from ${configFile}: unset ${key}`);
    }
    const vaultPrefix = raw('VAULT_PATH_PREFIX');
    const loaded = loadWorkspacesFile(configFile, env, { vaultPathPrefix: vaultPrefix ?? DEFAULT_VAULT_PREFIX }, COMMAND_WORDS);
    if (loaded.ok) fileWorkspaces = loaded.workspaces;
    else problems.push(...loaded.problems);
  } else {
    if (!raw('INTERCOM_ACCESS_TOKEN')) problems.push('INTERCOM_ACCESS_TOKEN is required');
    const noIds = (k: string) => !(raw(k) ?? '').split(/[\s,]+/).some(Boolean);
    if (noIds('IVS_CHANNELS')) problems.push('IVS_CHANNELS is required: the bot answers nowhere else');
    if (noIds('IVS_APPROVERS')) problems.push('IVS_APPROVERS is required: without it, nothing can be approved');
  }
  if (!raw('SLACK_APP_TOKEN') && !raw('SLACK_SIGNING_SECRET')) {
    problems.push('SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  }
  const vaultAuths = [raw('VAULT_TOKEN'), raw('VAULT_ROLE_ID') ?? raw('VAULT_SECRET_ID'), raw('VAULT_K8S_ROLE')].filter(Boolean).length;
  if (vaultAuths === 0) problems.push('VAULT_TOKEN, VAULT_ROLE_ID + VAULT_SECRET_ID, or VAULT_K8S_ROLE is required');
  if (vaultAuths > 1) problems.push('set only one Vault auth method: VAULT_TOKEN, VAULT_ROLE_ID + VAULT_SECRET_ID, or VAULT_K8S_ROLE');
  if (Boolean(raw('VAULT_ROLE_ID')) !== Boolean(raw('VAULT_SECRET_ID'))) problems.push('VAULT_ROLE_ID and VAULT_SECRET_ID go together');

  // The sandbox moves the bot's clock; a production bot must never run on a clock someone can push.
  if (raw('IVS_SANDBOX_CLOCK_FILE') && raw('NODE_ENV') === 'production') {
    problems.push('IVS_SANDBOX_CLOCK_FILE is a sandbox setting (npm run sandbox) and is refused with NODE_ENV=production');
  }

  if (/^redis\+cluster:/.test(raw('REDIS_URL') ?? '') && !hashTag(raw('REDIS_KEY_PREFIX') ?? '')) {
    problems.push('REDIS_KEY_PREFIX must carry a hash tag, like {ivs}:, with Redis Cluster (the store updates several keys at once)');
  }

  let caPem: string | undefined;
  const caPath = raw('VAULT_CACERT');
  if (caPath) {
    try {
      caPem = readFileSync(caPath, 'utf8');
    } catch {
      problems.push(`VAULT_CACERT cannot read ${caPath}`);
    }
  }

  if (problems.length || !e) return { ok: false, problems };

  const approvers = e.IVS_APPROVERS ?? [];
  const pathPrefix = e.VAULT_PATH_PREFIX ?? DEFAULT_VAULT_PREFIX;
  // Without IVS_CONFIG: one workspace, exactly the first release's (same Redis keys, same Vault paths).
  const workspaces: readonly WorkspaceConfig[] = fileWorkspaces ?? [
    {
      name: e.IVS_WORKSPACE ?? 'default',
      intercom: { accessToken: e.INTERCOM_ACCESS_TOKEN ?? '', apiUrl: e.INTERCOM_API_URL },
      channels: e.IVS_CHANNELS ?? [],
      requesters: e.IVS_REQUESTERS ?? approvers,
      approvers,
      approvalsRequired: e.IVS_APPROVALS_REQUIRED,
      requestTtlMs: e.IVS_REQUEST_TTL,
      minOverlapMs: e.IVS_MIN_OVERLAP,
      ...(e.IVS_ROTATE_AFTER !== undefined ? { rotateAfterMs: e.IVS_ROTATE_AFTER } : {}),
      vaultPathPrefix: pathPrefix,
    },
  ];
  const auth: VaultAuth = e.VAULT_TOKEN
    ? { kind: 'token', token: e.VAULT_TOKEN }
    : e.VAULT_K8S_ROLE
      ? {
          kind: 'kubernetes',
          role: e.VAULT_K8S_ROLE,
          jwtPath: e.VAULT_K8S_TOKEN_PATH ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
          mount: e.VAULT_K8S_MOUNT ?? 'kubernetes',
        }
      : { kind: 'approle', roleId: e.VAULT_ROLE_ID ?? '', secretId: e.VAULT_SECRET_ID ?? '', mount: e.VAULT_APPROLE_MOUNT ?? 'approle' };

  const config: Config = {
    slack: {
      botToken: e.SLACK_BOT_TOKEN ?? '',
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: withTrailingSlash(e.SLACK_API_URL ?? 'https://slack.com/api/'),
    },
    port: e.PORT,
    redis: { url: e.REDIS_URL ?? 'redis://127.0.0.1:6379', keyPrefix: e.REDIS_KEY_PREFIX ?? 'ivs:' },
    vault: {
      addr: (e.VAULT_ADDR ?? '').replace(/\/+$/, ''),
      auth,
      namespace: e.VAULT_NAMESPACE,
      kvMount: e.VAULT_KV_MOUNT ?? 'secret',
      pathPrefix,
      caPem,
    },
    workspaces,
    ivs: {
      ...(configFile ? { configFile } : {}),
      maxOpenPerRequester: e.IVS_MAX_OPEN_REQUESTS,
      listMaxAgeMs: e.IVS_LIST_MAX_AGE,
      reminderIntervalMs: e.IVS_REMINDER_INTERVAL,
      finishReminderMs: e.IVS_FINISH_REMINDER,
      deliveryMaxAgeMs: e.IVS_DELIVERY_MAX_AGE,
    },
    logLevel: (e.LOG_LEVEL ?? 'info') as Config['logLevel'],
    ...(e.IVS_SANDBOX_CLOCK_FILE ? { sandbox: { clockFile: e.IVS_SANDBOX_CLOCK_FILE } } : {}),
    secrets: [
      e.SLACK_BOT_TOKEN,
      e.SLACK_SIGNING_SECRET,
      e.SLACK_APP_TOKEN,
      e.INTERCOM_ACCESS_TOKEN,
      ...workspaces.map((w) => w.intercom.accessToken),
      e.VAULT_TOKEN,
      e.VAULT_SECRET_ID,
    ].filter((s, i, all): s is string => Boolean(s) && all.indexOf(s) === i),
  };
  return { ok: true, config };
}

/** The hash tag Redis Cluster hashes a key by: between the first `{` and the first `}` after it, if not empty. */
function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Settings that work but deserve a warning at start: plain http to a host other than this one
 * carries the Vault token and the material, or the Intercom token, unencrypted across the network.
 */
export function configWarnings(config: Config): string[] {
  const plainRemote = (url: string) => {
    try {
      const u = new URL(url);
      return u.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
    } catch {
      return false;
    }
  };
  const warnings: string[] = [];
  if (plainRemote(config.vault.addr))
    warnings.push('VAULT_ADDR is plain http to another host: the Vault token and the secret material cross the network unencrypted');
  for (const w of config.workspaces) {
    if (!plainRemote(w.intercom.apiUrl)) continue;
    const setting = config.ivs.configFile ? `workspace ${w.name}'s intercom.url` : 'INTERCOM_API_URL';
    warnings.push(`${setting} is plain http to another host: the Intercom token and the secret material cross the network unencrypted`);
  }
  return warnings;
}

/** The one-message report main prints before exiting 1. */
export function describeProblems(problems: readonly string[]): string {
  return `ivs-bot cannot start: the configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems
    .map((p) => `  - ${p}`)
    .join('\n')}\nSee README.md "Settings".\n`;
}
