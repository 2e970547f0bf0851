// What a signing service computes from the material ivs-bot keeps at current/<platform>: the Messenger
// `user_hash` (identity verification) and the `intercom_user_jwt` (Messenger Security). Both are signed
// with the secret string exactly as Intercom returned it. Node's own crypto, no dependencies.
//
//   INTERCOM_IDENTITY_SECRET_FILE=/vault/secrets/intercom-web node signer.mjs <user_id> [email]
//
// prints {"user_hash": …, "intercom_user_jwt": …, "exp": …}. The file is read on every call, so
// material that Vault Agent or External Secrets rotated in place is used at once. Never print,
// log or return the material itself.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** How long a JWT is valid; Intercom checks `exp`. */
export const JWT_TTL_SECONDS = 3600;

/** user_hash = lowercase hex HMAC-SHA256(secret, user_id). */
export function userHash(secret, userId) {
  return createHmac('sha256', secret).update(String(userId)).digest('hex');
}

/**
 * An HS256 JWT with the claims `user_id`, optional `email`, and `exp` (seconds since the epoch).
 * @param {string} secret
 * @param {{ userId: string, email?: string, expiresAt: number }} claims
 */
export function messengerJwt(secret, { userId, email, expiresAt }) {
  if (!Number.isInteger(expiresAt)) throw new TypeError('expiresAt must be whole seconds since the epoch');
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { user_id: String(userId), ...(email === undefined ? {} : { email }), exp: expiresAt };
  const signingInput = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** The material as rendered to a file (Vault Agent template, mounted Secret); a trailing newline is not part of it. */
export function readSecret(file) {
  const secret = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (secret === '') throw new Error(`${file} is empty: no signing material`);
  return secret;
}

/** Both values for one person, from the file's current material. */
export function sign(file, userId, email, now = Date.now()) {
  const secret = readSecret(file);
  const exp = Math.floor(now / 1000) + JWT_TTL_SECONDS;
  return { user_hash: userHash(secret, userId), intercom_user_jwt: messengerJwt(secret, { userId, email, expiresAt: exp }), exp };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [userId, email] = process.argv.slice(2);
  const file = process.env.INTERCOM_IDENTITY_SECRET_FILE;
  if (!file || !userId) {
    console.error('usage: INTERCOM_IDENTITY_SECRET_FILE=<file> node signer.mjs <user_id> [email]');
    process.exit(2);
  }
  console.log(JSON.stringify(sign(file, userId, email)));
}
