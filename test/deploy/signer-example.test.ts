import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The signer example (plain JavaScript, Node's crypto) against answers computed elsewhere: RFC 4231's
// HMAC-SHA256 test case, vectors computed once with Python's hmac and with the jose library (both
// agreed) and pinned here, and jose signing and verifying at test time.

const SIGNER = resolve(__dirname, '../../deploy/kubernetes/signer-example/signer.mjs');

interface SignerExample {
  JWT_TTL_SECONDS: number;
  userHash(secret: string, userId: string): string;
  messengerJwt(secret: string, claims: { userId: string; email?: string; expiresAt: number }): string;
  sign(file: string, userId: string, email?: string): { user_hash: string; intercom_user_jwt: string; exp: number };
}

// A made-up secret of the shape Intercom returns (32 bytes, base64url, 43 characters).
const SECRET = 'sQ1JdPq8cZ0oO1wT0ZbGvX2lK4mN6pR8sT0uV2wX4yA';
const EXP = 1_800_000_000;
const PINNED = {
  userHash: 'fcb0e9589ddf055bc81f31638fb9d8f1e752d32a4b0efbb85fcd19a7e1fd4f57',
  jwtWithEmail:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoidXNlci00MiIsImVtYWlsIjoiYWRhQGV4YW1wbGUuY29tIiwiZXhwIjoxODAwMDAwMDAwfQ.8Ttgjx5KQ6cNHKOnLWZgfbl_2vu_VDehVyxvNnT20FA',
  jwtWithoutEmail: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoidXNlci00MiIsImV4cCI6MTgwMDAwMDAwMH0.Ok2Ye4hkVisHTDGSFnVPEQEUIyJCDBL-76T30fseq5E',
};

const key = (secret: string) => new TextEncoder().encode(secret);
let signer: SignerExample;
let dir: string;

beforeAll(async () => {
  signer = (await import(pathToFileURL(SIGNER).href)) as SignerExample;
  dir = mkdtempSync(join(tmpdir(), 'signer-example-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the signer example: user_hash', () => {
  it('is HMAC-SHA256 as RFC 4231 defines it (test case 2)', () => {
    expect(signer.userHash('Jefe', 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('is lowercase hex of HMAC-SHA256(secret string, user_id), as computed by Python', () => {
    expect(signer.userHash(SECRET, 'user-42')).toBe(PINNED.userHash);
  });
});

describe('the signer example: intercom_user_jwt', () => {
  it('matches the pinned HS256 tokens, with and without email', () => {
    expect(signer.messengerJwt(SECRET, { userId: 'user-42', email: 'ada@example.com', expiresAt: EXP })).toBe(PINNED.jwtWithEmail);
    expect(signer.messengerJwt(SECRET, { userId: 'user-42', expiresAt: EXP })).toBe(PINNED.jwtWithoutEmail);
  });

  it('is the token jose signs from the same claims, for any secret, user and email', async () => {
    for (const [userId, email] of [
      ['1', undefined],
      ['8d1c3a40-7b2e-4f7e-9a51-3c9e0d2f6b11', 'zoë+support@例え.jp'],
      ['user "quoted" \\ slash', 'a@b.c'],
    ] as const) {
      const secret = randomBytes(32).toString('base64url');
      const claims = { user_id: userId, ...(email === undefined ? {} : { email }) };
      const expected = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime(EXP).sign(key(secret));
      expect(signer.messengerJwt(secret, { userId, ...(email === undefined ? {} : { email }), expiresAt: EXP })).toBe(expected);
    }
  });

  it('verifies with the secret (jose), carries user_id, email and exp, and fails with another secret or a changed claim', async () => {
    const token = signer.messengerJwt(SECRET, { userId: 'user-42', email: 'ada@example.com', expiresAt: EXP });
    const { payload, protectedHeader } = await jwtVerify(token, key(SECRET), { algorithms: ['HS256'], currentDate: new Date((EXP - 60) * 1000) });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({ user_id: 'user-42', email: 'ada@example.com', exp: EXP });

    await expect(jwtVerify(token, key(`${SECRET}x`), { currentDate: new Date((EXP - 60) * 1000) })).rejects.toThrow(/signature/);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ user_id: 'admin', exp: EXP })).toString('base64url')}.${signature}`;
    await expect(jwtVerify(forged, key(SECRET), { currentDate: new Date((EXP - 60) * 1000) })).rejects.toThrow(/signature/);
    await expect(jwtVerify(token, key(SECRET), { currentDate: new Date((EXP + 60) * 1000) })).rejects.toThrow(/exp/);
  });

  it('refuses an expiry that is not whole seconds', () => {
    expect(() => signer.messengerJwt(SECRET, { userId: 'u', expiresAt: Date.now() / 1000 })).toThrow(/whole seconds/);
  });
});

describe('the signer example, run as Vault Agent or a mounted Secret would have it', () => {
  const run = (args: string[], file?: string) =>
    spawnSync(process.execPath, [SIGNER, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...(file ? { INTERCOM_IDENTITY_SECRET_FILE: file } : {}) },
      encoding: 'utf8',
    });

  it('reads the material from the file and prints both values, never the material', async () => {
    const file = join(dir, 'intercom-web');
    writeFileSync(file, `${SECRET}\n`);
    const before = Math.floor(Date.now() / 1000);
    const result = run(['user-42', 'ada@example.com'], file);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    const out = JSON.parse(result.stdout) as { user_hash: string; intercom_user_jwt: string; exp: number };
    expect(out.user_hash).toBe(PINNED.userHash);
    expect(out.exp).toBeGreaterThanOrEqual(before + signer.JWT_TTL_SECONDS);
    expect(out.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + signer.JWT_TTL_SECONDS);
    expect(decodeProtectedHeader(out.intercom_user_jwt)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(out.intercom_user_jwt, key(SECRET), { algorithms: ['HS256'] });
    expect(payload).toEqual({ user_id: 'user-42', email: 'ada@example.com', exp: out.exp });
  });

  it('picks up material rotated in place on its next signature', () => {
    const file = join(dir, 'rotating');
    writeFileSync(file, SECRET);
    expect(signer.sign(file, 'user-42').user_hash).toBe(PINNED.userHash);
    const next = randomBytes(32).toString('base64url');
    writeFileSync(file, next);
    expect(signer.sign(file, 'user-42').user_hash).toBe(signer.userHash(next, 'user-42'));
  });

  it('says how to call it without a file or user id, and refuses an empty file', () => {
    expect(run(['user-42'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^usage: INTERCOM_IDENTITY_SECRET_FILE=/) });
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const result = run(['user-42'], empty);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/is empty: no signing material/);
  });
});
