import { describe, it, expect } from 'vitest';
import { resolveIntercomBaseUrl } from '../../src/intercom/region';

describe('resolveIntercomBaseUrl', () => {
  it('maps the region shorthands to Intercom’s regional hosts', () => {
    expect(resolveIntercomBaseUrl('us')).toBe('https://api.intercom.io');
    expect(resolveIntercomBaseUrl('eu')).toBe('https://api.eu.intercom.io');
    expect(resolveIntercomBaseUrl('AU')).toBe('https://api.au.intercom.io');
  });

  it('keeps a full URL, path included, without a trailing slash', () => {
    expect(resolveIntercomBaseUrl('http://127.0.0.1:4010/')).toBe('http://127.0.0.1:4010');
    expect(resolveIntercomBaseUrl('https://proxy.example/intercom')).toBe('https://proxy.example/intercom');
  });

  it('refuses anything else with a clear message that does not echo the value', () => {
    expect(() => resolveIntercomBaseUrl('mars')).toThrow(/us, eu, au or a full http\(s\) URL/);
    expect(() => resolveIntercomBaseUrl('ftp://example.com')).toThrow(/http\(s\)/);
    expect(() => resolveIntercomBaseUrl('https://user:pw@example.com')).toThrow(/credentials/);
    let message = '';
    try {
      resolveIntercomBaseUrl('dG9rZW4tbWlzcGxhY2Vk');
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/INTERCOM_API_URL/);
    expect(message).not.toContain('dG9rZW4tbWlzcGxhY2Vk');
  });
});
