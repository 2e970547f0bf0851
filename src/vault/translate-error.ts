import { VaultError, type VaultErrorKind } from '../core/errors';

/**
 * Turns whatever node-vault rejected with into a VaultError that holds only facts: status, Vault's
 * own message, the network error code, the path without its query. The original error is dropped,
 * never attached as `cause`: an AxiosError carries the X-Vault-Token header and the JSON body (which,
 * for the one-time write, is the plaintext material) — contract vault.md §7.5 pitfall 3.
 */
export interface ErrorContext {
  /** What we were doing, e.g. `write`, `read`, `health`. */
  readonly op: string;
  readonly path: string;
  /** Exact values that must never appear in the message (the token, the material). */
  readonly sensitive: readonly (string | undefined)[];
}

const CAS_MISMATCH = 'check-and-set parameter did not match the current version';
const MAX_MESSAGE = 300;

export function toVaultError(err: unknown, ctx: ErrorContext): VaultError {
  if (err instanceof VaultError) return err;
  const path = ctx.path.split('?')[0] ?? '';
  const scrub = scrubber(ctx.sensitive);
  const status = statusOf(err);
  if (status !== undefined) {
    const vaultMessage = messageFromBody(bodyOf(err)) ?? `status ${status}`;
    const kind = kindFor(status, vaultMessage);
    // Vault says a bare "permission denied" when the token itself is no good (missing, unknown,
    // expired), and wraps it as a multierror when a valid token lacks a policy (contract vault.md
    // §2.4). Only the first is worth logging in again for.
    if (status === 403 && isBareDenial(bodyOf(err))) {
      return new VaultError(kind, bounded(scrub(`vault ${ctx.op} ${path}: ${vaultMessage} (HTTP ${status})`)), { status, path, code: 'token_rejected' });
    }
    // Scrubbed whole, then shortened: cut first, a sensitive value split at the cut would slip through.
    return new VaultError(kind, bounded(scrub(`vault ${ctx.op} ${path}: ${vaultMessage} (HTTP ${status})`)), { status, path });
  }
  const code = codeOf(err);
  if (code !== undefined) {
    return new VaultError('unreachable', `vault ${ctx.op} ${path}: ${describeCode(code)}`, { path, code });
  }
  // tv4 argument validation or anything else: its text may quote argument values, so none of it is kept.
  return new VaultError('invalid', `vault ${ctx.op} ${path}: the client refused the call's arguments`, { path });
}

export function kindFor(status: number, message: string): VaultErrorKind {
  if (status === 503 && /vault is sealed/i.test(message)) return 'sealed';
  if (status === 403) return 'denied';
  if (status === 400 && message.includes(CAS_MISMATCH)) return 'conflict';
  if (status === 404) return 'not_found';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'unreachable';
  if (status >= 400 && status < 500) return 'invalid';
  return 'failed';
}

function statusOf(err: unknown): number | undefined {
  const response = (err as { response?: { statusCode?: unknown } } | null)?.response;
  const status = response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function bodyOf(err: unknown): unknown {
  return (err as { response?: { body?: unknown } }).response?.body;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : undefined;
}

function describeCode(code: string): string {
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return `timed out (${code})`;
  if (code === 'ECONNREFUSED') return `connection refused (${code})`;
  if (code === 'ECONNRESET') return `connection reset (${code})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  return `request failed (${code})`;
}

/** `{"errors":[…]}` → one line; go-multierror wrapping ("1 error occurred:\n\t* x\n\n") → "x". */
export function messageFromBody(body: unknown): string | undefined {
  const list = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list)) return undefined;
  const parts = list
    .filter((e): e is string => typeof e === 'string')
    .flatMap((e) => {
      const bullets = [...e.matchAll(/\n\t\* ([^\n]*)/g)].map((m) => m[1] ?? '');
      if (bullets.length === 0) return [e];
      const head = e
        .replace(/\d+ errors? occurred:[\s\S]*$/, '')
        .trim()
        .replace(/:$/, '');
      return [head ? `${head}: ${bullets.join('; ')}` : bullets.join('; ')];
    })
    .map((e) => e.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  if (parts.length === 0) return undefined;
  return parts.join('; ');
}

function isBareDenial(body: unknown): boolean {
  const list = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(list) && list.length === 1 && list[0] === 'permission denied';
}

function bounded(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

function scrubber(sensitive: readonly (string | undefined)[]): (text: string) => string {
  const known = sensitive.filter((s): s is string => typeof s === 'string' && s.length > 0);
  return (text) => known.reduce((out, s) => out.split(s).join('[redacted]'), text);
}
