import { describe, expect, it } from 'vitest';
import { IntercomError, StoreUnavailableError, VaultError } from '../../src/core/errors';
import { MAX_TAKEOVERS } from '../../src/core/executor';
import { quiesce } from '../support/fast-clock';
import { deferred, fastWorld, HOLDER_WINDOW_MS, LEASE_MS, never } from '../support/fast-world';
import { intercomUnavailable } from '../support/memory-ports';

/*
 * The executor's and the workflows' decisions in milliseconds: in-memory store (the same contract as
 * Redis, test/support/request-store-contract.ts), in-memory Intercom and Vault, and a fast-forward
 * clock, so a lease that runs out or a holder window that passes costs no real time. The e2e tests
 * (test/e2e/crash, failover, interrupted-create, secrets) prove the same paths through real processes.
 */

/**
 * Two approved creates; replica A runs the first and holds the workspace slot inside its Vault write
 * until `free()`; replica B has tried the second once (it waits). `running` is A's execution.
 */
async function secondWaitsForSlot(w: ReturnType<typeof fastWorld>) {
  const first = await w.approved();
  const second = await w.approved();
  const release = deferred();
  w.vault.onStore = () => release.promise;
  const running = w.a.executor.execute(first.id);
  await quiesce();
  await w.clock.settle(w.b.executor.execute(second.id));
  const free = () => {
    w.vault.onStore = undefined;
    release.resolve();
  };
  return { second, running, free };
}

describe('the executor', () => {
  it('carries out an approved create: one POST, the material in Vault, current/<platform> repointed, succeeded', async () => {
    const w = fastWorld();
    const request = await w.approved();
    await w.clock.settle(w.a.executor.execute(request.id));

    const done = await w.stored(request.id);
    expect(done).toMatchObject({ state: 'succeeded', outcome: expect.stringMatching(/^created secret 200 .*secrets\/200 v1/) });
    expect(w.createsOf(request.id)).toHaveLength(1);
    expect(w.vault.entries.get('200')).toMatchObject({ status: 'present', provenance: { requestId: request.id, approvers: ['U_APP'] } });
    expect(w.vault.currents.get('web')?.id).toBe('200');
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'created', 'succeeded']);
    // The slot is free and nothing is left for recovery.
    expect(w.data.inflight.size).toBe(0);
    expect(await w.b.store.staleLeases(w.clock.now() + 10 * LEASE_MS)).toEqual([]);
    expect(w.clock.timers).toBe(0);
  });

  it('started by the decisive approval whose event was recorded with it, the claim records "executing" in its own step, once', async () => {
    const w = fastWorld();
    const request = await w.approved();
    await w.clock.settle(w.a.executor.execute(request.id, request));
    expect((await w.stored(request.id)).state).toBe('succeeded');
    // And the finish records "succeeded" in its own step: "created" was recorded by then.
    expect(w.toldByStore).toEqual([`${request.id} executing`, `${request.id} succeeded`]);
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'created', 'succeeded']);
    expect(w.outbox.repliesOf(request.id).map((e) => e.type)).toEqual(['executing', 'created', 'succeeded']);
  });

  it('a claim sent while the Journal still records an event of the request records no "executing" of its own: it is told after that event', async () => {
    const w = fastWorld();
    const request = await w.approved();
    const release = w.audit.hold();
    const reminding = w.a.journal.tell(request, { type: 'approval_reminder', at: w.clock.now(), detail: { approvers: 'U_APP2' } });
    const run = w.a.executor.execute(request.id, request);
    await quiesce();
    expect((await w.stored(request.id)).state).not.toBe('approved');
    release();
    await reminding;
    await w.clock.settle(run);
    expect((await w.stored(request.id)).state).toBe('succeeded');
    expect(w.toldByStore).not.toContain(`${request.id} executing`);
    expect(w.audit.typesOf(request.id)).toEqual(['approval_reminder', 'executing', 'created', 'succeeded']);
    expect(w.outbox.repliesOf(request.id).map((e) => e.type)).toEqual(['approval_reminder', 'executing', 'created', 'succeeded']);
  });

  it('keeps its lease while a step runs long, renewing it every third of the lease', async () => {
    const w = fastWorld();
    const request = await w.approved();
    const stored = deferred();
    w.vault.onStore = () => stored.promise;
    const run = w.a.executor.execute(request.id);
    await quiesce();
    await w.clock.advance(4 * LEASE_MS);
    expect(await w.b.store.staleLeases(w.clock.now())).toEqual([]);
    expect((await w.b.store.claim(request.id, w.b.owner, LEASE_MS, w.clock.now())).kind).toBe('not_claimable');
    stored.resolve();
    await w.clock.settle(run);
    expect((await w.stored(request.id)).state).toBe('succeeded');
    // The renewal stopped with the step.
    expect(w.clock.timers).toBe(0);
  });

  it('a request waiting for the workspace says so once and runs as soon as the slot is free, with no sweep', async () => {
    const w = fastWorld();
    const { second, running, free } = await secondWaitsForSlot(w);
    await w.clock.settle(w.b.executor.execute(second.id));
    expect(w.audit.typesOf(second.id)).toEqual(['waiting']);

    free();
    await w.clock.settle(running);
    // Replica A freed the slot and started the waiting request itself.
    await w.clock.settle(w.a.executor.execute(second.id));
    expect((await w.stored(second.id)).state).toBe('succeeded');
    expect(w.audit.typesOf(second.id)).toEqual(['waiting', 'executing', 'created', 'succeeded']);
  });

  it('an approval that waited past its expiry starts nothing', async () => {
    const w = fastWorld();
    // Waiting for the workspace slot past its expiry: not started, so refused when the slot frees.
    const { second, running, free } = await secondWaitsForSlot(w);
    await w.clock.advance(2 * 60 * 60_000);
    free();
    await w.clock.settle(running);
    await w.clock.settle(w.a.executor.execute(second.id));
    expect(await w.stored(second.id)).toMatchObject({
      state: 'failed',
      outcome: 're-check at execution refused it: the request expired 1h ago before it could start; nothing was changed',
    });
    expect(w.createsOf(second.id)).toEqual([]);

    // Never claimed until after its expiry (the replica that approved it died): the takeover looks at
    // Intercom first, as for any create, then starts nothing.
    const orphaned = await w.approved();
    await w.clock.advance(2 * 60 * 60_000);
    await w.b.executor.recoverStale();
    await w.clock.settle(w.b.executor.execute(orphaned.id));
    expect(await w.stored(orphaned.id)).toMatchObject({
      state: 'failed',
      outcome: 're-check at execution refused it: the request expired before it could start; nothing was created',
    });
    expect(w.createsOf(orphaned.id)).toEqual([]);
  });

  it("an orphan's delete request never expires: approved, it still runs after waiting for the workspace past its TTL", async () => {
    const w = fastWorld({ secrets: [{ id: '150', name: 'Lost [R-ORIGIN]', platforms: ['web'], createdAt: 1_700_000_000 }] });
    const first = await w.approved();
    const orphanDelete = await w.approved({
      operation: { action: 'delete', workspace: 'default', secretId: '150', secretName: 'Lost [R-ORIGIN]', platforms: ['web'], force: true },
      orphanOf: 'R-ORIGIN',
    });
    const release = deferred();
    w.vault.onStore = () => release.promise;
    const running = w.a.executor.execute(first.id);
    await quiesce();
    await w.clock.settle(w.b.executor.execute(orphanDelete.id));
    await w.clock.advance(2 * 60 * 60_000);
    w.vault.onStore = undefined;
    release.resolve();
    await w.clock.settle(running);
    await w.clock.settle(w.a.executor.execute(orphanDelete.id));
    expect((await w.stored(orphanDelete.id)).state).toBe('succeeded');
    expect(w.intercom.calls).toContain('delete 150');
  });

  it("an orphan's delete that fails (Vault sealed) opens another delete for the orphan and says so; an ordinary delete that fails opens none", async () => {
    const w = fastWorld({
      secrets: [
        { id: '150', name: 'Lost [R-ORIGIN]', platforms: ['web'], createdAt: 1_700_000_000 },
        { id: '151', name: 'Plain', platforms: ['web'], createdAt: 1_700_000_000 },
      ],
    });
    w.vault.preflightFault = new VaultError('sealed', 'vault health: Vault is sealed');
    const orphanDelete = await w.approved({
      operation: { action: 'delete', workspace: 'default', secretId: '150', secretName: 'Lost [R-ORIGIN]', platforms: ['web'], force: true },
      orphanOf: 'R-ORIGIN',
    });
    await w.clock.settle(w.a.executor.execute(orphanDelete.id));
    expect(await w.stored(orphanDelete.id)).toMatchObject({
      state: 'failed',
      outcome:
        'Vault is not ready for the delete (sealed: vault health: Vault is sealed): nothing was deleted; delete request R-0RPHAN opened again for the orphan',
    });
    expect(w.orphanDeletes).toEqual([
      { requestId: orphanDelete.id, secret: { id: '150', name: 'Lost [R-ORIGIN]', platforms: ['web'] }, why: `its delete request ${orphanDelete.id} failed` },
    ]);

    const ordinary = await w.approved({
      operation: { action: 'delete', workspace: 'default', secretId: '151', secretName: 'Plain', platforms: ['web'], force: true },
    });
    await w.clock.settle(w.a.executor.execute(ordinary.id));
    expect((await w.stored(ordinary.id)).outcome).toBe('Vault is not ready for the delete (sealed: vault health: Vault is sealed): nothing was deleted');
    expect(w.orphanDeletes).toHaveLength(1);
    expect(w.intercom.calls).not.toContain('delete 150');
  });

  it('drains on shutdown: waits for what runs, gives up after its timeout, and leaves no timer behind', async () => {
    const w = fastWorld();
    const request = await w.approved();
    w.vault.onStore = never;
    void w.a.executor.execute(request.id);
    await quiesce();
    const drained = w.a.executor.drain(20_000);
    await w.clock.advance(20_000 - 1);
    let answered: boolean | undefined;
    void drained.then((d) => {
      answered = d;
    });
    await quiesce();
    expect(answered).toBeUndefined();
    await w.clock.advance(1);
    expect(await drained).toBe(false);
    // No new executions once draining.
    const other = await w.approved();
    await w.a.executor.execute(other.id);
    expect((await w.stored(other.id)).state).toBe('approved');

    const idle = fastWorld();
    expect(await idle.a.executor.drain(20_000)).toBe(true);
    const quick = await idle.approved();
    const run = idle.b.executor.execute(quick.id);
    const drainedQuick = idle.b.executor.drain(20_000);
    await idle.clock.settle(run);
    expect(await drainedQuick).toBe(true);
    expect(idle.clock.timers).toBe(0);
  });
});

describe('takeovers of a stale lease', () => {
  it('a replica that died after the POST: taken over once its lease ran out, the secret without material is an orphan and a delete is opened', async () => {
    const w = fastWorld();
    const request = await w.approved();
    // Replica A gets the secret from Intercom and dies before its material reaches Vault.
    w.vault.onStore = never;
    void w.a.executor.execute(request.id);
    await quiesce();
    w.a.freeze();
    w.vault.onStore = undefined;
    await w.clock.advance(LEASE_MS);
    const lostAt = w.clock.now();

    await w.b.executor.recoverStale();
    await w.clock.settle(w.b.executor.execute(request.id));

    const done = await w.stored(request.id);
    expect(done).toMatchObject({
      state: 'failed',
      outcome: expect.stringContaining('secret 200 was created but the replica died before its material reached Vault'),
    });
    expect(w.orphanDeletes).toEqual([expect.objectContaining({ requestId: request.id, secret: expect.objectContaining({ id: '200' }) })]);
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'recovered', 'retrying', 'orphan', 'failed']);
    // It waited for the fenced-off executor's window before concluding, and never sent a second POST.
    expect(w.clock.now() - lostAt).toBeGreaterThanOrEqual(HOLDER_WINDOW_MS);
    expect(w.createsOf(request.id)).toHaveLength(1);
    expect(done.progress['takeovers']).toBe('1');
  });

  it('a replica that died before its POST (and Redis lost the breadcrumbs): after the holder window the create is sent, once', async () => {
    const w = fastWorld();
    const request = await w.approved();
    // Claimed, then gone: no breadcrumb, no POST.
    expect((await w.a.store.claim(request.id, w.a.owner, LEASE_MS, w.clock.now())).kind).toBe('claimed');
    await w.clock.advance(LEASE_MS);
    await w.b.executor.recoverStale();
    await w.clock.settle(w.b.executor.execute(request.id));
    expect((await w.stored(request.id)).state).toBe('succeeded');
    expect(w.createsOf(request.id)).toHaveLength(1);
    expect(w.audit.typesOf(request.id)).toEqual(['recovered', 'retrying', 'created', 'succeeded']);
  });

  it('the lease lost mid-execution: the stalled replica still stores the material it holds, stops, and the takeover finishes the create', async () => {
    const w = fastWorld();
    const request = await w.approved();
    const inCreate = deferred();
    const answer = deferred();
    w.intercom.onCreate = () => {
      inCreate.resolve();
      return answer.promise;
    };
    const stalled = w.a.executor.execute(request.id);
    await inCreate.promise;
    w.intercom.onCreate = undefined;
    // Replica A stalls inside the POST longer than its lease (its timers do not run meanwhile) ...
    w.a.freeze();
    await w.clock.advance(LEASE_MS + 1);
    // ... and B takes over: Intercom lists nothing yet, so B waits for A's window before deciding.
    await w.b.executor.recoverStale();
    const takeover = w.b.executor.execute(request.id);
    await quiesce();
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'recovered', 'retrying']);

    // A wakes up: its breadcrumb is refused (B holds the lease), the material goes to Vault all the same.
    w.a.thaw();
    answer.resolve();
    await w.clock.settle(Promise.all([stalled, takeover]));

    const done = await w.stored(request.id);
    expect(done).toMatchObject({ state: 'succeeded', outcome: expect.stringContaining('created secret 200') });
    expect(w.vault.entries.get('200')?.status).toBe('present');
    expect(w.createsOf(request.id)).toHaveLength(1);
    expect(w.orphanDeletes).toEqual([]);
    // Told twice: by the replica that stored the material before stopping, and by the takeover.
    expect(w.audit.typesOf(request.id).filter((t) => t === 'created')).toHaveLength(2);
    expect(
      w.log.lines.some((l) => l.level === 'error' && l.msg === 'execution crashed' && /taken over/.test(String((l.obj as { err?: Error }).err?.message))),
    ).toBe(true);
  });

  it(`gives up after ${MAX_TAKEOVERS} takeovers that could not finish, and says what to check, by hand`, async () => {
    const w = fastWorld();
    const request = await w.approved();
    // The POST reaches Intercom, its answer is lost, and Intercom cannot be listed to find out.
    w.intercom.loseNextCreateAnswer();
    w.intercom.failNext('list', intercomUnavailable, 1_000);
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'retrying']);

    let takeovers = 0;
    while ((await w.stored(request.id)).state === 'executing' && takeovers < 2 * MAX_TAKEOVERS) {
      await w.clock.advance(LEASE_MS);
      const replica = takeovers % 2 ? w.a : w.b;
      await replica.executor.recoverStale();
      await w.clock.settle(replica.executor.execute(request.id));
      takeovers++;
    }

    const done = await w.stored(request.id);
    expect(done.state).toBe('failed');
    expect(done.outcome).toMatch(
      new RegExp(`^gave up after ${MAX_TAKEOVERS} takeovers that could not finish an interrupted execution \\(it got as far as: posting\\)`),
    );
    expect(done.outcome).toContain(`[${request.id}]`);
    expect(takeovers).toBe(MAX_TAKEOVERS + 1);
    expect(w.audit.typesOf(request.id).filter((t) => t === 'recovered')).toHaveLength(MAX_TAKEOVERS + 1);
    // The same reason is told once, not once per takeover.
    expect(w.audit.typesOf(request.id).filter((t) => t === 'retrying')).toHaveLength(2);
    expect(w.createsOf(request.id)).toHaveLength(1);
  });
});

describe('lost answers', () => {
  it('an ambiguous create that reached Intercom is reconciled by listing: the orphan is reported and a delete request opened, never re-sent', async () => {
    const w = fastWorld();
    const request = await w.approved();
    w.intercom.loseNextCreateAnswer();
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({
      state: 'failed',
      outcome: 'Intercom created secret 200 but its answer, and with it the material, was lost; delete request R-0RPHAN opened for the orphan',
    });
    expect(w.orphanDeletes.map((o) => o.secret.id)).toEqual(['200']);
    expect(w.createsOf(request.id)).toHaveLength(1);
    expect(w.intercom.calls.filter((c) => c === 'list')).toHaveLength(1);
  });

  it('an ambiguous create that created nothing is "nothing was created" after listing twice, never re-sent', async () => {
    const w = fastWorld();
    const request = await w.approved();
    w.intercom.failNext('create', () => {
      throw new IntercomError('ambiguous', 'the connection was reset');
    });
    const started = w.clock.now();
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({
      state: 'failed',
      outcome: 'Intercom did not answer the create (ambiguous) and lists no secret for this request: nothing was created',
    });
    expect(w.intercom.calls.filter((c) => c === 'list')).toHaveLength(2);
    // Intercom may list a new secret a moment late: the second look waits for it.
    expect(w.clock.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(w.createsOf(request.id)).toHaveLength(1);
  });

  it('the answer to recording the outcome lost: read back from the store, told as succeeded once, never finished twice', async () => {
    let finishes = 0;
    const w = fastWorld({
      storeOf: (store) => ({
        ...store,
        async finish(id, owner, result, now) {
          finishes++;
          // The event given is left out: a Redis store whose answer was lost reads back whether it
          // recorded it (test/redis/lost-answers.test.ts); one that lost it past that recorded nothing.
          await store.finish(id, owner, result, now);
          throw new StoreUnavailableError('Redis answered finish too late');
        },
      }),
    });
    const request = await w.approved();
    await w.clock.settle(w.a.executor.execute(request.id));
    expect((await w.stored(request.id)).state).toBe('succeeded');
    expect(finishes).toBe(1);
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'created', 'succeeded']);
    expect(w.log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('an outcome that could not be recorded at all is logged, not told', async () => {
    const w = fastWorld({
      storeOf: (store) => ({
        ...store,
        finish: async () => {
          throw new StoreUnavailableError('Redis is gone');
        },
      }),
    });
    const request = await w.approved();
    await w.clock.settle(w.a.executor.execute(request.id));
    expect((await w.stored(request.id)).state).toBe('executing');
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'created']);
    expect(w.log.lines.some((l) => l.level === 'error' && l.msg === 'execution crashed')).toBe(true);
  });

  it('a Vault write that keeps failing is compensated: exactly one POST, then one DELETE of that id (rolled back)', async () => {
    const w = fastWorld();
    const request = await w.approved();
    w.vault.failNextStores(3);
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({
      state: 'failed',
      outcome: 'Vault write failed (unreachable: Vault is unreachable); the new Intercom secret 200 was deleted again (rolled back)',
    });
    expect(w.intercom.calls.filter((c) => c.startsWith('create') || c.startsWith('delete'))).toEqual([`create Production Web [${request.id}]`, 'delete 200']);
    expect(w.vault.calls.filter((c) => c.startsWith('store'))).toHaveLength(3);
    expect(w.vault.calls).toContain('markDeleted 200');
    expect(w.intercom.secrets.size).toBe(0);
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'rolled_back', 'failed']);
  });

  it('a Vault write that fails once is retried, and the create succeeds', async () => {
    const w = fastWorld();
    const request = await w.approved();
    w.vault.failNextStores(1);
    await w.clock.settle(w.a.executor.execute(request.id));
    expect((await w.stored(request.id)).state).toBe('succeeded');
    expect(w.vault.calls.filter((c) => c.startsWith('store'))).toHaveLength(2);
  });

  it('a compensating delete that fails too leaves an orphan: reported, and a delete request opened', async () => {
    const w = fastWorld();
    const request = await w.approved();
    w.vault.failNextStores(3);
    w.intercom.failNext('delete', intercomUnavailable);
    await w.clock.settle(w.a.executor.execute(request.id));
    expect(await w.stored(request.id)).toMatchObject({
      state: 'failed',
      outcome: expect.stringContaining(
        'deleting the new Intercom secret 200 failed too (unavailable 503): it is active without material; delete request R-0RPHAN opened',
      ),
    });
    expect(w.orphanDeletes).toEqual([
      expect.objectContaining({ secret: expect.objectContaining({ id: '200' }), why: expect.stringContaining('compensating delete failed') }),
    ]);
    expect(w.audit.typesOf(request.id)).toEqual(['executing', 'orphan', 'failed']);
  });
});
