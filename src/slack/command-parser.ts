/**
 * `/ivs <text>` → what the person asked for. Pure: it knows the grammar and the limits, not who may
 * do what or whether a secret exists. Error messages are shown to the person who typed (ephemeral),
 * and echo what they typed only escaped. Messages are mrkdwn, ready to send as they are.
 */
import { PLATFORMS, isPlatform, type Platform, type RequestId } from '../core/types';
import { escapeBounded } from './mrkdwn';

export const MAX_TEXT_LENGTH = 1000;
export const MAX_NAME_LENGTH = 80;
export const MAX_REASON_LENGTH = 300;
export const MAX_SECRET_ID_LENGTH = 32;

export const COMMAND_WORDS = ['list', 'create', 'delete', 'rotate', 'plan', 'requests', 'status', 'audit', 'cancel', 'withdraw', 'help'] as const;
export type CommandWord = (typeof COMMAND_WORDS)[number];

export interface CreateCommand {
  readonly kind: 'create';
  readonly platforms: Platform[];
  readonly name: string;
  readonly reason: string;
}
export interface DeleteCommand {
  readonly kind: 'delete';
  readonly secretId: string;
  readonly reason: string;
  readonly force: boolean;
}
export interface RotateCommand {
  readonly kind: 'rotate';
  readonly secretId: string;
  readonly reason: string;
  /** `--compromised`: the old secret leaked (SPEC §10); a reason is then required (except in a plan). */
  readonly compromised: boolean;
}

export type ParsedCommand =
  | { readonly kind: 'list' }
  | { readonly kind: 'help' }
  | CreateCommand
  | { readonly kind: 'create_modal' }
  | DeleteCommand
  | RotateCommand
  | { readonly kind: 'plan'; readonly target: CreateCommand | DeleteCommand | RotateCommand }
  | { readonly kind: 'requests' }
  | { readonly kind: 'status'; readonly requestId: RequestId }
  | { readonly kind: 'audit'; readonly requestId: RequestId }
  | { readonly kind: 'cancel'; readonly requestId: RequestId }
  | { readonly kind: 'withdraw'; readonly requestId: RequestId }
  | { readonly kind: 'invalid'; readonly message: string; readonly usageFor?: CommandWord }
  | { readonly kind: 'unknown'; readonly word: string };

type Invalid = Extract<ParsedCommand, { kind: 'invalid' }>;
type Result<T> = { ok: true; value: T } | { ok: false; message: string };

const REQUEST_ID = /^R-[0-9A-HJ-NP-Z]{6}$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** A tag like the one the bot appends to Intercom names; a typed one could fool orphan reconciliation. */
const REQUEST_TAG = /\[\s*R-[0-9A-Z]{6}\s*\]/i;
const FORCE_FLAG = /^(--|—)force$/i;
const COMPROMISED_FLAG = /^(--|—)compromised$/i;
const REASON_SEPARATOR = /(?:^|\s)--(?:\s+|$)/;

/** Shown (escaped) inside error messages: enough to recognise, never a wall of text. */
function echo(word: string): string {
  return `\`${escapeBounded(word.replace(/`/g, "'"), 40)}\``;
}

function invalid(message: string, usageFor?: CommandWord): Invalid {
  return usageFor ? { kind: 'invalid', message, usageFor } : { kind: 'invalid', message };
}

export function parseCommand(text: string): ParsedCommand {
  if (text.length > MAX_TEXT_LENGTH) {
    return invalid(`That command is ${text.length} characters long; the limit is ${MAX_TEXT_LENGTH}.`);
  }
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'help' };
  const { word, rest } = firstWord(trimmed);
  const command = word.toLowerCase();
  switch (command) {
    case 'help':
      return { kind: 'help' };
    case 'list':
    case 'requests':
      return rest === '' ? { kind: command } : invalid(`\`/ivs ${command}\` takes no arguments.`, command);
    case 'create':
      return rest === '' ? { kind: 'create_modal' } : orInvalid(parseCreate(rest), 'create');
    case 'delete':
      return orInvalid(parseDelete(rest), 'delete');
    case 'rotate':
      return orInvalid(parseRotate(rest), 'rotate');
    case 'plan':
      return parsePlan(rest);
    case 'status':
    case 'audit':
    case 'cancel':
    case 'withdraw': {
      const id = parseSingleRequestId(command, rest);
      return id.ok ? { kind: command, requestId: id.value } : invalid(id.message, command);
    }
    default:
      return { kind: 'unknown', word };
  }
}

function orInvalid<T extends ParsedCommand>(result: Result<T>, usageFor: CommandWord): T | Invalid {
  return result.ok ? result.value : invalid(result.message, usageFor);
}

function firstWord(text: string): { word: string; rest: string } {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text);
  return { word: match?.[1] ?? '', rest: (match?.[2] ?? '').trim() };
}

// ---------------------------------------------------------------------------------------------

/** `R-7F3K2Q` in any case → upper case; anything else is not a request id. */
export function parseRequestId(text: string): RequestId | null {
  const upper = text.trim().toUpperCase();
  return REQUEST_ID.test(upper) ? upper : null;
}

export function isSecretId(text: string): boolean {
  return SECRET_ID.test(text);
}

/** Platforms from a comma list: case-insensitive, deduplicated, in the order web, ios, android. */
export function parsePlatforms(list: string): Result<Platform[]> {
  const words = list
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== '');
  if (words.length === 0) {
    return { ok: false, message: 'Name at least one platform: `web`, `ios` or `android` (comma-separated, e.g. `web,ios`).' };
  }
  for (const w of words) {
    if (!isPlatform(w)) {
      return {
        ok: false,
        message: `Unknown platform ${echo(w)}: use \`web\`, \`ios\` or \`android\` (comma-separated, e.g. \`web,ios\`).`,
      };
    }
  }
  return { ok: true, value: PLATFORMS.filter((p) => words.includes(p)) };
}

/** A secret's name as typed: one line, not empty, at most MAX_NAME_LENGTH characters. */
export function validateName(raw: string): Result<string> {
  const name = raw.trim();
  if (name === '') return { ok: false, message: 'Give the secret a name, e.g. `/ivs create web Production Web`.' };
  if (/[\r\n]/.test(name)) return { ok: false, message: 'The name must be on one line.' };
  if (name.length > MAX_NAME_LENGTH) {
    return { ok: false, message: `The name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}.` };
  }
  if (REQUEST_TAG.test(name)) {
    return { ok: false, message: 'The name may not contain a request id tag such as `[R-7F3K2Q]`: the bot adds its own.' };
  }
  const hidden = invisibleCharacter(name, '');
  if (hidden) return { ok: false, message: `The name contains ${hidden}; type it without.` };
  return { ok: true, value: name };
}

/** A reason: optional, at most MAX_REASON_LENGTH characters. */
export function validateReason(raw: string): Result<string> {
  const reason = raw.trim();
  if (reason.length > MAX_REASON_LENGTH) {
    return { ok: false, message: `The reason is ${reason.length} characters long; the limit is ${MAX_REASON_LENGTH}.` };
  }
  const hidden = invisibleCharacter(reason, '\n\r\t');
  if (hidden) return { ok: false, message: `The reason contains ${hidden}; type it without.` };
  return { ok: true, value: reason };
}

/**
 * The first control or format character (Unicode Cc, Cf) in `text`, described, other than the
 * `allowed` ones. A right-to-left override (U+202E) would reverse what the confirm dialog says, a
 * zero-width space would make two names look alike; nobody needs them in a name or a reason.
 */
function invisibleCharacter(text: string, allowed: string): string | undefined {
  let position = 0;
  for (const ch of text) {
    position++;
    if (!allowed.includes(ch) && /[\p{Cc}\p{Cf}]/u.test(ch)) {
      const code = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      return `an invisible or control character (${code}, at position ${position})`;
    }
  }
  return undefined;
}

function validateSecretId(word: string | undefined, command: 'delete' | 'rotate'): Result<string> {
  if (word === undefined || word === '') {
    return { ok: false, message: `Which secret? \`/ivs ${command} &lt;id&gt;\`; \`/ivs list\` shows the ids.` };
  }
  if (!isSecretId(word)) {
    return {
      ok: false,
      message: `${echo(word)} is not a secret id: ids are 1–${MAX_SECRET_ID_LENGTH} letters, digits, \`_\` or \`-\`. \`/ivs list\` shows them.`,
    };
  }
  return { ok: true, value: word };
}

function parseCreate(args: string): Result<CreateCommand> {
  // `web, ios Name` — a space after a comma still belongs to the platform list.
  const match = /^((?:\S*\s*,\s*)*\S+)\s*([\s\S]*)$/.exec(args);
  const platformList = match?.[1] ?? '';
  const afterPlatforms = (match?.[2] ?? '').trim();
  const platforms = parsePlatforms(platformList);
  if (!platforms.ok) return platforms;

  const separator = REASON_SEPARATOR.exec(afterPlatforms);
  const rawName = separator ? afterPlatforms.slice(0, separator.index) : afterPlatforms;
  const rawReason = separator ? afterPlatforms.slice(separator.index + separator[0].length) : '';
  const option = rawName.split(/\s+/).find((t) => /^(--|—)\S/.test(t));
  if (option !== undefined) {
    return { ok: false, message: `Create takes no options (got ${echo(option)}); a reason goes after \` -- \`.` };
  }
  const name = validateName(rawName);
  if (!name.ok) return name;
  const reason = validateReason(rawReason);
  if (!reason.ok) return reason;
  return { ok: true, value: { kind: 'create', platforms: platforms.value, name: name.value, reason: reason.value } };
}

/**
 * Splits `<id> [--force] [reason…]`; `--force` counts wherever it stands, and after a bare `--`
 * everything is reason text (so a reason may mention `--anything`).
 */
function splitIdArgs(args: string): { id: string | undefined; force: boolean; compromised: boolean; unknownOption?: string; reason: string } {
  const tokens = args.split(/\s+/).filter((t) => t !== '');
  let force = false;
  let compromised = false;
  let unknownOption: string | undefined;
  const kept: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === '--') {
      kept.push(...tokens.slice(i + 1));
      break;
    }
    if (FORCE_FLAG.test(token)) force = true;
    else if (COMPROMISED_FLAG.test(token)) compromised = true;
    else if (/^(--|—)\S/.test(token)) unknownOption ??= token;
    else kept.push(token);
  }
  const [id, ...reasonWords] = kept;
  const reason = reasonWords.join(' ');
  return unknownOption === undefined ? { id, force, compromised, reason } : { id, force, compromised, reason, unknownOption };
}

function parseDelete(args: string): Result<DeleteCommand> {
  const { id, force, compromised, unknownOption, reason } = splitIdArgs(args);
  if (unknownOption !== undefined || compromised) {
    const option = unknownOption ?? '--compromised';
    return {
      ok: false,
      message: `Unknown option ${echo(option)}: the only option of delete is \`--force\`${compromised ? ' (`--compromised` is for rotate)' : ''}.`,
    };
  }
  const secretId = validateSecretId(id, 'delete');
  if (!secretId.ok) return secretId;
  const checkedReason = validateReason(reason);
  if (!checkedReason.ok) return checkedReason;
  return { ok: true, value: { kind: 'delete', secretId: secretId.value, reason: checkedReason.value, force } };
}

/** `<id> [--compromised] [reason…]`; with `--compromised` the reason is required, unless only planning. */
function parseRotate(args: string, opts: { planning?: boolean } = {}): Result<RotateCommand> {
  const { id, force, compromised, unknownOption, reason } = splitIdArgs(args);
  if (force || unknownOption !== undefined) {
    return {
      ok: false,
      message:
        `Rotate takes only \`--compromised\`${unknownOption ? ` (got ${echo(unknownOption)})` : ' (`--force` is for delete)'}: ` +
        '`/ivs rotate &lt;id&gt; [reason…]` or `/ivs rotate &lt;id&gt; --compromised &lt;reason…&gt;`.',
    };
  }
  const secretId = validateSecretId(id, 'rotate');
  if (!secretId.ok) return secretId;
  const checkedReason = validateReason(reason);
  if (!checkedReason.ok) return checkedReason;
  if (compromised && checkedReason.value === '' && !opts.planning) {
    return {
      ok: false,
      message:
        `A compromised rotation needs a reason: \`/ivs rotate ${escapeBounded(secretId.value, 40)} --compromised &lt;reason…&gt;\` ` +
        '(what leaked, where, when). Its old secret may then be deleted without waiting for the overlap.',
    };
  }
  return { ok: true, value: { kind: 'rotate', secretId: secretId.value, reason: checkedReason.value, compromised } };
}

function parsePlan(args: string): ParsedCommand {
  const { word, rest } = firstWord(args);
  const sub = word.toLowerCase();
  if (sub === 'create') {
    if (rest === '') return invalid('`/ivs plan create` needs platforms and a name: `/ivs plan create web,ios Production Web`.', 'plan');
    const target = parseCreate(rest);
    return target.ok ? { kind: 'plan', target: target.value } : invalid(target.message, 'plan');
  }
  if (sub === 'delete' || sub === 'rotate') {
    const target = sub === 'delete' ? parseDelete(rest) : parseRotate(rest, { planning: true });
    return target.ok ? { kind: 'plan', target: target.value } : invalid(target.message, 'plan');
  }
  const got = word === '' ? '' : ` (got ${echo(word)})`;
  return invalid(`Plan what? \`/ivs plan create|delete|rotate …\`${got}.`, 'plan');
}

function parseSingleRequestId(command: CommandWord, args: string): Result<RequestId> {
  const tokens = args.split(/\s+/).filter((t) => t !== '');
  const [first] = tokens;
  if (first === undefined) {
    return { ok: false, message: `Which request? \`/ivs ${command} &lt;request-id&gt;\`; \`/ivs requests\` lists the open ones.` };
  }
  if (tokens.length > 1) {
    return { ok: false, message: `\`/ivs ${command}\` takes exactly one request id, e.g. \`/ivs ${command} R-7F3K2Q\`.` };
  }
  const id = parseRequestId(first);
  if (id === null) {
    return {
      ok: false,
      message: `${echo(first)} is not a request id: request ids look like \`R-7F3K2Q\` (\`/ivs requests\` lists the open ones).`,
    };
  }
  return { ok: true, value: id };
}
