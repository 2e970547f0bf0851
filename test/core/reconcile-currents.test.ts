import { describe, expect, it } from 'vitest';
import type { Intercom, MaterialStatus, SecretVault } from '../../src/core/ports';
import type { Platform, SecretInfo } from '../../src/core/types';
import { VaultError } from '../../src/core/errors';
import { reconcileCurrents } from '../../src/core/workflows/reconcile-currents';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function world(
  secrets: SecretInfo[],
  material: Record<string, MaterialStatus> | 'fails',
  current: Partial<Record<Platform, string>>,
  movedOn: Platform[] = [],
) {
  const repointed: Array<[Platform, string | null]> = [];
  const intercom = { listSecrets: async () => secrets } as unknown as Intercom;
  const vault = {
    materialStatus: async (ids: readonly string[]) => {
      if (material === 'fails') throw new Error('vault 503');
      return new Map(ids.map((id) => [id, material[id] ?? 'missing']));
    },
    currentTarget: async (p: Platform) => ({ id: current[p] ?? null, version: 3 }),
    repointCurrent: async (p: Platform, target: SecretInfo | null, opts?: { ifVersion?: number }) => {
      if (opts?.ifVersion !== 3) throw new Error('expected a check-and-set against the version read');
      if (movedOn.includes(p)) throw new VaultError('conflict', 'moved on', {});
      repointed.push([p, target?.id ?? null]);
      return { path: `current/${p}` };
    },
  } as unknown as SecretVault;
  return { deps: { intercom, vault, log: silent }, repointed };
}

const secret = (id: string, platforms: Platform[], createdAt: number): SecretInfo => ({ id, name: `S${id}`, platforms, createdAt });

describe('reconciling current/<platform>', () => {
  it('repoints only the platforms whose pointer is not the newest active secret with material', async () => {
    const w = world(
      [secret('1', ['web', 'ios'], 100), secret('2', ['web'], 200), secret('3', ['android'], 300)],
      { '1': 'present', '2': 'present', '3': 'missing' },
      { web: '1', ios: '1', android: '9' },
    );
    expect(await reconcileCurrents(w.deps)).toEqual(['web', 'android']);
    // web → the newer secret 2; android: its only secret has no material, so nothing is handed out.
    expect(w.repointed).toEqual([
      ['web', '2'],
      ['android', null],
    ]);
  });

  it('leaves a pointer that moved on since it was read (an execution repointed it) for the next check', async () => {
    const w = world([secret('1', ['web'], 100), secret('2', ['web'], 200)], { '1': 'present', '2': 'present' }, { web: '1' }, ['web']);
    expect(await reconcileCurrents(w.deps)).toEqual([]);
  });

  it('reads the pointers before it lists Intercom', async () => {
    const order: string[] = [];
    const w = world([secret('1', ['web'], 100)], { '1': 'present' }, { web: '1' });
    const { intercom, vault } = w.deps;
    const deps = {
      ...w.deps,
      intercom: {
        listSecrets: async () => {
          order.push('list');
          return intercom.listSecrets();
        },
      } as unknown as Intercom,
      vault: {
        ...vault,
        materialStatus: vault.materialStatus,
        currentTarget: async (p: Platform) => {
          order.push(`current/${p}`);
          return vault.currentTarget(p);
        },
      } as unknown as SecretVault,
    };
    await reconcileCurrents(deps);
    expect(order.indexOf('list')).toBeGreaterThan(order.lastIndexOf('current/android'));
  });

  it('changes nothing when Vault cannot say which secrets have material', async () => {
    const w = world([secret('1', ['web'], 100)], 'fails', { web: '7' });
    await expect(reconcileCurrents(w.deps)).rejects.toThrow(/vault 503/);
    expect(w.repointed).toEqual([]);
  });
});
