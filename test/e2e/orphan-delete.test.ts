import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, cardOf, cardText, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';

const HOUR = 3_600_000;

describe('the delete request the bot opens for an orphan (SPEC §4: an orphan must not stay active silently)', () => {
  let world: World;
  beforeAll(async () => {
    // IVS_REQUEST_TTL is 1h.
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('never expires: still pending and approvable long after its TTL, then deletes the orphan; an ordinary request beside it expires', async () => {
    const { id, card } = await openRequest(world, 'create web Answer Lost');
    // Intercom creates the secret but its answer, with the material, is lost: listing finds it.
    world.intercom.failNext('create', { kind: 'apply-then-drop' });
    await world.bot.click('ivs_approve', id, APPROVER);
    const orphanReply = await threadReply(world, card, /ORPHAN/, 15_000);
    const orphan = world.intercom.secrets().find((s) => s.name === `Answer Lost [${id}]`);
    expect(orphan?.deleted).toBe(false);
    const deleteId = /Delete request `(R-[0-9A-Z]{6})`/.exec(orphanReply)?.[1] ?? '';
    expect((await world.bot.bot.requests.get(deleteId))?.orphanOf).toBe(id);

    const deleteCard = await cardOf(world, deleteId);
    expect(cardText(world, deleteCard)).toContain('*Expires*\\nnever: the orphan stays active until this is decided');
    expect(await threadReply(world, deleteCard, /requested to delete/)).toMatch(
      /Needs 1 approval from someone else\. It never expires: the orphan stays active until this is decided\.$/,
    );

    const ordinary = await openRequest(world, 'create ios Left Alone');
    world.clock.advance(2 * HOUR);
    // The sweeper runs on a timer on every replica; run one pass now rather than wait for it.
    await world.bot.bot.sweep();
    await threadReply(world, ordinary.card, /Expired/);
    expect((await world.bot.bot.requests.get(ordinary.id))?.state).toBe('expired');
    expect((await world.bot.bot.requests.get(deleteId))?.state).toBe('pending');

    await world.bot.click('ivs_approve', deleteId, APPROVER);
    await threadReply(world, deleteCard, /Approved by/);
    await threadReply(world, deleteCard, /Deleted Intercom secret/, 15_000);
    await threadReply(world, deleteCard, /Succeeded/, 15_000);
    expect(world.intercom.secrets().find((s) => s.id === orphan?.id)?.deleted).toBe(true);
  }, 30_000);

  it('failing (Vault sealed) opens another delete for the orphan, in the same thread story; approved once Vault is back, it deletes the orphan', async () => {
    const { id, card } = await openRequest(world, 'create web Lost Twice');
    world.intercom.failNext('create', { kind: 'apply-then-drop' });
    await world.bot.click('ivs_approve', id, APPROVER);
    const orphanReply = await threadReply(world, card, /ORPHAN/, 15_000);
    const firstDelete = /Delete request `(R-[0-9A-Z]{6})`/.exec(orphanReply)?.[1] ?? '';
    const orphan = world.intercom.secrets().find((s) => s.name === `Lost Twice [${id}]`);

    world.vault.seal();
    await world.bot.click('ivs_approve', firstDelete, APPROVER);
    const failedReply = await threadReply(world, await cardOf(world, firstDelete), /Failed/, 15_000);
    expect(failedReply).toMatch(/Vault is not ready for the delete .*: nothing was deleted; delete request R-[0-9A-Z]{6} opened again for the orphan/);
    const secondDelete = /delete request (R-[0-9A-Z]{6}) opened again/.exec(failedReply)?.[1] ?? '';
    expect(await world.bot.bot.requests.get(secondDelete)).toMatchObject({
      state: 'pending',
      orphanOf: id,
      operation: { action: 'delete', secretId: orphan?.id },
    });
    expect(world.intercom.secrets().find((s) => s.id === orphan?.id)?.deleted).toBe(false);

    world.vault.unseal();
    await world.bot.click('ivs_approve', secondDelete, APPROVER);
    await threadReply(world, await cardOf(world, secondDelete), /Succeeded/, 15_000);
    expect(world.intercom.secrets().find((s) => s.id === orphan?.id)?.deleted).toBe(true);
  }, 30_000);
});
