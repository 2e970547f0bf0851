import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { inspect } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SecretMaterial, unsealForVault } from '../../src/core/secret-material';

const RAW = 'raw-material-4f1c2a9e8b7d6c5b4a3f2e1d0c9b8a7f';

describe('SecretMaterial', () => {
  const material = SecretMaterial.of(RAW);

  it('says [redacted] under String() and template literals', () => {
    expect(String(material)).toBe('[redacted]');
    expect(`${material}`).toBe('[redacted]');
    expect(`x${material}`).toBe('x[redacted]');
  });

  it('says [redacted] under JSON.stringify, also nested', () => {
    expect(JSON.stringify(material)).toBe('"[redacted]"');
    expect(JSON.stringify({ secret: { material } })).not.toContain(RAW);
  });

  it('says [redacted] under util.inspect at any depth', () => {
    expect(inspect(material)).toBe('[redacted]');
    expect(inspect({ a: { b: { material } } }, { depth: 10, showHidden: true })).not.toContain(RAW);
  });

  it('says [redacted] in pino log lines', () => {
    const lines: string[] = [];
    const logger = pino({}, { write: (l: string) => void lines.push(l) });
    logger.info({ material, nested: { material } }, 'created');
    logger.info(`material is ${material}`);
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toContain(RAW);
    expect(lines[0]).toContain('[redacted]');
  });

  it('carries nothing through structuredClone', () => {
    const clone = structuredClone({ material }) as { material: unknown };
    expect(JSON.stringify(clone)).not.toContain(RAW);
    expect(inspect(clone, { depth: 10 })).not.toContain(RAW);
    expect(() => unsealForVault(clone.material as SecretMaterial)).toThrow(TypeError);
  });

  it('exposes nothing through Object.keys, entries or own property names', () => {
    expect(Object.keys(material)).toEqual([]);
    expect(Object.entries(material)).toEqual([]);
    const own = Reflect.ownKeys(material).map((k) => (material as unknown as Record<PropertyKey, unknown>)[k]);
    expect(own.some((v) => v === RAW)).toBe(false);
    expect({ ...material }).toEqual({});
  });

  it('gives the raw value to unsealForVault only', () => {
    expect(unsealForVault(material)).toBe(RAW);
  });

  it('refuses empty material', () => {
    expect(() => SecretMaterial.of('')).toThrow(TypeError);
  });
});

describe('who may unseal material', () => {
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? files(full) : [full];
    });
  }

  it('only the Vault adapter and secret-material.ts name unsealForVault', () => {
    const src = join(__dirname, '..', '..', 'src');
    const offenders = files(src)
      .map((f) => relative(src, f).split(sep).join('/'))
      .filter((f) => !f.startsWith('vault/') && f !== 'core/secret-material.ts')
      .filter((f) => readFileSync(join(src, f), 'utf8').includes('unsealForVault'));
    expect(offenders).toEqual([]);
  });

  it('the Vault adapter does use it (the check above is looking at the right tree)', () => {
    const adapter = readFileSync(join(__dirname, '..', '..', 'src', 'vault', 'secret-vault.ts'), 'utf8');
    expect(adapter).toContain('unsealForVault');
  });
});
