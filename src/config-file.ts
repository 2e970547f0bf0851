import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration';
import { resolveIntercomBaseUrl } from './intercom/region';

/**
 * `IVS_CONFIG`: the YAML file of Intercom workspaces (SPEC §9). Read and validated as a whole, every
 * problem named by where it is (`workspaces[1] (eu).channels: …`), never by a value that could be a
 * token. The tokens themselves never live in the file: `token_env` names an environment variable,
 * `token_file` a file (a mounted Kubernetes Secret).
 */

/** One Intercom workspace the bot serves; the single workspace of the environment settings is one too. */
export interface WorkspaceConfig {
  /** What people type (`/ivs eu list`) and the Vault path segment. */
  readonly name: string;
  readonly intercom: { readonly accessToken: string; readonly apiUrl: string };
  readonly channels: readonly string[];
  /** User ids and user-group ids. */
  readonly requesters: readonly string[];
  readonly approvers: readonly string[];
  readonly approvalsRequired: number;
  readonly requestTtlMs: number;
  readonly minOverlapMs: number;
  /** SPEC §10 rotation policy: secrets older than this are due for rotation. Unset: no policy. */
  readonly rotateAfterMs?: number;
  /** `<mount>/data/<vaultPathPrefix>/<name>/…` */
  readonly vaultPathPrefix: string;
}

export const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const USER_OR_GROUP_ID = /^(?:[UW][A-Z0-9]{2,}|S[A-Z0-9]{2,})$/;
export const WORKSPACE_NAME = /^[a-z0-9-]{1,32}$/;
export const VAULT_PATH = /^[\w.-]+(\/[\w.-]+)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface FileDefaults {
  readonly vaultPathPrefix: string;
}

export type FileResult = { ok: true; workspaces: WorkspaceConfig[] } | { ok: false; problems: string[] };

type Env = Readonly<Record<string, string | undefined>>;

const WORKSPACE_KEYS = [
  'name',
  'intercom',
  'channels',
  'requesters',
  'approvers',
  'approvals_required',
  'request_ttl',
  'min_overlap',
  'rotate_after',
  'vault_path_prefix',
] as const;
const INTERCOM_KEYS = ['region', 'url', 'token_env', 'token_file'] as const;
const REGIONS = ['us', 'eu', 'au'] as const;

const record = z.record(z.string(), z.unknown());

/**
 * Reads and validates the file. `reservedNames` are the subcommand words (a workspace called `list`
 * would make `/ivs list` mean two things).
 */
export function loadWorkspacesFile(path: string, env: Env, defaults: FileDefaults, reservedNames: readonly string[]): FileResult {
  const where = `IVS_CONFIG ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, problems: [`${where} cannot be read${code ? ` (${code})` : ''}`] };
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // Position and kind only: yaml's messages quote the lines around the error.
    return { ok: false, problems: doc.errors.slice(0, 5).map((e) => `${where} is not valid YAML: ${e.code} at line ${e.linePos?.[0].line ?? '?'}`) };
  }
  return validateWorkspaces(doc.toJS() as unknown, { where, env, defaults, reservedNames });
}

interface Context {
  readonly where: string;
  readonly env: Env;
  readonly defaults: FileDefaults;
  readonly reservedNames: readonly string[];
}

export function validateWorkspaces(data: unknown, ctx: Context): FileResult {
  const problems: string[] = [];
  const top = record.safeParse(data);
  if (!top.success) return { ok: false, problems: [`${ctx.where} must be a mapping with a workspaces: list`] };
  for (const key of Object.keys(top.data)) {
    if (key !== 'workspaces') problems.push(`${ctx.where}: unknown key ${quoteKey(key)} (the file has one key, workspaces)`);
  }
  const list = top.data['workspaces'];
  if (!Array.isArray(list) || list.length === 0) {
    problems.push(`${ctx.where}: workspaces must be a list of at least one workspace`);
    return { ok: false, problems };
  }
  const workspaces: WorkspaceConfig[] = [];
  const seen = new Map<string, number>();
  list.forEach((entry: unknown, index) => {
    const checked = validateWorkspace(entry, index, ctx);
    problems.push(...checked.problems);
    const name = checked.name;
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) problems.push(`${ctx.where}: workspaces[${index}] has the same name ${name} as workspaces[${first}]`);
      else seen.set(name, index);
    }
    if (checked.workspace) workspaces.push(checked.workspace);
  });
  return problems.length ? { ok: false, problems } : { ok: true, workspaces };
}

function validateWorkspace(entry: unknown, index: number, ctx: Context): { problems: string[]; name?: string; workspace?: WorkspaceConfig } {
  const problems: string[] = [];
  const parsed = record.safeParse(entry);
  if (!parsed.success) return { problems: [`${ctx.where}: workspaces[${index}] must be a mapping (name:, intercom:, channels:, …)`] };
  const w = parsed.data;
  const rawName = w['name'];
  const validName = typeof rawName === 'string' && WORKSPACE_NAME.test(rawName);
  const label = `${ctx.where}: workspaces[${index}]${validName ? ` (${rawName})` : ''}`;
  const problem = (key: string, message: string) => problems.push(`${label}.${key} ${message}`);

  for (const key of Object.keys(w)) {
    if (!(WORKSPACE_KEYS as readonly string[]).includes(key)) {
      problems.push(`${label}: unknown key ${quoteKey(key)} (known: ${WORKSPACE_KEYS.join(', ')})`);
    }
  }

  let name: string | undefined;
  if (rawName === undefined) problem('name', 'is required');
  else if (!validName) problem('name', 'must be 1–32 of a-z, 0-9 and -');
  else if (ctx.reservedNames.includes(rawName as string)) problem('name', `must not be a subcommand word (${ctx.reservedNames.join(', ')})`);
  else name = rawName as string;

  const intercom = intercomSettings(w['intercom'], ctx.env, (key, message) => problem(`intercom${key ? `.${key}` : ''}`, message));
  const channels = idList(w['channels'], CHANNEL_ID, 'channel ids (C…/G…)', true, (m) => problem('channels', m));
  const requesters = idList(w['requesters'], USER_OR_GROUP_ID, 'user (U…/W…) or user-group (S…) ids', true, (m) => problem('requesters', m));
  const approvers = idList(w['approvers'], USER_OR_GROUP_ID, 'user (U…/W…) or user-group (S…) ids', true, (m) => problem('approvers', m));
  const approvalsRequired = wholeNumber(w['approvals_required'], 1, 1, 10, (m) => problem('approvals_required', m));
  // The same bounds as IVS_REQUEST_TTL, IVS_MIN_OVERLAP and IVS_ROTATE_AFTER in the environment.
  const requestTtlMs = duration(w['request_ttl'], '1h', (m) => problem('request_ttl', m), ['1s', '30d']);
  const minOverlapMs = duration(w['min_overlap'], '1h', (m) => problem('min_overlap', m), ['1s', '90d']);
  const rotateAfterMs =
    w['rotate_after'] === undefined || w['rotate_after'] === null
      ? undefined
      : duration(w['rotate_after'], '', (m) => problem('rotate_after', m), ['1d', '3650d']);
  let vaultPathPrefix = ctx.defaults.vaultPathPrefix;
  const prefix = w['vault_path_prefix'];
  if (prefix !== undefined && prefix !== null) {
    if (typeof prefix === 'string' && VAULT_PATH.test(prefix.trim())) vaultPathPrefix = prefix.trim();
    else problem('vault_path_prefix', 'must be a relative path like intercom/identity-verification');
  }

  if (problems.length || name === undefined || !intercom || !channels || !requesters || !approvers) return { problems, ...(name ? { name } : {}) };
  return {
    problems,
    name,
    workspace: {
      name,
      intercom,
      channels,
      requesters,
      approvers,
      approvalsRequired,
      requestTtlMs,
      minOverlapMs,
      ...(rotateAfterMs !== undefined ? { rotateAfterMs } : {}),
      vaultPathPrefix,
    },
  };
}

/** Exactly one of region/url, exactly one of token_env/token_file; the token itself never in the file. */
function intercomSettings(raw: unknown, env: Env, problem: (key: string, message: string) => void): WorkspaceConfig['intercom'] | undefined {
  const parsed = record.safeParse(raw);
  if (!parsed.success) {
    problem(
      '',
      raw === undefined ? 'is required (region or url, and token_env or token_file)' : 'must be a mapping (region or url, and token_env or token_file)',
    );
    return undefined;
  }
  const i = parsed.data;
  let ok = true;
  for (const key of Object.keys(i)) {
    if (!(INTERCOM_KEYS as readonly string[]).includes(key)) {
      ok = false;
      problem(
        quoteKey(key),
        /token|secret|password/i.test(key)
          ? 'is not a key: the token never goes in the file; name an environment variable (token_env) or a file (token_file)'
          : `is not a key (known: ${INTERCOM_KEYS.join(', ')})`,
      );
    }
  }

  let apiUrl = '';
  const region = i['region'];
  const url = i['url'];
  if (region !== undefined && url !== undefined) {
    ok = false;
    problem('', 'takes region or url, not both');
  } else if (region !== undefined) {
    if (typeof region === 'string' && (REGIONS as readonly string[]).includes(region.trim().toLowerCase())) apiUrl = resolveIntercomBaseUrl(region);
    else {
      ok = false;
      problem('region', `must be one of ${REGIONS.join(', ')}`);
    }
  } else if (url !== undefined) {
    try {
      if (typeof url !== 'string') throw new Error('must be a full http(s) URL');
      apiUrl = resolveIntercomBaseUrl(url);
      if (!/^https?:\/\//i.test(apiUrl)) throw new Error('must be a full http(s) URL');
    } catch (err) {
      ok = false;
      problem('url', (err as Error).message.replace(/^INTERCOM_API_URL /, '').replace('us, eu, au or ', ''));
    }
  } else {
    ok = false;
    problem('', 'needs region (us, eu, au) or url');
  }

  let accessToken = '';
  const tokenEnv = i['token_env'];
  const tokenFile = i['token_file'];
  if (tokenEnv !== undefined && tokenFile !== undefined) {
    ok = false;
    problem('', 'takes token_env or token_file, not both');
  } else if (tokenEnv !== undefined) {
    if (typeof tokenEnv !== 'string' || !ENV_NAME.test(tokenEnv)) {
      ok = false;
      problem('token_env', 'must be the name of an environment variable (letters, digits, _)');
    } else {
      const value = (env[tokenEnv] ?? '').trim();
      if (value === '') {
        ok = false;
        problem('token_env', `names ${tokenEnv}, which is not set (or empty)`);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this check refuses
      } else if (/[\s\u0000-\u001f\u007f]/.test(value)) {
        ok = false;
        problem('token_env', `names ${tokenEnv}, whose value contains whitespace or control characters`);
      } else accessToken = value;
    }
  } else if (tokenFile !== undefined) {
    if (typeof tokenFile !== 'string' || tokenFile.trim() === '') {
      ok = false;
      problem('token_file', 'must be a file path');
    } else {
      let value = '';
      try {
        value = readFileSync(tokenFile.trim(), 'utf8').trim();
      } catch (err) {
        ok = false;
        const code = (err as NodeJS.ErrnoException).code;
        problem('token_file', `cannot read ${tokenFile.trim()}${code ? ` (${code})` : ''}`);
      }
      if (ok && value === '') {
        ok = false;
        problem('token_file', `${tokenFile.trim()} is empty`);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this check refuses
      } else if (ok && /[\s\u0000-\u001f\u007f]/.test(value)) {
        ok = false;
        problem('token_file', `${tokenFile.trim()} holds more than one token-like word (whitespace or control characters inside)`);
      } else accessToken = value;
    }
  } else {
    ok = false;
    problem('', 'needs token_env (an environment variable holding the token) or token_file');
  }
  return ok ? { accessToken, apiUrl } : undefined;
}

/** A YAML list of ids; a comma/space separated string is accepted too, as in the environment. */
function idList(raw: unknown, pattern: RegExp, what: string, required: boolean, problem: (m: string) => void): string[] | undefined {
  if (raw === undefined || raw === null) {
    if (required) problem('is required');
    return undefined;
  }
  const items = typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : Array.isArray(raw) ? raw : undefined;
  if (!items) {
    problem(`must be a list of ${what}`);
    return undefined;
  }
  const ids = items.map((v) => (typeof v === 'string' ? v.trim() : String(v)));
  if (ids.length === 0) {
    problem('must name at least one id');
    return undefined;
  }
  const bad = ids.filter((id) => !pattern.test(id));
  if (bad.length) {
    problem(`not ${what}: ${bad.map((b) => b.slice(0, 40)).join(', ')}`);
    return undefined;
  }
  return [...new Set(ids)];
}

function wholeNumber(raw: unknown, fallback: number, min: number, max: number, problem: (m: string) => void): number {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    problem(`must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return raw;
}

function duration(raw: unknown, fallback: string, problem: (m: string) => void, [min, max]: readonly [string, string]): number {
  if (raw === undefined || raw === null) return parseDuration(fallback) ?? 0;
  const ms = typeof raw === 'string' ? parseDuration(raw) : null;
  if (ms === null || ms < (parseDuration(min) ?? 0) || ms > (parseDuration(max) ?? 0)) {
    problem(`${typeof raw === 'string' ? `"${raw.slice(0, 20)}" ` : ''}is not a duration from ${min} to ${max} (like 90s, 15m, 1h, 2d)`);
    return 0;
  }
  return ms;
}

function quoteKey(key: string): string {
  return `"${key.slice(0, 40).replace(/[^\w.-]/g, '?')}"`;
}
