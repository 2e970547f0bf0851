import { describe, expect, it } from 'vitest';
import { SecretCatalog } from '../../src/core/catalog';
import type { Intercom, MaterialStatus, SecretVault } from '../../src/core/ports';
import type { SecretInfo } from '../../src/core/types';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** An Intercom whose lists answer only when the test releases them (the newest first), counting calls. */
function gatedIntercom(secrets: SecretInfo[]) {
  let calls = 0;
  const waiting: Array<(s: SecretInfo[]) => void> = [];
  const intercom = {
    listSecrets: () => {
      calls++;
      return new Promise<SecretInfo[]>((resolve) => waiting.push(resolve));
    },
  } as unknown as Intercom;
  return { intercom, calls: () => calls, release: (answer: SecretInfo[] = secrets) => waiting.pop()?.(answer) };
}

const vault = (status: MaterialStatus | 'throws') =>
  ({
    materialStatus: async (ids: readonly string[]) => {
      if (status === 'throws') throw new Error('sealed');
      return new Map(ids.map((id) => [id, status]));
    },
  }) as unknown as SecretVault;

const secret: SecretInfo = { id: '102', name: 'Web', platforms: ['web'], createdAt: 1 };

/** A catalog over the gated Intercom, reusing listings for 5 s while `hears` says changes are heard. */
function catalogOf(gate: ReturnType<typeof gatedIntercom>, opts: { status?: MaterialStatus | 'throws'; maxAgeMs?: number } = {}) {
  // A clock that moves only when told, so an age of 4999 ms stays 4999 ms however slow the machine is.
  let now = 1_700_000_000_000;
  const clock = { now: () => now, sleep: async () => undefined, every: () => () => undefined, advance: (ms: number) => (now += ms) };
  let hears = true;
  const catalog = new SecretCatalog(gate.intercom, vault(opts.status ?? 'present'), silent, {
    clock,
    maxAgeMs: opts.maxAgeMs ?? 5_000,
    hearsChanges: () => hears,
  });
  return { catalog, clock, deaf: () => (hears = false) };
}

/** One listing fetched through the gate. */
async function listed(gate: ReturnType<typeof gatedIntercom>, catalog: SecretCatalog) {
  const listing = catalog.list();
  gate.release();
  return listing;
}

describe('the secret catalog', () => {
  it('lists asked for while one is in flight share its answer', async () => {
    const gate = gatedIntercom([secret]);
    const { catalog } = catalogOf(gate);
    const first = catalog.list();
    const second = catalog.list();
    gate.release();
    const [a, b] = await Promise.all([first, second]);
    expect(gate.calls()).toBe(1);
    expect(a).toBe(b);
    expect(a.material?.get('102')).toBe('present');
  });

  it('shows a complete listing again until it is maxAge old, then asks again', async () => {
    const gate = gatedIntercom([secret]);
    const { catalog, clock } = catalogOf(gate);
    expect(catalog.reusable()).toBeUndefined();
    const first = await listed(gate, catalog);
    clock.advance(4_999);
    expect(catalog.reusable()).toBe(first);
    expect(await catalog.list()).toBe(first);
    expect(gate.calls()).toBe(1);

    clock.advance(1);
    expect(catalog.reusable()).toBeUndefined();
    await listed(gate, catalog);
    expect(gate.calls()).toBe(2);
  });

  it('forgets the listing at a change, and does not keep or share one that was in flight across it', async () => {
    const gate = gatedIntercom([secret]);
    const { catalog } = catalogOf(gate);
    await listed(gate, catalog);
    catalog.changed();
    expect(catalog.reusable()).toBeUndefined();

    const before = catalog.list();
    catalog.changed();
    // Asked after the change: a new fetch, not the one that started before it.
    const after = catalog.list();
    expect(gate.calls()).toBe(3);
    gate.release();
    const fresh = await after;
    // The older fetch ends last, with what Intercom said before the change: it must not be kept.
    gate.release([]);
    expect((await before).secrets).toEqual([]);
    expect(catalog.reusable()).toBe(fresh);
  });

  it('reuses nothing while changes elsewhere cannot be heard', async () => {
    const gate = gatedIntercom([secret]);
    const { catalog, deaf } = catalogOf(gate);
    await listed(gate, catalog);
    expect(catalog.reusable()).toBeDefined();
    deaf();
    expect(catalog.reusable()).toBeUndefined();
  });

  it('reuses nothing with maxAge 0', async () => {
    const gate = gatedIntercom([secret]);
    const { catalog } = catalogOf(gate, { maxAgeMs: 0 });
    await listed(gate, catalog);
    expect(catalog.reusable()).toBeUndefined();
  });

  it('still lists when Vault cannot be asked, without the material column, and does not keep that answer', async () => {
    const gate = gatedIntercom([secret]);
    const { catalog, clock } = catalogOf(gate, { status: 'throws' });
    const listing = await listed(gate, catalog);
    expect(listing).toEqual({ secrets: [secret], listedAt: clock.now() });
    expect(catalog.reusable()).toBeUndefined();
  });
});
