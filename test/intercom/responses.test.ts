import { describe, it, expect } from 'vitest';
import { parseCreatedSecret, parseErrorBody, parseSecretList } from '../../src/intercom/responses';
import { unsealForVault } from '../../src/core/secret-material';

const secret = {
  type: 'identity_verification_secret',
  id: '102',
  name: 'Production Web',
  supports_android: true,
  supports_ios: false,
  supports_web: true,
  created_at: 1734537243,
};

describe('reading Intercom responses', () => {
  it('reads a list, ignoring unknown members and deriving platforms from the flags', () => {
    const text = JSON.stringify({ type: 'list', data: [{ ...secret, colour: 'blue' }], pages: null });
    expect(parseSecretList(text)).toEqual([{ id: '102', name: 'Production Web', platforms: ['web', 'android'], createdAt: 1734537243 }]);
  });

  it('treats a missing flag as not enabled, but a flag that is not a boolean as unreadable (the impact guard must not miscount)', () => {
    const { supports_android: _a, ...noAndroid } = secret;
    expect(parseSecretList(JSON.stringify({ type: 'list', data: [noAndroid] }))?.[0]?.platforms).toEqual(['web']);
    expect(parseSecretList(JSON.stringify({ type: 'list', data: [{ ...noAndroid, supports_web: 'true' }] }))).toBeNull();
  });

  it('takes a numeric id only while it is exact, and a whole-second created_at only', () => {
    expect(parseSecretList(JSON.stringify({ type: 'list', data: [{ ...secret, id: 102 }] }))?.[0]?.id).toBe('102');
    expect(parseSecretList(`{"type":"list","data":[${JSON.stringify(secret).replace('"102"', '9007199254740993')}]}`)).toBeNull();
    expect(parseSecretList(JSON.stringify({ type: 'list', data: [{ ...secret, created_at: 1734537243.5 }] }))).toBeNull();
  });

  it('rejects a list with an entry missing a field it uses, or that is not JSON', () => {
    const { name: _n, ...noName } = secret;
    expect(parseSecretList(JSON.stringify({ type: 'list', data: [secret, noName] }))).toBeNull();
    expect(parseSecretList(JSON.stringify({ type: 'list' }))).toBeNull();
    expect(parseSecretList('<html>')).toBeNull();
  });

  it('seals the 201 material at once and refuses a 201 without it', () => {
    const created = parseCreatedSecret(JSON.stringify({ ...secret, secret: '9Zw0xNs3vKk0fPz9rwKqNbzH3mPVQmQxL9vhSm9Tk4A' }));
    expect(created && unsealForVault(created.material)).toBe('9Zw0xNs3vKk0fPz9rwKqNbzH3mPVQmQxL9vhSm9Tk4A');
    expect(JSON.stringify(created)).not.toContain('9Zw0x');
    expect(parseCreatedSecret(JSON.stringify(secret))).toBeNull();
    expect(parseCreatedSecret('{"type":"identity_verification_secret","id":"1","secret":"9Zw0xNs3')).toBeNull();
    // Not the 43-character base64url the material is: nothing anyone could sign with.
    for (const bad of ['abc', '9Zw0xNs3vKk0fPz9rwKqNbzH3mPVQmQxL9vhSm9Tk4A=', '9Zw0xNs3vKk0fPz9rwKqNbzH3mPVQmQxL9vhSm9Tk4+']) {
      expect(parseCreatedSecret(JSON.stringify({ ...secret, secret: bad }))).toBeNull();
    }
  });

  it('keeps only codes and the request id from an error list', () => {
    const body = {
      type: 'error.list',
      request_id: '77b9d3c0-09e1-4d5f-8e6c-7d4a2f1b9a12',
      errors: [
        { code: 'identity_verification_secret_not_found', message: 'Identity verification secret not found' },
        { code: 'Echoed-Value_9Zw0x' },
        { message: 'no code' },
      ],
    };
    expect(parseErrorBody(JSON.stringify(body))).toEqual({
      codes: ['identity_verification_secret_not_found'],
      requestId: '77b9d3c0-09e1-4d5f-8e6c-7d4a2f1b9a12',
    });
    expect(parseErrorBody('<html>502</html>')).toEqual({ codes: [] });
  });
});
