import { inspect } from 'node:util';

const REDACTED = '[redacted]';
const values = new WeakMap<SecretMaterial, string>();

/**
 * The one-time signing material Intercom returns on create. It travels intercom/ → core/ → vault/
 * and every accidental route out of the process (String(), template literals, JSON.stringify, pino,
 * util.inspect, structuredClone, Object.keys) yields `[redacted]` or nothing. The raw value lives in
 * a module-private WeakMap, not on the object, so no property walk can find it.
 */
export class SecretMaterial {
  private constructor() {
    Object.freeze(this);
  }

  static of(raw: string): SecretMaterial {
    if (typeof raw !== 'string' || raw.length === 0) throw new TypeError('secret material must be a non-empty string');
    const material = new SecretMaterial();
    values.set(material, raw);
    return material;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Reads the raw material. Only the Vault adapter may call this (test/core/secret-material.test.ts
 * fails if any other module under src/ names it).
 */
export function unsealForVault(material: SecretMaterial): string {
  const raw = values.get(material);
  if (raw === undefined) throw new TypeError('not a SecretMaterial');
  return raw;
}
