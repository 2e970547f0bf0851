import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS } from '../../src/tuning';
import { connectRedis } from '../../src/redis/connection';
import {
  APPROVER,
  APPROVER_2,
  buttonsOf,
  cardOf,
  cardText,
  openRequest,
  startWorld,
  threadReply,
  seedSecretWithMaterial,
  type World,
  VAULT_BASE,
} from '../support/bot-harness';
import { dumpRedis, findLeaks, materialForms } from '../support/leak-canary';

const BASE = VAULT_BASE;

describe('create and delete for real: material straight into Vault', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  /**
   * `/ivs <text>` opened and approved on a replica that dies while Intercom, having created the
   * secret, holds its answer back: no more Redis, no more lease renewals (its stalled socket is left).
   */
  async function createOnDoomedReplica(text: string) {
    const victim = await world.startReplica({ intercomTimeoutMs: 120_000 });
    const opened = await openRequest(world, text, undefined, victim);
    world.intercom.failNext('create', { kind: 'apply-then-stall', ms: 120_000 });
    await victim.click('ivs_approve', opened.id, APPROVER);
    await world.intercom.waitFor('create', (c) => JSON.stringify(c.body).includes(opened.id));
    await victim.kill();
    return opened;
  }

  it('a delete removes the secret at Intercom, soft-deletes its Vault entry and repoints current/<platform>', async () => {
    const older = seedSecretWithMaterial(world, 'Web 2024', ['web'], 400);
    const newer = seedSecretWithMaterial(world, 'Web 2025', ['web'], 30);
    world.vault.seed(`${BASE}/current/web`, { secret: `seeded-material-${older}`, intercom_secret_id: older });

    const { id, card } = await openRequest(world, `delete ${older} replaced by ${newer}`);
    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Succeeded/);

    expect(world.intercom.callsTo('delete').map((c) => c.path)).toEqual([`/secure_mode_secrets/${older}`]);
    const meta = world.vault.metadata(`${BASE}/secrets/${older}`);
    expect(meta?.custom_metadata?.['intercom_deleted_at']).toBeTruthy();
    expect(Object.values(meta?.versions ?? {}).every((v) => v.deletion_time !== '')).toBe(true);
    expect(world.vault.read(`${BASE}/current/web`)?.['intercom_secret_id']).toBe(newer);
    expect(await threadReply(world, card, /Deleted Intercom secret/)).toContain(older);
  });

  it("a create whose check of the other secrets' material fails leaves current/<platform> as it was and says so", async () => {
    const existing = seedSecretWithMaterial(world, 'Web current', ['web'], 20, { current: true });
    const { id, card } = await openRequest(world, 'create web Web next');
    // Every metadata read of the existing secret fails for a while: its material status is unknown.
    world.vault.failNext({ method: 'GET', pathPrefix: `secret/metadata/intercom/identity-verification/default/secrets/${existing}`, status: 500, times: 20 });
    try {
      await world.bot.click('ivs_approve', id, APPROVER);
      const done = await threadReply(world, card, /Succeeded/);
      expect(done).toMatch(/current\/web not updated \(Vault could not say which secrets have material/);
      expect(world.vault.read(`${BASE}/current/web`)?.['intercom_secret_id']).toBe(existing);
    } finally {
      world.vault.clearFaults();
    }
  });

  it('Vault sealed: a delete fails before Intercom is touched', async () => {
    const target = seedSecretWithMaterial(world, 'Sealed Away', ['web'], 90);
    const { id, card } = await openRequest(world, `delete ${target} --force`);
    const deletes = world.intercom.callsTo('delete').length;
    world.vault.seal();
    try {
      await world.bot.click('ivs_approve', id, APPROVER);
      expect(await threadReply(world, card, /Failed/)).toMatch(/Vault is not ready for the delete .*: nothing was deleted/);
    } finally {
      world.vault.unseal();
    }
    expect(world.intercom.callsTo('delete')).toHaveLength(deletes);
    expect(world.intercom.secrets().find((s) => s.id === target)?.deleted).toBe(false);
    world.intercom.remove(target);
  });

  it('Vault sealed: the create fails before Intercom is touched', async () => {
    world.vault.seal();
    try {
      const { id, card } = await openRequest(world, 'create web Sealed Vault');
      const creates = world.intercom.callsTo('create').length;
      await world.bot.click('ivs_approve', id, APPROVER);
      const failed = await threadReply(world, card, /Failed/);
      expect(failed).toMatch(/Vault is not ready/);
      expect(failed).toMatch(/nothing was created/);
      expect(world.intercom.callsTo('create')).toHaveLength(creates);
      expect(buttonsOf(world, card)).toEqual([]);
    } finally {
      world.vault.unseal();
    }
  });

  it('a Vault write whose data landed but whose metadata did not: rolled back at Intercom, and the stored material marked deleted', async () => {
    const { id, card } = await openRequest(world, 'create ios Half Written');
    // Every custom_metadata write fails: the material is stored, its provenance never is.
    world.vault.failNext({ method: 'POST', pathPrefix: 'secret/metadata/intercom/identity-verification/default/secrets/', status: 500, times: 10 });
    try {
      await world.bot.click('ivs_approve', id, APPROVER);
      expect(await threadReply(world, card, /Failed/)).toMatch(/rolled back/);
    } finally {
      world.vault.clearFaults();
    }
    const created = world.intercom.secrets().find((s) => s.name === `Half Written [${id}]`);
    expect(created?.deleted).toBe(true);
    const versions = Object.values(world.vault.metadata(`${BASE}/secrets/${created?.id}`)?.versions ?? {});
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.every((v) => v.deletion_time !== '')).toBe(true);
  });

  it('Vault write failing: exactly one POST, then exactly one DELETE of that id (rolled back)', async () => {
    const { id, card } = await openRequest(world, 'create ios Doomed Write');
    const createsBefore = world.intercom.callsTo('create').length;
    const deletesBefore = world.intercom.callsTo('delete').length;
    world.vault.failWrites(10, { status: 500, errors: ['internal error'] });
    await world.bot.click('ivs_approve', id, APPROVER);
    const failed = await threadReply(world, card, /Failed/);
    world.vault.failWrites(0);
    expect(failed).toMatch(/rolled back/);
    const created = world.intercom.secrets().find((s) => s.name === `Doomed Write [${id}]`);
    expect(created?.deleted).toBe(true);
    expect(world.intercom.callsTo('create')).toHaveLength(createsBefore + 1);
    const deletes = world.intercom.callsTo('delete').slice(deletesBefore);
    expect(deletes.map((c) => c.path)).toEqual([`/secure_mode_secrets/${created?.id}`]);
    expect(world.vault.read(`${BASE}/secrets/${created?.id}`)).toBeUndefined();
    await threadReply(world, card, /Rolled back/);
  });

  it('a delete whose target vanished meanwhile reports "already gone", not a crash, and still repoints current/<platform>', async () => {
    const gone = seedSecretWithMaterial(world, 'Vanishing', ['android'], 10, { current: true });
    const keeper = seedSecretWithMaterial(world, 'Android keeper', ['android'], 5);
    const { id, card } = await openRequest(world, `delete ${gone}`);
    world.intercom.remove(gone);
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Succeeded/)).toMatch(/already gone/);
    await threadReply(world, card, /already gone/);
    // Signers must not keep the material of a secret Intercom no longer has.
    expect(world.vault.read(`${BASE}/current/android`)?.['intercom_secret_id']).toBe(keeper);
    expect(world.vault.metadata(`${BASE}/secrets/${gone}`)?.custom_metadata?.['intercom_deleted_at']).toBeTruthy();
  });

  it('a 404 answered to the DELETE itself is "already gone"', async () => {
    const target = seedSecretWithMaterial(world, 'Raced', ['android'], 9);
    const { id, card } = await openRequest(world, `delete ${target}`);
    world.intercom.failNext('delete', {
      status: 404,
      body: { type: 'error.list', errors: [{ code: 'identity_verification_secret_not_found', message: 'Identity verification secret not found' }] },
    });
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Succeeded/)).toMatch(/already gone/);
  });

  it('the impact guard refuses a delete that would leave a platform with no secret', async () => {
    const only = seedSecretWithMaterial(world, 'The only iOS app', ['ios'], 50);
    const { id, card } = await openRequest(world, `delete ${only} no longer needed`);
    expect(cardText(world, card)).toMatch(/ios/);
    expect(cardText(world, card)).toMatch(/--force/);
    const deletes = world.intercom.callsTo('delete').length;
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Failed/)).toMatch(/would leave ios with no secret/);
    expect(world.intercom.callsTo('delete')).toHaveLength(deletes);
    expect(world.intercom.secrets().find((s) => s.id === only)?.deleted).toBe(false);

    const forced = await openRequest(world, `delete ${only} --force really retiring iOS`);
    expect(cardText(world, forced.card)).toMatch(/acknowledged/);
    await world.bot.click('ivs_approve', forced.id, APPROVER_2);
    await threadReply(world, forced.card, /Succeeded/);
    expect(world.intercom.secrets().find((s) => s.id === only)?.deleted).toBe(true);
    expect(world.vault.read(`${BASE}/current/ios`)).toBeUndefined();
  });

  it('an ambiguous POST (the answer never comes) is reconciled by listing: the orphan is reported and a delete request opened', async () => {
    const { id, card } = await openRequest(world, 'create web Lost Answer');
    world.intercom.failNext('create', { kind: 'apply-then-drop' });
    await world.bot.click('ivs_approve', id, APPROVER);
    const orphan = await threadReply(world, card, /ORPHAN/);
    const followUp = /R-[0-9A-Z]{6}/.exec(orphan.replace(id, ''))?.[0];
    expect(followUp).toBeDefined();
    expect(await threadReply(world, card, /Failed/)).toMatch(/material, was lost/);
    expect(world.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    const orphanCard = await cardOf(world, followUp!);
    expect(buttonsOf(world, orphanCard)).toEqual(['ivs_approve', 'ivs_reject']);
  });

  it('an ambiguous POST that created nothing is reported as "nothing was created" after listing twice, never re-sent', async () => {
    const { id, card } = await openRequest(world, 'create web Dropped Post');
    world.intercom.failNext('create', { kind: 'drop' });
    const lists = world.intercom.callsTo('list').length;
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Failed/)).toMatch(/lists no secret for this request: nothing was created/);
    expect(world.intercom.callsTo('create').filter((c) => JSON.stringify(c.body).includes(id))).toHaveLength(1);
    expect(world.intercom.callsTo('list').length - lists).toBeGreaterThanOrEqual(2);
    expect(world.intercom.secrets().some((s) => s.name.includes(id))).toBe(false);
  });

  it('a replica killed while its POST hangs: another replica recovers, finds the orphan and opens a delete request', async () => {
    const { card } = await createOnDoomedReplica('create android Hanging Post');
    world.clock.advance(LEASE_MS + 1);
    await world.bot.bot.sweep();
    await threadReply(world, card, /Recovered/);
    const orphan = await threadReply(world, card, /ORPHAN/);
    expect(orphan).toMatch(/Delete request `R-/);
    expect(await threadReply(world, card, /Failed/)).toMatch(/died before its material reached Vault/);
  });

  it('a takeover after the POST still finds and reports the orphan when the approval no longer holds (the approver was deactivated meanwhile)', async () => {
    const { card } = await createOnDoomedReplica('create web Approver Gone');
    world.slack.setUser({ id: APPROVER, deleted: true });
    try {
      // Past the lease and past the directory's cache, so the survivor's re-check sees the deactivation.
      world.clock.advance(61_000);
      await world.bot.bot.sweep();
      const orphan = await threadReply(world, card, /ORPHAN/);
      expect(orphan).toMatch(/Delete request `R-/);
      expect(await threadReply(world, card, /Failed/)).toMatch(/died before its material reached Vault/);
    } finally {
      world.slack.setUser({ id: APPROVER, deleted: false });
      world.clock.advance(61_000);
    }
  });

  it('a DELETE carried out whose answers were all lost or 5xx is recognised by listing: Vault updated, current/<platform> repointed', async () => {
    const older = seedSecretWithMaterial(world, 'iOS 2023', ['ios'], 700);
    const newer = seedSecretWithMaterial(world, 'iOS 2024', ['ios'], 300, { current: true });
    // Asked by another requester: the orphan delete requests above count against the usual one's limit.
    const { id, card } = await openRequest(world, `delete ${newer} --force rolled back to the older one`, APPROVER_2);
    // The first attempt is applied but its connection drops; the retries get 503.
    world.intercom.failNext('delete', { kind: 'apply-then-drop' });
    world.intercom.failNext('delete', { status: 503 });
    world.intercom.failNext('delete', { status: 503 });
    await world.bot.click('ivs_approve', id, APPROVER);
    expect(await threadReply(world, card, /Succeeded/)).toMatch(new RegExp(`deleted secret ${newer}`));
    expect(world.vault.metadata(`${BASE}/secrets/${newer}`)?.custom_metadata?.['intercom_deleted_at']).toBeTruthy();
    expect(world.vault.read(`${BASE}/current/ios`)?.['intercom_secret_id']).toBe(older);
  });

  it('a current/<platform> repoint that failed during a delete is put right by a later sweep', async () => {
    const reconciling = await world.startReplica({ reconcileCurrents: true });
    seedSecretWithMaterial(world, 'Android 2023', ['android'], 700);
    const newer = seedSecretWithMaterial(world, 'Android 2024', ['android'], 300, { current: true });
    const { id, card } = await openRequest(world, `delete ${newer} --force back to the older one`, APPROVER_2);
    // Every write to current/android fails while the delete runs.
    world.vault.failNext({ method: 'POST', pathPrefix: 'secret/data/intercom/identity-verification/default/current/android', status: 503, times: 10 });
    try {
      await world.bot.click('ivs_approve', id, APPROVER);
      expect(await threadReply(world, card, /Succeeded/)).toMatch(/current\/android not updated/);
    } finally {
      world.vault.clearFaults();
    }
    // Signers would still be handed the deleted secret's material...
    expect(world.vault.read(`${BASE}/current/android`)?.['intercom_secret_id']).toBe(newer);
    // ...until a sweep a minute later checks the pointers.
    world.clock.advance(61_000);
    await reconciling.bot.sweep();
    // The newest android secret Intercom still has whose material Vault holds (earlier tests left some).
    const newestWithMaterial = world.intercom
      .secrets()
      .filter((x) => !x.deleted && x.platforms.includes('android') && world.vault.read(`${BASE}/secrets/${x.id}`)?.['secret'])
      .sort((a, b) => a.createdAt - b.createdAt)
      .pop();
    expect(newestWithMaterial?.id).not.toBe(newer);
    expect(world.vault.read(`${BASE}/current/android`)?.['intercom_secret_id']).toBe(newestWithMaterial?.id);
    expect(world.logs.text()).toMatch(/did not hand out the newest active secret with material/);
  });

  it("canary: no issued material, in any form, reached Slack, response_urls, the bot's HTTP answers, metrics, logs (errors included) or Redis", async () => {
    const forms = materialForms(world.intercom.issuedMaterial());
    expect(forms.length).toBeGreaterThan(0);
    // Listed twice: once it arrived, the second list is answered in the ack itself.
    await (await world.bot.command('list')).reply();
    await world.bot.command('list');
    expect(world.answers()).toContain('identity verification secret');
    const ops = await Promise.all(['/metrics', '/readyz', '/healthz'].map(async (path) => (await fetch(`${world.bot.url}${path}`)).text()));
    const redis = connectRedis(world.redis.url);
    try {
      const hits = findLeaks(forms, {
        slack: world.slack.everything(),
        answers: world.answers(),
        operational: ops.join('\n'),
        logs: world.logs.text(),
        redis: await dumpRedis(redis),
      });
      expect(hits).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
