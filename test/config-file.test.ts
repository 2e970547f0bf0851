import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeProblems, loadConfig, type Config } from '../src/config';

/** The global settings; the workspaces come from the file. */
const GLOBAL: Readonly<Record<string, string>> = {
  SLACK_BOT_TOKEN: 'xoxb-test-bot-token',
  SLACK_SIGNING_SECRET: 'test-signing-secret',
  VAULT_ADDR: 'https://vault.example.com:8200',
  VAULT_TOKEN: 'test-vault-token',
  IC_US: 'us-intercom-token-0123',
  IC_EU: 'eu-intercom-token-4567',
};

const dir = mkdtempSync(join(tmpdir(), 'ivs-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function file(text: string): string {
  const path = join(dir, `ws-${++files}.yaml`);
  writeFileSync(path, text);
  return path;
}

const TWO = `
workspaces:
  - name: us
    intercom:
      region: us
      token_env: IC_US
    channels: [C0OPS]
    requesters: [U0AAA, S0OPS]
    approvers: [U0AAA, U0BBB]
  - name: eu
    intercom:
      url: https://api.eu.intercom.io
      token_env: IC_EU
    channels: [C0OPS, C0EU]
    requesters: [U0AAA]
    approvers: [U0CCC, U0DDD]
    approvals_required: 2
    request_ttl: 30m
    min_overlap: 2d
    rotate_after: 90d
    vault_path_prefix: intercom/eu-ivs
`;

function loaded(yaml: string, env: Record<string, string | undefined> = {}): Config {
  const result = loadConfig({ ...GLOBAL, IVS_CONFIG: file(yaml), ...env });
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.problems.join('; ')}`);
  return result.config;
}

function problems(yaml: string, env: Record<string, string | undefined> = {}): string[] {
  const result = loadConfig({ ...GLOBAL, IVS_CONFIG: file(yaml), ...env });
  if (result.ok) throw new Error('expected the config to be refused');
  return result.problems;
}

/** TWO with one line of the eu entry replaced (`from` must occur once). */
function euWith(from: string, to: string): string {
  const at = TWO.indexOf(from, TWO.indexOf('- name: eu'));
  if (at < 0) throw new Error(`no ${from} in the eu entry`);
  return TWO.slice(0, at) + to + TWO.slice(at + from.length);
}

describe('IVS_CONFIG: a YAML file of workspaces', () => {
  it('reads every key of every workspace, with the defaults where a key is left out', () => {
    const config = loaded(TWO);
    expect(config.ivs.configFile).toMatch(/ws-\d+\.yaml$/);
    expect(config.workspaces).toEqual([
      {
        name: 'us',
        intercom: { accessToken: 'us-intercom-token-0123', apiUrl: 'https://api.intercom.io' },
        channels: ['C0OPS'],
        requesters: ['U0AAA', 'S0OPS'],
        approvers: ['U0AAA', 'U0BBB'],
        approvalsRequired: 1,
        requestTtlMs: 3_600_000,
        minOverlapMs: 3_600_000,
        vaultPathPrefix: 'intercom/identity-verification',
      },
      {
        name: 'eu',
        intercom: { accessToken: 'eu-intercom-token-4567', apiUrl: 'https://api.eu.intercom.io' },
        channels: ['C0OPS', 'C0EU'],
        requesters: ['U0AAA'],
        approvers: ['U0CCC', 'U0DDD'],
        approvalsRequired: 2,
        requestTtlMs: 30 * 60_000,
        minOverlapMs: 2 * 86_400_000,
        rotateAfterMs: 90 * 86_400_000,
        vaultPathPrefix: 'intercom/eu-ivs',
      },
    ]);
    // Every workspace's token is redacted from the logs like any credential.
    expect(config.secrets).toEqual(expect.arrayContaining(['us-intercom-token-0123', 'eu-intercom-token-4567']));
  });

  it('takes the global VAULT_PATH_PREFIX as the default prefix of every workspace', () => {
    expect(loaded(TWO, { VAULT_PATH_PREFIX: 'ivs' }).workspaces.map((w) => w.vaultPathPrefix)).toEqual(['ivs', 'intercom/eu-ivs']);
  });

  it('reads a token from token_file (a mounted Secret), trimmed', () => {
    const tokenPath = join(dir, 'eu-token');
    writeFileSync(tokenPath, 'file-intercom-token-89\n');
    expect(loaded(euWith('token_env: IC_EU', `token_file: ${tokenPath}`)).workspaces[1]?.intercom.accessToken).toBe('file-intercom-token-89');
  });

  it('without IVS_CONFIG the environment is one workspace named by IVS_WORKSPACE, as in the first release', () => {
    const result = loadConfig({
      ...GLOBAL,
      INTERCOM_ACCESS_TOKEN: 'env-token-0123',
      IVS_CHANNELS: 'C0OPS',
      IVS_APPROVERS: 'U0AAA,U0BBB',
      IVS_ROTATE_AFTER: '180d',
    });
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config.ivs.configFile).toBeUndefined();
    expect(result.config.workspaces).toEqual([
      expect.objectContaining({ name: 'default', channels: ['C0OPS'], rotateAfterMs: 180 * 86_400_000, vaultPathPrefix: 'intercom/identity-verification' }),
    ]);
  });

  it.each<[string, string, RegExp]>([
    [
      'an unknown key in a workspace',
      euWith('approvals_required: 2', 'aprovals_required: 2'),
      /workspaces\[1\] \(eu\): unknown key "aprovals_required" \(known: name, intercom, channels/,
    ],
    ['an unknown top-level key', `${TWO}\nchannels: [C0OPS]\n`, /unknown key "channels" \(the file has one key, workspaces\)/],
    [
      'the token itself in the file',
      euWith('token_env: IC_EU', 'token: eu-inline-token-999'),
      /workspaces\[1\] \(eu\)\.intercom\."token" is not a key: the token never goes in the file/,
    ],
    ['two workspaces of one name', euWith('name: eu', 'name: us'), /workspaces\[1\] has the same name us as workspaces\[0\]/],
    ['a subcommand word as a name', euWith('name: eu', 'name: list'), /workspaces\[1\] \(list\)\.name must not be a subcommand word \(list, create,/],
    ['a name with capitals', euWith('name: eu', 'name: EU'), /workspaces\[1\]\.name must be 1–32 of a-z, 0-9 and -/],
    ['a name too long', euWith('name: eu', `name: ${'e'.repeat(33)}`), /workspaces\[1\]\.name must be 1–32 of a-z, 0-9 and -/],
    ['no name', euWith('name: eu', 'nom: eu'), /workspaces\[1\]\.name is required/],
    [
      'region and url both',
      euWith('url: https://api.eu.intercom.io', 'url: https://api.eu.intercom.io\n      region: eu'),
      /\(eu\)\.intercom takes region or url, not both/,
    ],
    ['neither region nor url', euWith('      url: https://api.eu.intercom.io\n', ''), /\(eu\)\.intercom needs region \(us, eu, au\) or url/],
    ['an unknown region', euWith('url: https://api.eu.intercom.io', 'region: uk'), /\(eu\)\.intercom\.region must be one of us, eu, au/],
    [
      'a url that is not http(s)',
      euWith('url: https://api.eu.intercom.io', 'url: ftp://api.eu.intercom.io'),
      /\(eu\)\.intercom\.url must be a full http\(s\) URL/,
    ],
    [
      'a token_env that is unset',
      euWith('token_env: IC_EU', 'token_env: IC_NOWHERE'),
      /\(eu\)\.intercom\.token_env names IC_NOWHERE, which is not set \(or empty\)/,
    ],
    [
      'token_env and token_file both',
      euWith('token_env: IC_EU', 'token_env: IC_EU\n      token_file: /nowhere'),
      /\(eu\)\.intercom takes token_env or token_file, not both/,
    ],
    [
      'a token_file that cannot be read',
      euWith('token_env: IC_EU', 'token_file: /nowhere/eu-token'),
      /\(eu\)\.intercom\.token_file cannot read \/nowhere\/eu-token \(ENOENT\)/,
    ],
    ['no token at all', euWith('      token_env: IC_EU\n', ''), /\(eu\)\.intercom needs token_env/],
    [
      'a channel id that is not a channel id',
      euWith('channels: [C0OPS, C0EU]', 'channels: [C0OPS, "#eu-ops"]'),
      /\(eu\)\.channels not channel ids \(C…\/G…\): #eu-ops/,
    ],
    ['no channels', euWith('channels: [C0OPS, C0EU]', 'channels: []'), /\(eu\)\.channels must name at least one id/],
    [
      'a user id that is not one',
      euWith('approvers: [U0CCC, U0DDD]', 'approvers: [U0CCC, alice]'),
      /\(eu\)\.approvers not user \(U…\/W…\) or user-group \(S…\) ids: alice/,
    ],
    ['no requesters', euWith('    requesters: [U0AAA]\n', ''), /\(eu\)\.requesters is required/],
    ['no approvers', euWith('    approvers: [U0CCC, U0DDD]\n', ''), /\(eu\)\.approvers is required/],
    ['approvals_required 0', euWith('approvals_required: 2', 'approvals_required: 0'), /\(eu\)\.approvals_required must be a whole number from 1 to 10/],
    [
      'approvals_required as text',
      euWith('approvals_required: 2', 'approvals_required: "two"'),
      /\(eu\)\.approvals_required must be a whole number from 1 to 10/,
    ],
    ['a malformed duration', euWith('request_ttl: 30m', 'request_ttl: 30 minutes'), /\(eu\)\.request_ttl "30 minutes" is not a duration from 1s to 30d/],
    ['a request_ttl beyond the bound', euWith('request_ttl: 30m', 'request_ttl: 31d'), /\(eu\)\.request_ttl "31d" is not a duration from 1s to 30d/],
    ['a duration as a bare number', euWith('min_overlap: 2d', 'min_overlap: 3600'), /\(eu\)\.min_overlap is not a duration from 1s to 90d/],
    ['a malformed rotate_after', euWith('rotate_after: 90d', 'rotate_after: 0s'), /\(eu\)\.rotate_after "0s" is not a duration from 1d to 3650d/],
    [
      'a vault_path_prefix that is not relative',
      euWith('vault_path_prefix: intercom/eu-ivs', 'vault_path_prefix: /abs/../x'),
      /\(eu\)\.vault_path_prefix must be a relative path/,
    ],
    ['an empty list', 'workspaces: []\n', /workspaces must be a list of at least one workspace/],
    ['not YAML', 'workspaces: [\n', /is not valid YAML: \w+ at line \d+/],
    ['a duplicated key', euWith('channels: [C0OPS, C0EU]', 'channels: [C0OPS]\n    channels: [C0EU]'), /is not valid YAML: DUPLICATE_KEY at line \d+/],
  ])('refuses %s with a message that says where', (_what, yaml, expected) => {
    const found = problems(yaml);
    expect(
      found.some((p) => expected.test(p)),
      found.join('\n'),
    ).toBe(true);
  });

  it('names every problem of the file at once, in the one start-up message', () => {
    const yaml = euWith('approvals_required: 2', 'approvals_required: 0').replace('channels: [C0OPS]', 'channels: [ops]');
    const found = problems(yaml, { IVS_CHANNELS: 'C0OPS' });
    expect(found).toHaveLength(3);
    const message = describeProblems(found);
    expect(message).toContain('the configuration has 3 problems');
    expect(message).toContain('IVS_CHANNELS is set, but with IVS_CONFIG every workspace setting comes from');
    expect(message).toContain('(us).channels not channel ids');
    expect(message).toContain('(eu).approvals_required');
  });

  it('refuses per-workspace environment settings next to the file instead of guessing which one wins', () => {
    for (const key of [
      'IVS_WORKSPACE',
      'IVS_CHANNELS',
      'IVS_APPROVERS',
      'IVS_REQUESTERS',
      'IVS_APPROVALS_REQUIRED',
      'IVS_REQUEST_TTL',
      'IVS_MIN_OVERLAP',
      'IVS_ROTATE_AFTER',
      'INTERCOM_API_URL',
    ]) {
      expect(
        problems(TWO, {
          [key]:
            key === 'IVS_CHANNELS'
              ? 'C0OPS'
              : key === 'IVS_APPROVERS' || key === 'IVS_REQUESTERS'
                ? 'U0AAA'
                : key === 'INTERCOM_API_URL'
                  ? 'eu'
                  : key === 'IVS_APPROVALS_REQUIRED'
                    ? '1'
                    : key === 'IVS_WORKSPACE'
                      ? 'x'
                      : key === 'IVS_ROTATE_AFTER'
                        ? '365d'
                        : '1h',
        }),
      ).toEqual([expect.stringMatching(new RegExp(`^${key} is set, but with IVS_CONFIG every workspace setting comes from .*: unset ${key}$`))]);
    }
    // The Intercom token variable may well be one a token_env names.
    expect(
      loaded(euWith('token_env: IC_EU', 'token_env: INTERCOM_ACCESS_TOKEN'), { INTERCOM_ACCESS_TOKEN: 'named-by-token-env-0' }).workspaces[1]?.intercom
        .accessToken,
    ).toBe('named-by-token-env-0');
  });

  it('says so when the file cannot be read', () => {
    const result = loadConfig({ ...GLOBAL, IVS_CONFIG: join(dir, 'missing.yaml') });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([expect.stringMatching(/^IVS_CONFIG .*missing\.yaml cannot be read \(ENOENT\)$/)]);
  });

  it('never repeats a token in a problem message', () => {
    const tokenPath = join(dir, 'two-words');
    writeFileSync(tokenPath, 'secret-part-one secret-part-two');
    const found = problems(euWith('token_env: IC_EU', `token_file: ${tokenPath}`), { IC_US: 'us token with spaces' });
    const text = found.join('\n');
    expect(text).toContain('token_file');
    expect(text).toContain('token_env names IC_US, whose value contains whitespace');
    expect(text).not.toContain('secret-part');
    expect(text).not.toContain('with spaces');
  });
});
