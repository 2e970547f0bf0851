import { describe, expect, it } from 'vitest';
import { SecretCatalog } from '../../src/core/catalog';
import type { Intercom, MaterialStatus, SecretVault } from '../../src/core/ports';
import type { SecretInfo } from '../../src/core/types';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** An Intercom whose list answers only when the test releases it, counting calls. */
function gatedIntercom(secrets: SecretInfo[]) {
  let calls = 0;
  let release: () => void = () => undefined;
  const intercom = {
    listSecrets: () => {
      calls++;
      return new Promise<SecretInfo[]>((resolve) => {
        release = () => resolve(secrets);
      });
    },
  } as unknown as Intercom;
  return { intercom, calls: () => calls, release: () => release() };
}

const vault = (status: MaterialStatus | 'throws') =>
  ({
    materialStatus: async (ids: readonly string[]) => {
      if (status === 'throws') throw new Error('sealed');
      return new Map(ids.map((id) => [id, status]));
    },
  }) as unknown as SecretVault;

const secret: SecretInfo = { id: '102', name: 'Web', platforms: ['web'], createdAt: 1 };

describe('the secret catalog', () => {
  it('lists asked for while one is in flight share its answer; a later list asks again', async () => {
    const gate = gatedIntercom([secret]);
    const catalog = new SecretCatalog(gate.intercom, vault('present'), silent);
    const first = catalog.list();
    const second = catalog.list();
    gate.release();
    const [a, b] = await Promise.all([first, second]);
    expect(gate.calls()).toBe(1);
    expect(a).toBe(b);
    expect(a.material?.get('102')).toBe('present');

    const third = catalog.list();
    gate.release();
    await third;
    expect(gate.calls()).toBe(2);
  });

  it('still lists when Vault cannot be asked, without the material column', async () => {
    const gate = gatedIntercom([secret]);
    const listing = new SecretCatalog(gate.intercom, vault('throws'), silent).list();
    gate.release();
    expect(await listing).toEqual({ secrets: [secret] });
  });
});
