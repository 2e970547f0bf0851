import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { webApi } from '@slack/bolt';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

// Slack's official v1 manifest schema (slackapi/manifest-schema), kept with the contracts.
const SCHEMA_PATHS = [join(ROOT, 'test/fixtures/slack-manifest.schema.json'), resolve(ROOT, '../shared/contracts/slack-manifest.schema.json')];

/** Bot scope each Web API method needs (contract slack.md §6.3); `[]` = none. */
const SCOPES_BY_METHOD: Readonly<Record<string, readonly string[]>> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'users.info': ['users:read'],
  'usergroups.users.list': ['usergroups:read'],
  'conversations.info': ['channels:read', 'groups:read'],
  'conversations.history': ['channels:history', 'groups:history'],
  'conversations.replies': ['channels:history', 'groups:history'],
  'views.open': [],
  'views.update': [],
  'views.push': [],
};

/** The methods SPEC's behaviour needs, whether or not src/ calls them yet. */
const METHODS_THE_BOT_USES = ['auth.test', 'chat.postMessage', 'chat.update', 'chat.postEphemeral', 'users.info', 'usergroups.users.list', 'views.open'];

/** Receiving `/ivs` needs `commands`, whatever the code calls. */
const ALWAYS_NEEDED = ['commands'];

type Manifest = {
  features: { slash_commands: Array<Record<string, unknown>>; bot_user?: Record<string, unknown> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: Record<string, unknown>; socket_mode_enabled?: boolean };
};

function loadManifest(): Manifest {
  return parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8')) as Manifest;
}

function validator(): { validate: (m: unknown) => boolean; errors: () => string } {
  const path = SCHEMA_PATHS.find((p) => existsSync(p));
  if (path === undefined) throw new Error(`Slack manifest schema not found in ${SCHEMA_PATHS.join(' or ')}`);
  // strict:false because the schema uses keywords Ajv does not know (e.g. `regex`); formats only annotate `$schema`.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(JSON.parse(readFileSync(path, 'utf8')) as object);
  return { validate: (m) => validate(m) === true, errors: () => ajv.errorsText(validate.errors) };
}

/** Every Web API method name WebClient knows (`chat.postMessage`, `usergroups.users.list`, …). */
function slackMethodNames(): string[] {
  const client = new webApi.WebClient('xoxb-none', { logLevel: webApi.LogLevel.ERROR });
  const notNamespaces = new Set(['logger', 'requestQueue', 'retryConfig', 'tlsConfig', 'axios', '_events']);
  const names: string[] = [];
  const walk = (obj: object, path: string[]) => {
    for (const [k, v] of Object.entries(obj)) {
      if (path.length === 0 && notNamespaces.has(k)) continue;
      if (typeof v === 'function' && path.length > 0) names.push([...path, k].join('.'));
      else if (typeof v === 'object' && v !== null && path.length < 4) walk(v as object, [...path, k]);
    }
  };
  walk(client, []);
  return names;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Where `method` is called in `code`, as `client.chat.postMessage(` or `apiCall('chat.postMessage'`. */
function callsIn(code: string, method: string, allMethods: readonly string[]): boolean {
  const escaped = method.replace(/\./g, '\\.');
  const re = new RegExp(`\\b${escaped}\\s*\\(|apiCall\\(\\s*['"\`]${escaped}['"\`]`, 'g');
  // `users.list(` inside `usergroups.users.list(` is the longer method, not this one.
  const longer = allMethods.filter((n) => n.endsWith(`.${method}`));
  for (const match of code.matchAll(re)) {
    const at = match.index;
    const partOfLonger = longer.some((n) => code.slice(at - (n.length - method.length), at + method.length) === n);
    if (!partOfLonger) return true;
  }
  return false;
}

/** Web API methods the code in src/ calls. */
function methodsCalledInSrc(): string[] {
  const code = sourceFiles(join(ROOT, 'src'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const all = slackMethodNames();
  return all.filter((m) => callsIn(code, m, all));
}

describe('manifest.yml', () => {
  it('validates against Slack’s manifest schema', () => {
    const v = validator();
    expect(v.validate(loadManifest()), v.errors()).toBe(true);
  });

  it('declares /ivs on Bolt’s endpoint, with a usage hint naming every subcommand', () => {
    const ivs = loadManifest().features.slash_commands.find((c) => c.command === '/ivs');
    expect(ivs?.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    const hint = String(ivs?.usage_hint);
    for (const sub of ['list', 'create', 'delete', 'rotate', 'plan', 'requests', 'status', 'audit', 'cancel', 'withdraw', 'help']) {
      expect(hint).toMatch(new RegExp(`(^|\\| )${sub}\\b`));
    }
  });

  it('turns interactivity on, on the same endpoint, so buttons and modals reach the bot', () => {
    const { interactivity } = loadManifest().settings;
    expect(interactivity.is_enabled).toBe(true);
    expect(interactivity.request_url).toBe(loadManifest().features.slash_commands[0]?.url);
  });

  it('asks for exactly the bot scopes the Web API methods in use need, and no more', () => {
    const called = methodsCalledInSrc();
    const unmapped = called.filter((m) => !(m in SCOPES_BY_METHOD));
    expect(unmapped, 'src/ calls a Slack method whose scope is not mapped here: add it to SCOPES_BY_METHOD and manifest.yml').toEqual([]);

    const needed = new Set([...ALWAYS_NEEDED, ...[...METHODS_THE_BOT_USES, ...called].flatMap((m) => SCOPES_BY_METHOD[m] ?? [])]);
    expect([...loadManifest().oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
  });

  it('finds Slack method calls in code the way the scope check relies on', () => {
    // Guards the scanner itself: if it stopped recognising calls, the scope check would pass vacuously.
    const names = slackMethodNames();
    expect(names).toEqual(expect.arrayContaining(['chat.postMessage', 'usergroups.users.list', 'views.open', 'conversations.info']));
    expect(callsIn('await client.chat.update({ channel, ts })', 'chat.update', names)).toBe(true);
    expect(callsIn("await client.apiCall('views.push', { view })", 'views.push', names)).toBe(true);
    expect(callsIn('const usersInfo = 1; users.infos()', 'users.info', names)).toBe(false);
    expect(callsIn('client.usergroups.users.list({ usergroup })', 'users.list', names)).toBe(false);
    expect(callsIn('client.usergroups.users.list({ usergroup })', 'usergroups.users.list', names)).toBe(true);
  });

  it('has a Socket Mode variant that also validates: socket mode on, no URLs', () => {
    const m = loadManifest();
    for (const c of m.features.slash_commands) delete c.url;
    delete m.settings.interactivity.request_url;
    m.settings.socket_mode_enabled = true;
    const v = validator();
    expect(v.validate(m), v.errors()).toBe(true);
    expect(m.settings.interactivity.is_enabled).toBe(true);
  });

  it('the schema catches the mistakes it should: a command without its slash, no is_enabled, an unknown bot_user key', () => {
    const v = validator();

    const noSlash = loadManifest();
    (noSlash.features.slash_commands[0] as Record<string, unknown>).command = 'ivs';
    expect(v.validate(noSlash)).toBe(false);
    expect(v.errors()).toMatch(/command/);

    const noIsEnabled = loadManifest();
    delete noIsEnabled.settings.interactivity.is_enabled;
    expect(v.validate(noIsEnabled)).toBe(false);

    const typo = loadManifest();
    (typo.features.bot_user as Record<string, unknown>).allways_online = true;
    expect(v.validate(typo)).toBe(false);
  });
});
