/**
 * Reading Intercom's answers defensively (contract §1.7): check the fields used, ignore the rest,
 * and return null rather than guess. Nothing here keeps or reports the text it was given: a JSON
 * SyntaxError quotes its input, and a 201's input holds the material.
 */
import { PLATFORMS, type CreatedSecret, type SecretInfo } from '../core/types';
import { SecretMaterial } from '../core/secret-material';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The material as SPEC §1 describes it: 256 random bits, base64url, 43 characters. */
const MATERIAL_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function secretInfo(item: unknown): SecretInfo | null {
  if (!isRecord(item)) return null;
  // Ids are strings; a number is taken only while it is exact (a larger one has lost digits already).
  const id = typeof item.id === 'string' ? item.id : typeof item.id === 'number' && Number.isSafeInteger(item.id) ? String(item.id) : null;
  if (!id || typeof item.name !== 'string' || typeof item.created_at !== 'number' || !Number.isSafeInteger(item.created_at)) return null;
  // A platform flag that is not a boolean is not "false": the impact guard would count it wrongly.
  if (PLATFORMS.some((p) => item[`supports_${p}`] !== undefined && typeof item[`supports_${p}`] !== 'boolean')) return null;
  return {
    id,
    name: item.name,
    platforms: PLATFORMS.filter((p) => item[`supports_${p}`] === true),
    createdAt: item.created_at,
  };
}

/** `{"type":"list","data":[…]}` → the secrets, or null when the shape is not that. */
export function parseSecretList(text: string): SecretInfo[] | null {
  const body = parseJson(text);
  if (!isRecord(body) || !Array.isArray(body.data)) return null;
  const secrets: SecretInfo[] = [];
  for (const item of body.data) {
    const info = secretInfo(item);
    // One unreadable entry fails the whole list: a guard that sees a partial list decides wrongly.
    if (!info) return null;
    secrets.push(info);
  }
  return secrets;
}

/** A 201 body → the secret with its material sealed at once, or null when anything is missing. */
export function parseCreatedSecret(text: string): CreatedSecret | null {
  const body = parseJson(text);
  if (!isRecord(body)) return null;
  const info = secretInfo(body);
  const raw = body.secret;
  // Anything else is not material anyone can sign with: the create counts as ambiguous (reconciled).
  if (!info || typeof raw !== 'string' || !MATERIAL_SHAPE.test(raw)) return null;
  return { ...info, material: SecretMaterial.of(raw) };
}

export interface ErrorSummary {
  readonly codes: readonly string[];
  readonly requestId?: string;
}

/**
 * The machine-readable parts of an `error.list`. Messages are left out, and codes must look like
 * Intercom's (lowercase snake case), so an echoed value cannot ride along in an error.
 */
export function parseErrorBody(text: string): ErrorSummary {
  const body = parseJson(text);
  if (!isRecord(body)) return { codes: [] };
  const codes = Array.isArray(body.errors)
    ? body.errors.flatMap((e) => (isRecord(e) && typeof e.code === 'string' && /^[a-z][a-z0-9_.]{0,79}$/.test(e.code) ? [e.code] : []))
    : [];
  const requestId = typeof body.request_id === 'string' && /^[0-9a-zA-Z-]{1,64}$/.test(body.request_id) ? body.request_id : undefined;
  return requestId === undefined ? { codes } : { codes, requestId };
}
