import { createHash, randomInt } from 'node:crypto';
import type { ApprovalRequest, Operation } from './request';
import type { RequestId } from './types';

/** Crockford-ish alphabet: no I, L, O, U, so ids survive being read aloud and retyped. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const REQUEST_ID_PATTERN = /^R-[0-9A-HJKMNP-TV-Z]{6}$/;

export function newRequestId(): RequestId {
  let id = 'R-';
  for (let i = 0; i < 6; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/**
 * A short hash of exactly what will be done: the approval counts for this operation and nothing else.
 * Shown on the card so people can compare what they approve with what executes.
 */
export function fingerprint(id: RequestId, operation: Operation): string {
  const canonical = JSON.stringify([id, operation.action, operation.workspace, Object.entries(operation).sort(([a], [b]) => a.localeCompare(b))]);
  const hex = createHash('sha256').update(canonical).digest('hex');
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}`;
}

/**
 * The fingerprint of the step a click approves: a rotation's delete step is another operation than
 * its first step (the successor is known by then), so it gets a fingerprint of its own.
 */
export function stepFingerprint(request: Pick<ApprovalRequest, 'fingerprint' | 'rotation'>): string {
  if (request.rotation?.step !== 'retire') return request.fingerprint;
  const hex = createHash('sha256')
    .update(JSON.stringify([request.fingerprint, 'retire', request.rotation.successor?.id ?? '']))
    .digest('hex');
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}`;
}

/** The name a secret gets at Intercom: unique per request, so an ambiguous create can be reconciled. */
export function intercomName(name: string, id: RequestId): string {
  return `${name} [${id}]`;
}

/** The request id a secret's name carries, if any. */
export function requestIdInName(name: string): RequestId | null {
  const match = /\[(R-[0-9A-HJKMNP-TV-Z]{6})\]\s*$/.exec(name);
  return match?.[1] ?? null;
}

/** "Production Web [R-AAAAAA]" → "Production Web": the base a rotation's successor is named after. */
export function baseName(name: string): string {
  return name.replace(/\s*\[R-[0-9A-HJKMNP-TV-Z]{6}\]\s*$/, '').trim() || name;
}
