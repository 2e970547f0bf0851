import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWarnings, describeProblems, loadConfig, type Config } from '../src/config';
import { parseDuration } from '../src/duration';

/** The smallest environment that starts the bot in HTTP mode with a Vault token. */
const MINIMAL: Readonly<Record<string, string>> = {
  SLACK_BOT_TOKEN: 'xoxb-test-bot-token',
  SLACK_SIGNING_SECRET: 'test-signing-secret',
  INTERCOM_ACCESS_TOKEN: 'test-intercom-token',
  VAULT_ADDR: 'https://vault.example.com:8200',
  VAULT_TOKEN: 'test-vault-token',
  IVS_CHANNELS: 'C0123ABC',
  IVS_APPROVERS: 'U0AAA,U0BBB',
};

function configOf(env: Record<string, string | undefined>): Config {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.problems.join('; ')}`);
  return result.config;
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  const result = loadConfig(env);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.problems;
}

/** Problems of MINIMAL with some settings changed (`undefined` removes one). */
const problemsWith = (changes: Record<string, string | undefined>) => problemsOf({ ...MINIMAL, ...changes });
const configWith = (changes: Record<string, string | undefined>) => configOf({ ...MINIMAL, ...changes });

describe('loadConfig defaults', () => {
  it('fills every optional setting with the documented default', () => {
    const config = configOf(MINIMAL);
    expect(config.port).toBe(3000);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', keyPrefix: 'ivs:' });
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.slack.appToken).toBeUndefined();
    expect(config.workspaces[0]?.intercom.apiUrl).toBe('https://api.intercom.io');
    expect(config.vault.kvMount).toBe('secret');
    expect(config.vault.pathPrefix).toBe('intercom/identity-verification');
    expect(config.vault.namespace).toBeUndefined();
    expect(config.vault.caPem).toBeUndefined();
    expect(config.workspaces[0]?.name).toBe('default');
    expect(config.workspaces[0]?.approvalsRequired).toBe(1);
    expect(config.workspaces[0]?.requestTtlMs).toBe(3_600_000);
    expect(config.workspaces[0]?.minOverlapMs).toBe(3_600_000);
    expect(config.ivs.maxOpenPerRequester).toBe(3);
    expect(config.ivs.listMaxAgeMs).toBe(5_000);
    expect(config.logLevel).toBe('info');
  });

  it('lets requesters default to the approvers', () => {
    const config = configOf(MINIMAL);
    expect(config.workspaces[0]?.approvers).toEqual(['U0AAA', 'U0BBB']);
    expect(config.workspaces[0]?.requesters).toEqual(['U0AAA', 'U0BBB']);
  });

  it('keeps requesters separate when IVS_REQUESTERS is set', () => {
    const config = configWith({ IVS_REQUESTERS: 'U0CCC S0GROUP' });
    expect(config.workspaces[0]?.requesters).toEqual(['U0CCC', 'S0GROUP']);
    expect(config.workspaces[0]?.approvers).toEqual(['U0AAA', 'U0BBB']);
  });

  it('treats an empty or blank setting as unset, so the default applies', () => {
    const config = configWith({ PORT: '', IVS_REQUEST_TTL: '  ', IVS_REQUESTERS: '', VAULT_KV_MOUNT: '' });
    expect(config.port).toBe(3000);
    expect(config.workspaces[0]?.requestTtlMs).toBe(3_600_000);
    expect(config.workspaces[0]?.requesters).toEqual(['U0AAA', 'U0BBB']);
    expect(config.vault.kvMount).toBe('secret');
  });

  it('takes every setting given explicitly', () => {
    const config = configWith({
      PORT: '8080',
      REDIS_URL: 'rediss://redis.internal:6380/2',
      REDIS_KEY_PREFIX: 'prod-ivs:',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      VAULT_NAMESPACE: 'admin/ops',
      VAULT_KV_MOUNT: 'kv/ops',
      VAULT_PATH_PREFIX: 'intercom/ivs',
      IVS_WORKSPACE: 'eu-prod',
      IVS_CHANNELS: 'C0AAA, G0BBB',
      IVS_APPROVALS_REQUIRED: '2',
      IVS_REQUEST_TTL: '15m',
      IVS_MIN_OVERLAP: '2d',
      IVS_MAX_OPEN_REQUESTS: '5',
      LOG_LEVEL: 'debug',
    });
    expect(config.port).toBe(8080);
    expect(config.redis).toEqual({ url: 'rediss://redis.internal:6380/2', keyPrefix: 'prod-ivs:' });
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:9999/api/');
    expect(config.vault).toMatchObject({ namespace: 'admin/ops', kvMount: 'kv/ops', pathPrefix: 'intercom/ivs' });
    expect(config.workspaces).toHaveLength(1);
    expect(config.workspaces[0]).toMatchObject({
      name: 'eu-prod',
      channels: ['C0AAA', 'G0BBB'],
      approvalsRequired: 2,
      requestTtlMs: 15 * 60_000,
      minOverlapMs: 2 * 86_400_000,
      vaultPathPrefix: 'intercom/ivs',
    });
    expect(config.ivs).toMatchObject({ maxOpenPerRequester: 5 });
    expect(config.logLevel).toBe('debug');
  });
});

describe('INTERCOM_API_URL', () => {
  it.each([
    ['us', 'https://api.intercom.io'],
    ['eu', 'https://api.eu.intercom.io'],
    ['au', 'https://api.au.intercom.io'],
    ['http://127.0.0.1:4010/', 'http://127.0.0.1:4010'],
    ['https://intercom-proxy.internal', 'https://intercom-proxy.internal'],
  ])('%s resolves to %s', (setting, url) => {
    expect(configWith({ INTERCOM_API_URL: setting }).workspaces[0]?.intercom.apiUrl).toBe(url);
  });

  it.each(['uk', 'ftp://api.intercom.io', 'constructor', 'toString'])('refuses %s', (setting) => {
    const problems = problemsWith({ INTERCOM_API_URL: setting });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^INTERCOM_API_URL must be us, eu, au or a full http\(s\) URL/);
  });
});

describe('approvals', () => {
  it('refuses IVS_APPROVALS_REQUIRED=0: a request nobody approves is no two-person rule', () => {
    expect(problemsWith({ IVS_APPROVALS_REQUIRED: '0' })).toEqual(['IVS_APPROVALS_REQUIRED "0" must be a whole number from 1 to 10']);
  });

  it.each(['-1', '1.5', 'two', '0x2', '1e1', '11'])('refuses IVS_APPROVALS_REQUIRED=%s', (value) => {
    expect(problemsWith({ IVS_APPROVALS_REQUIRED: value })).toEqual([`IVS_APPROVALS_REQUIRED "${value}" must be a whole number from 1 to 10`]);
  });

  it('refuses an IVS_MAX_OPEN_REQUESTS below 1', () => {
    expect(problemsWith({ IVS_MAX_OPEN_REQUESTS: '0' })).toEqual(['IVS_MAX_OPEN_REQUESTS "0" must be a whole number from 1 to 50']);
  });

  it.each(['65536', 'http', '80.5'])('refuses PORT=%s', (value) => {
    expect(problemsWith({ PORT: value })).toEqual([`PORT "${value}" must be a whole number from 0 to 65535`]);
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1s', 1_000],
  ])('accepts %s as a request TTL and an overlap', (value, ms) => {
    const config = configWith({ IVS_REQUEST_TTL: value, IVS_MIN_OVERLAP: value });
    expect(config.workspaces[0]?.requestTtlMs).toBe(ms);
    expect(config.workspaces[0]?.minOverlapMs).toBe(ms);
  });

  it.each(['0s', '1ms', '5x', '1.5h', '1h30m', '-1h', 'h'])('refuses %s, naming the value and the expected shape', (value) => {
    expect(problemsWith({ IVS_REQUEST_TTL: value, IVS_MIN_OVERLAP: value })).toEqual([
      `IVS_REQUEST_TTL "${value}" is not a duration from 1s to 30d (like 90s, 15m, 1h, 2d)`,
      `IVS_MIN_OVERLAP "${value}" is not a duration from 1s to 90d (like 90s, 15m, 1h, 2d)`,
    ]);
  });

  it('bounds every duration from above: a request TTL of at most 30d, an overlap of at most 90d', () => {
    expect(configWith({ IVS_REQUEST_TTL: '30d', IVS_MIN_OVERLAP: '90d' }).workspaces[0]).toMatchObject({
      requestTtlMs: 30 * 86_400_000,
      minOverlapMs: 90 * 86_400_000,
    });
    // 100000000d is about 274,000 years: beyond what a Date holds, so no card could render it.
    expect(problemsWith({ IVS_REQUEST_TTL: '100000000d', IVS_MIN_OVERLAP: '999999999d' })).toEqual([
      'IVS_REQUEST_TTL "100000000d" is not a duration from 1s to 30d (like 90s, 15m, 1h, 2d)',
      'IVS_MIN_OVERLAP "999999999d" is not a duration from 1s to 90d (like 90s, 15m, 1h, 2d)',
    ]);
    expect(problemsWith({ IVS_REQUEST_TTL: '31d', IVS_MIN_OVERLAP: '2161h' })).toHaveLength(2);
  });

  it.each([
    ['0s', 0],
    ['30s', 30_000],
    ['1m', 60_000],
  ])('accepts IVS_LIST_MAX_AGE=%s (0s: every /ivs list asks Intercom)', (value, ms) => {
    expect(configWith({ IVS_LIST_MAX_AGE: value }).ivs.listMaxAgeMs).toBe(ms);
  });

  it('IVS_DELIVERY_MAX_AGE defaults to 24h and takes any duration from 1m to 30d', () => {
    expect(configWith({}).ivs.deliveryMaxAgeMs).toBe(24 * 3_600_000);
    expect(configWith({ IVS_DELIVERY_MAX_AGE: '90m' }).ivs.deliveryMaxAgeMs).toBe(90 * 60_000);
    expect(configWith({ IVS_DELIVERY_MAX_AGE: '30d' }).ivs.deliveryMaxAgeMs).toBe(30 * 86_400_000);
  });

  it('refuses an IVS_DELIVERY_MAX_AGE below 1m, above 30d or malformed, saying why', () => {
    for (const value of ['30s', '31d', 'a day']) {
      expect(problemsWith({ IVS_DELIVERY_MAX_AGE: value })).toEqual([`IVS_DELIVERY_MAX_AGE "${value}" is not a duration from 1m to 30d (like 12h, 3d, 7d)`]);
    }
  });

  it('refuses an IVS_LIST_MAX_AGE above 1m or malformed, saying why', () => {
    expect(problemsWith({ IVS_LIST_MAX_AGE: '2m' })).toEqual(['IVS_LIST_MAX_AGE "2m" is not a duration from 0s to 1m (like 90s, 15m, 1h, 2d)']);
    expect(problemsWith({ IVS_LIST_MAX_AGE: '5 seconds' })).toEqual(['IVS_LIST_MAX_AGE "5 seconds" is not a duration from 0s to 1m (like 90s, 15m, 1h, 2d)']);
  });

  it('has no rotation policy unless IVS_ROTATE_AFTER is set; reminders every 7d, finish reminders after 3d by default', () => {
    const ivs = configOf(MINIMAL).ivs;
    expect(configOf(MINIMAL).workspaces[0]?.rotateAfterMs).toBeUndefined();
    expect(ivs.reminderIntervalMs).toBe(7 * 86_400_000);
    expect(ivs.finishReminderMs).toBe(3 * 86_400_000);
    expect(configWith({ IVS_ROTATE_AFTER: '   ' }).workspaces[0]?.rotateAfterMs).toBeUndefined();
  });

  it('reads IVS_ROTATE_AFTER, IVS_REMINDER_INTERVAL and IVS_FINISH_REMINDER', () => {
    const config = configWith({ IVS_ROTATE_AFTER: '365d', IVS_REMINDER_INTERVAL: '1d', IVS_FINISH_REMINDER: '12h' });
    const ivs = config.ivs;
    expect(config.workspaces[0]?.rotateAfterMs).toBe(365 * 86_400_000);
    expect(ivs.reminderIntervalMs).toBe(86_400_000);
    expect(ivs.finishReminderMs).toBe(12 * 3_600_000);
  });

  it('refuses rotation settings out of bounds or malformed, each named', () => {
    expect(problemsWith({ IVS_ROTATE_AFTER: '12h', IVS_REMINDER_INTERVAL: '30m', IVS_FINISH_REMINDER: '999999999d' })).toEqual([
      'IVS_ROTATE_AFTER "12h" is not a duration from 1d to 3650d (like 90d, 365d)',
      'IVS_REMINDER_INTERVAL "30m" is not a duration from 1h to 365d (like 12h, 3d, 7d)',
      'IVS_FINISH_REMINDER "999999999d" is not a duration from 1h to 365d (like 12h, 3d, 7d)',
    ]);
    expect(problemsWith({ IVS_ROTATE_AFTER: '1 year' })).toEqual(['IVS_ROTATE_AFTER "1 year" is not a duration from 1d to 3650d (like 90d, 365d)']);
    expect(problemsWith({ IVS_ROTATE_AFTER: '3651d' })).toHaveLength(1);
  });

  it('does not parse an empty duration (an empty setting means "unset" before it gets here)', () => {
    expect(parseDuration('')).toBeNull();
    expect(parseDuration('   ')).toBeNull();
  });
});

describe('Slack, channel and user ids', () => {
  it('names each malformed channel id', () => {
    expect(problemsWith({ IVS_CHANNELS: 'C0123ABC,#ops,general' })).toEqual(['IVS_CHANNELS not channel ids (C…/G…): #ops, general']);
  });

  it('names each malformed user or group id, in approvers and requesters alike', () => {
    expect(problemsWith({ IVS_APPROVERS: 'U0AAA,@alice', IVS_REQUESTERS: 'S0OPS bob C0123ABC' })).toEqual([
      'IVS_REQUESTERS not user (U…/W…) or user-group (S…) ids: bob, C0123ABC',
      'IVS_APPROVERS not user (U…/W…) or user-group (S…) ids: @alice',
    ]);
  });

  it('accepts user ids U…/W… and group ids S… separated by commas or spaces', () => {
    expect(configWith({ IVS_APPROVERS: 'U0AAA, W0BBB  S0CCC' }).workspaces[0]?.approvers).toEqual(['U0AAA', 'W0BBB', 'S0CCC']);
  });

  it('requires channels and approvers, saying why', () => {
    expect(problemsWith({ IVS_CHANNELS: undefined, IVS_APPROVERS: ' ' })).toEqual([
      'IVS_CHANNELS is required: the bot answers nowhere else',
      'IVS_APPROVERS is required: without it, nothing can be approved',
    ]);
  });

  it('refuses tokens of the wrong kind', () => {
    expect(problemsWith({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_APP_TOKEN: 'xoxb-not-an-app-token' })).toEqual([
      'SLACK_BOT_TOKEN must be a bot token (xoxb-…)',
      'SLACK_APP_TOKEN must be an app-level token (xapp-…)',
    ]);
  });

  it('requires the signing secret in HTTP mode', () => {
    expect(problemsWith({ SLACK_SIGNING_SECRET: undefined })).toEqual([
      'SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    ]);
  });

  it('runs in Socket Mode without a signing secret when SLACK_APP_TOKEN is set', () => {
    const config = configWith({ SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: 'xapp-1-test-app-token' });
    expect(config.slack.appToken).toBe('xapp-1-test-app-token');
    expect(config.slack.signingSecret).toBeUndefined();
  });

  it('refuses malformed URLs for Slack and Redis', () => {
    expect(problemsWith({ SLACK_API_URL: 'slack.com/api', REDIS_URL: 'http://redis:6379' })).toEqual([
      'SLACK_API_URL must be an http(s) URL',
      'REDIS_URL must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL',
    ]);
  });

  it('with Redis Cluster, insists on a key prefix with a hash tag', () => {
    expect(problemsWith({ REDIS_URL: 'redis+cluster://10.0.0.1:6379' })).toEqual([
      'REDIS_KEY_PREFIX must carry a hash tag, like {ivs}:, with Redis Cluster (the store updates several keys at once)',
    ]);
    expect(configWith({ REDIS_URL: 'redis+cluster://10.0.0.1:6379', REDIS_KEY_PREFIX: '{ivs}:' }).redis.keyPrefix).toBe('{ivs}:');
  });

  it.each(['{}{ivs}:', 'ivs}{:', '{ivs:'])('with Redis Cluster, refuses %s: Redis would not hash it by one tag', (prefix) => {
    expect(problemsWith({ REDIS_URL: 'redis+cluster://10.0.0.1:6379', REDIS_KEY_PREFIX: prefix })).toEqual([
      'REDIS_KEY_PREFIX must carry a hash tag, like {ivs}:, with Redis Cluster (the store updates several keys at once)',
    ]);
  });

  it('accepts a Sentinel URL', () => {
    expect(configWith({ REDIS_URL: 'redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster' }).redis.url).toBe(
      'redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster',
    );
  });
});

describe('Vault', () => {
  const noVaultAuth = { VAULT_TOKEN: undefined };

  it('uses a token when VAULT_TOKEN is set', () => {
    expect(configOf(MINIMAL).vault.auth).toEqual({ kind: 'token', token: 'test-vault-token' });
  });

  it('uses AppRole with ROLE_ID + SECRET_ID, on the approle mount unless told otherwise', () => {
    expect(configWith({ ...noVaultAuth, VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'secret-1' }).vault.auth).toEqual({
      kind: 'approle',
      roleId: 'role-1',
      secretId: 'secret-1',
      mount: 'approle',
    });
    expect(configWith({ ...noVaultAuth, VAULT_ROLE_ID: 'r', VAULT_SECRET_ID: 's', VAULT_APPROLE_MOUNT: 'approle-ivs' }).vault.auth).toMatchObject({
      mount: 'approle-ivs',
    });
  });

  it('uses Kubernetes auth with the service-account token file by default', () => {
    expect(configWith({ ...noVaultAuth, VAULT_K8S_ROLE: 'ivs-bot' }).vault.auth).toEqual({
      kind: 'kubernetes',
      role: 'ivs-bot',
      jwtPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      mount: 'kubernetes',
    });
    expect(
      configWith({ ...noVaultAuth, VAULT_K8S_ROLE: 'ivs-bot', VAULT_K8S_MOUNT: 'k8s-prod', VAULT_K8S_TOKEN_PATH: '/var/run/vault/token' }).vault.auth,
    ).toEqual({ kind: 'kubernetes', role: 'ivs-bot', jwtPath: '/var/run/vault/token', mount: 'k8s-prod' });
  });

  it('requires one auth method', () => {
    expect(problemsWith(noVaultAuth)).toEqual(['VAULT_TOKEN, VAULT_ROLE_ID + VAULT_SECRET_ID, or VAULT_K8S_ROLE is required']);
  });

  it('refuses two auth methods at once', () => {
    expect(problemsWith({ VAULT_K8S_ROLE: 'ivs-bot' })).toEqual([
      'set only one Vault auth method: VAULT_TOKEN, VAULT_ROLE_ID + VAULT_SECRET_ID, or VAULT_K8S_ROLE',
    ]);
  });

  it('refuses an AppRole role id without its secret id, and the reverse', () => {
    expect(problemsWith({ ...noVaultAuth, VAULT_ROLE_ID: 'role-1' })).toEqual(['VAULT_ROLE_ID and VAULT_SECRET_ID go together']);
    expect(problemsWith({ ...noVaultAuth, VAULT_SECRET_ID: 'secret-1' })).toEqual(['VAULT_ROLE_ID and VAULT_SECRET_ID go together']);
  });

  it('requires VAULT_ADDR as an http(s) URL, without a trailing slash afterwards', () => {
    expect(problemsWith({ VAULT_ADDR: undefined })).toEqual(['VAULT_ADDR is required']);
    expect(problemsWith({ VAULT_ADDR: 'vault:8200' })).toEqual(['VAULT_ADDR must be an http(s) URL']);
    expect(configWith({ VAULT_ADDR: 'https://vault:8200/' }).vault.addr).toBe('https://vault:8200');
  });

  it('refuses VAULT_SKIP_VERIFY: TLS to Vault is always verified', () => {
    expect(problemsWith({ VAULT_SKIP_VERIFY: 'true' })).toEqual(['VAULT_SKIP_VERIFY is not supported: TLS to Vault is always verified (use VAULT_CACERT)']);
    expect(configWith({ VAULT_SKIP_VERIFY: 'false' }).vault.addr).toBe('https://vault.example.com:8200');
  });

  it.each(['node-vault', 'express,node-vault', '*'])('refuses DEBUG=%s, which would print secret payloads', (value) => {
    expect(problemsWith({ DEBUG: value })).toEqual(['DEBUG must not enable node-vault debug output (it logs secret payloads)']);
  });

  it('reads the CA bundle named by VAULT_CACERT, and names the file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivs-config-'));
    try {
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n');
      expect(configWith({ VAULT_CACERT: ca }).vault.caPem).toContain('BEGIN CERTIFICATE');
      const missing = join(dir, 'missing.pem');
      expect(problemsWith({ VAULT_CACERT: missing })).toEqual([`VAULT_CACERT cannot read ${missing}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses mount and prefix paths that could walk out of the layout', () => {
    expect(problemsWith({ VAULT_KV_MOUNT: '/secret', VAULT_PATH_PREFIX: 'a//b', IVS_WORKSPACE: 'eu/prod' })).toEqual([
      'VAULT_KV_MOUNT must be a mount path like secret',
      'VAULT_PATH_PREFIX must be a relative path like intercom/identity-verification',
      'IVS_WORKSPACE must be 1–64 letters, digits, dots, dashes or underscores',
    ]);
  });
});

describe('warnings at start', () => {
  it('warns about plain http to another host, not to this one', () => {
    expect(configWarnings(configWith({ VAULT_ADDR: 'http://127.0.0.1:8200', INTERCOM_API_URL: 'http://localhost:4010' }))).toEqual([]);
    expect(configWarnings(configWith({ VAULT_ADDR: 'https://vault.example.com' }))).toEqual([]);
    const warnings = configWarnings(configWith({ VAULT_ADDR: 'http://vault.vault.svc:8200', INTERCOM_API_URL: 'http://intercom-proxy.internal' }));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/VAULT_ADDR is plain http to another host/);
    expect(warnings[1]).toMatch(/INTERCOM_API_URL is plain http/);
  });
});

describe('secrets for the logger', () => {
  it('lists every credential value so the logger can redact it', () => {
    const config = configWith({ SLACK_APP_TOKEN: 'xapp-1-app', VAULT_TOKEN: undefined, VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'approle-secret' });
    expect([...config.secrets].sort()).toEqual(['xoxb-test-bot-token', 'test-signing-secret', 'xapp-1-app', 'test-intercom-token', 'approle-secret'].sort());
    expect(configOf(MINIMAL).secrets).toContain('test-vault-token');
  });

  it('refuses an unknown LOG_LEVEL', () => {
    expect(problemsWith({ LOG_LEVEL: 'verbose' })).toEqual(['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent']);
  });
});

describe('describeProblems', () => {
  it('reports every problem of an empty environment together, in one message', () => {
    const problems = problemsOf({});
    const message = describeProblems(problems);
    for (const setting of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'INTERCOM_ACCESS_TOKEN', 'VAULT_ADDR', 'VAULT_TOKEN', 'IVS_CHANNELS', 'IVS_APPROVERS']) {
      expect(message).toContain(setting);
    }
    expect(message.startsWith(`ivs-bot cannot start: the configuration has ${problems.length} problems:\n`)).toBe(true);
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(problems.length);
    expect(message).toContain('README.md "Settings"');
  });

  it('reports schema problems and cross-field problems of the same environment together', () => {
    const problems = problemsWith({
      IVS_APPROVALS_REQUIRED: '0',
      IVS_REQUEST_TTL: '5x',
      IVS_CHANNELS: 'general',
      VAULT_SKIP_VERIFY: '1',
      DEBUG: 'node-vault',
      SLACK_SIGNING_SECRET: undefined,
      VAULT_ROLE_ID: 'role-only',
    });
    expect(problems).toEqual([
      'VAULT_SKIP_VERIFY is not supported: TLS to Vault is always verified (use VAULT_CACERT)',
      'IVS_CHANNELS not channel ids (C…/G…): general',
      'IVS_APPROVALS_REQUIRED "0" must be a whole number from 1 to 10',
      'IVS_REQUEST_TTL "5x" is not a duration from 1s to 30d (like 90s, 15m, 1h, 2d)',
      'DEBUG must not enable node-vault debug output (it logs secret payloads)',
      'SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      'set only one Vault auth method: VAULT_TOKEN, VAULT_ROLE_ID + VAULT_SECRET_ID, or VAULT_K8S_ROLE',
      'VAULT_ROLE_ID and VAULT_SECRET_ID go together',
    ]);
    expect(describeProblems(problems)).toMatch(/^ivs-bot cannot start: the configuration has 8 problems:\n/);
  });

  it('speaks of one problem in the singular', () => {
    expect(describeProblems(['PORT is wrong'])).toBe('ivs-bot cannot start: the configuration has 1 problem:\n  - PORT is wrong\nSee README.md "Settings".\n');
  });

  it('never repeats a secret value in a problem message', () => {
    const message = describeProblems(problemsWith({ SLACK_BOT_TOKEN: 'xoxp-leaky-user-token', IVS_CHANNELS: 'bad' }));
    expect(message).not.toContain('xoxp-leaky-user-token');
  });
});
