import { describe, expect, it } from 'vitest';
import { fastWorld, LEASE_MS } from '../support/fast-world';
import { intercomUnavailable } from '../support/memory-ports';
import { rotationRequest } from '../support/request-fixtures';
import type { SecretInfo } from '../../src/core/types';

/*
 * The delete and rotation workflows through the executor, in milliseconds (see executor.test.ts for
 * the world they run in); test/e2e/secrets, rotation and compromised-rotation prove the same against
 * the HTTP doubles.
 */

const old: SecretInfo = { id: '102', name: 'Production Web', platforms: ['web'], createdAt: 1_600_000_000 };
const spare: SecretInfo = { id: '103', name: 'Spare Web', platforms: ['web'], createdAt: 1_650_000_000 };
const deleteOf = (secret: SecretInfo, force = false) =>
  ({ action: 'delete', workspace: 'default', secretId: secret.id, secretName: secret.name, platforms: secret.platforms, force }) as const;

describe('a delete', () => {
  it('removes the secret at Intercom, marks its Vault entry deleted and repoints current/<platform>', async () => {
    const w = fastWorld({ secrets: [old, spare] });
    w.vault.holdMaterialOf('102', '103');
    const request = await w.approved({ operation: deleteOf(old) });
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({
      state: 'succeeded',
      outcome: 'deleted secret 102 (Production Web); Vault entry secrets/102 marked deleted',
    });
    expect(w.intercom.secrets.has('102')).toBe(false);
    expect(w.vault.currents.get('web')?.id).toBe('103');
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'deleted', 'succeeded']);
  });

  it('the impact guard refuses a delete that would leave a platform with no secret, before Intercom is touched', async () => {
    const w = fastWorld({ secrets: [old] });
    const request = await w.approved({ operation: deleteOf(old) });
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({
      state: 'failed',
      outcome: 'refused: deleting 102 would leave web with no secret (open the request with --force to acknowledge that); nothing was deleted',
    });
    expect(w.intercom.calls).toEqual(['list']);
  });

  it('a DELETE carried out whose answer was lost is recognised by listing: succeeded, Vault updated', async () => {
    const w = fastWorld({ secrets: [old, spare] });
    const request = await w.approved({ operation: deleteOf(old) });
    w.intercom.failNext('delete', async () => {
      w.intercom.secrets.delete('102');
      return intercomUnavailable();
    });
    await w.clock.settle(w.a.executor.execute(request.id));
    expect((await w.stored(request.id)).state).toBe('succeeded');
    expect(w.vault.calls).toContain('markDeleted 102');
    expect(w.log.lines.map((l) => l.msg)).toContain('the DELETE failed but Intercom no longer lists the secret');
  });

  it('taken over after its DELETE was sent while Intercom cannot be listed: not decided on a guess, looked at again', async () => {
    const w = fastWorld({ secrets: [old, spare] });
    const request = await w.approved({ operation: deleteOf(old) });
    // Replica A sent the DELETE and died.
    await w.a.store.claim(request.id, w.a.owner, LEASE_MS, w.clock.now());
    await w.a.store.recordProgress(request.id, w.a.owner, { phase: 'deleting', intercomSecretId: '102' }, w.clock.now());
    w.intercom.secrets.delete('102');
    w.intercom.failNext('list', intercomUnavailable);
    await w.clock.advance(LEASE_MS);
    await w.b.executor.recoverStale();
    await w.clock.settle(w.b.executor.execute(request.id));
    expect((await w.stored(request.id)).state).toBe('executing');
    expect(w.outbox.repliesOf(request.id).map((e) => e.type)).toEqual(['recovered', 'retrying']);

    // The next takeover can list: the secret is gone, so only the cleanup is left.
    await w.clock.advance(LEASE_MS);
    await w.a.executor.recoverStale();
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({ state: 'succeeded', outcome: expect.stringMatching(/^secret 102 was already gone at Intercom/) });
    expect(w.intercom.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
  });
});

describe('a rotation', () => {
  it('creates the successor, waits to finish, refuses the retire step before the overlap, then retires the old secret', async () => {
    const w = fastWorld({ secrets: [old] });
    const rotation = await w.approved(rotationRequest('102'));
    await w.clock.settle(w.a.executor.execute(rotation.id));
    const waiting = await w.stored(rotation.id);
    expect(waiting).toMatchObject({
      state: 'awaiting_finish',
      rotation: { step: 'successor', successor: { id: '200', name: `Production Web [${rotation.id}]` } },
    });
    expect(waiting.outcome).toContain('(allowed after 1h)');

    await w.retireApproved(rotation.id);
    await w.clock.settle(w.a.executor.execute(rotation.id));
    // A failed retire step goes back to waiting: both secrets kept.
    expect(await w.stored(rotation.id)).toMatchObject({
      state: 'awaiting_finish',
      outcome: expect.stringMatching(/^refused: the overlap has 1h left: nothing was deleted/),
    });
    expect(w.intercom.secrets.has('102')).toBe(true);

    await w.clock.advance(60 * 60_000);
    await w.retireApproved(rotation.id);
    await w.clock.settle(w.a.executor.execute(rotation.id));
    expect(await w.stored(rotation.id)).toMatchObject({
      state: 'succeeded',
      outcome: expect.stringMatching(/^rotation finished: 200 replaces 102; deleted secret 102/),
    });
    expect([...w.intercom.secrets.keys()]).toEqual(['200']);
    expect(w.vault.currents.get('web')?.id).toBe('200');
  });

  it('a compromised secret is retired as soon as its successor exists', async () => {
    const w = fastWorld({ secrets: [old] });
    const rotation = await w.approved(
      rotationRequest('102', {
        operation: { action: 'rotate', workspace: 'default', secretId: '102', secretName: 'Production Web', platforms: ['web'], compromised: true },
      }),
    );
    await w.clock.settle(w.a.executor.execute(rotation.id));
    expect((await w.stored(rotation.id)).outcome).toContain('(allowed now: the old secret is compromised)');
    await w.retireApproved(rotation.id);
    await w.clock.settle(w.a.executor.execute(rotation.id));
    expect((await w.stored(rotation.id)).state).toBe('succeeded');
    expect(w.intercom.secrets.has('102')).toBe(false);
  });
});
