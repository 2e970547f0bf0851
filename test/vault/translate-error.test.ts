import { describe, expect, it } from 'vitest';
import { toVaultError } from '../../src/vault/translate-error';

describe('Vault errors', () => {
  it('scrub a sensitive value before shortening the message, so no part of it survives the cut', () => {
    const token = 'hvs.sensitive-token-value-0123456789';
    // The token straddles the 300-character cut of the message.
    const message = `${'x'.repeat(285)} ${token} tail`;
    const err = toVaultError({ response: { statusCode: 400, body: { errors: [message] } } }, { op: 'write', path: 'secret/data/p', sensitive: [token] });
    expect(err.message).not.toContain(token.slice(0, 12));
    expect(err.message.length).toBeLessThanOrEqual(301);
  });
});
