import { describe, expect, it } from 'vitest';
import { baseName, fingerprint, intercomName, newRequestId, requestIdInName, REQUEST_ID_PATTERN } from '../../src/core/request-id';
import { parseRequestId } from '../../src/slack/command-parser';

describe('request ids', () => {
  it('are short, unambiguous and accepted by the command parser', () => {
    const ids = new Set(Array.from({ length: 500 }, () => newRequestId()));
    expect(ids.size).toBeGreaterThan(490);
    for (const id of ids) {
      expect(id).toMatch(REQUEST_ID_PATTERN);
      expect(id.slice(2)).not.toMatch(/[ILOU]/);
      expect(parseRequestId(id.toLowerCase())).toBe(id);
    }
  });

  it('travel in the Intercom name and can be read back from it', () => {
    const name = intercomName('Production Web', 'R-7F3K2Q');
    expect(name).toBe('Production Web [R-7F3K2Q]');
    expect(requestIdInName(name)).toBe('R-7F3K2Q');
    expect(requestIdInName('Production Web')).toBeNull();
    expect(baseName(name)).toBe('Production Web');
  });
});

describe('the fingerprint of an operation', () => {
  const op = { action: 'delete', workspace: 'default', secretId: '102', secretName: 'Web', platforms: ['web'], force: false } as const;

  it('is stable for the same operation and changes with any detail of it', () => {
    expect(fingerprint('R-AAAAAA', op)).toBe(fingerprint('R-AAAAAA', { ...op }));
    expect(fingerprint('R-AAAAAA', op)).toMatch(/^[0-9a-f]{4}-[0-9a-f]{4}$/);
    expect(fingerprint('R-AAAAAA', { ...op, force: true })).not.toBe(fingerprint('R-AAAAAA', op));
    expect(fingerprint('R-AAAAAA', { ...op, secretId: '103' })).not.toBe(fingerprint('R-AAAAAA', op));
    expect(fingerprint('R-BBBBBB', op)).not.toBe(fingerprint('R-AAAAAA', op));
  });
});
