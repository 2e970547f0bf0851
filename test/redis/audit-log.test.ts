import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { isReadableEntry, type AuditLog, type StoredAuditEntry } from '../../src/core/ports';
import { chainHash } from '../../src/redis/audit-chain';
import { createRedisAuditLog } from '../../src/redis/audit-log';
import { renderAuditHistory } from '../../src/slack/views/audit-history';
import { auditEvent as event } from '../support/audit-events';
import { T0, uniquePrefix, useTwoConnections } from './fixtures';

const redis = useTwoConnections();

/** A pino logger whose JSON lines the test can read. */
function capturedLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

function logs(connection: Redis = redis.a, prefix = uniquePrefix()): { log: AuditLog; prefix: string; lines: Record<string, unknown>[] } {
  const { logger, lines } = capturedLogger();
  return { log: createRedisAuditLog(connection, { keyPrefix: prefix, logger }), prefix, lines };
}

/** The type of a stored entry, known to this bot or not. */
const typeOf = (e: StoredAuditEntry): string => (isReadableEntry(e) ? e.type : e.storedType);

describe('the audit log', () => {
  it('returns a request’s events in order, each linked to the one before, with the chain verified', async () => {
    const { log } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0, { actor: 'U_REQ', detail: { action: 'create', workspace: 'web' } }));
    await log.append(event('R-AAAAAA', 'approved', T0 + 1, { actor: 'U_APP' }));
    await log.append(
      event('R-AAAAAA', 'created', T0 + 2, { detail: { intercomId: '205', name: 'Web', platforms: 'web', vaultPath: 'secrets/205', vaultVersion: 1 } }),
    );

    const { entries, chain } = await log.history('R-AAAAAA');
    expect(chain).toEqual({ ok: true });
    expect(entries.map((e) => [typeOf(e), e.actor])).toEqual([
      ['requested', 'U_REQ'],
      ['approved', 'U_APP'],
      ['created', undefined],
    ]);
    expect(entries[2]?.detail).toEqual({ intercomId: '205', name: 'Web', platforms: 'web', vaultPath: 'secrets/205', vaultVersion: 1 });
    expect(entries[0]?.prevHash).toBe('0'.repeat(64));
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    expect(entries[2]?.prevHash).toBe(entries[1]?.hash);
  });

  it('hashes each entry as sha256(prev + canonical JSON of the event), so anyone can re-verify it', async () => {
    const { log } = logs();
    await log.append(event('R-AAAAAA', 'finish_reminder', T0, { actor: 'U_REQ', detail: { waitingMs: 2, successorId: 'x' } }));
    const [entry] = (await log.history('R-AAAAAA')).entries;
    const canonical = `{"actor":"U_REQ","at":${T0},"detail":{"successorId":"x","waitingMs":2},"requestId":"R-AAAAAA","type":"finish_reminder"}`;
    expect(entry?.hash).toBe(
      createHash('sha256')
        .update('0'.repeat(64) + canonical)
        .digest('hex'),
    );
  });

  it('returns only the asked request’s entries but verifies the whole chain', async () => {
    const { log } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0));
    await log.append(event('R-BBBBBB', 'requested', T0 + 1));
    await log.append(event('R-AAAAAA', 'cancelled', T0 + 2, { actor: 'U_REQ' }));
    const { entries, chain } = await log.history('R-AAAAAA');
    expect(entries.map(typeOf)).toEqual(['requested', 'cancelled']);
    expect(chain.ok).toBe(true);
    expect((await log.history('R-NOPE00')).entries).toEqual([]);
  });

  it('writes every event as a JSON log line marked audit: true', async () => {
    const { log, lines } = logs();
    await log.append(event('R-AAAAAA', 'rejected', T0, { actor: 'U_APP', detail: { reason: 'wrong secret' } }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ audit: true, requestId: 'R-AAAAAA', type: 'rejected', actor: 'U_APP', detail: { reason: 'wrong secret' } });
  });

  it('keeps one valid chain when two replicas append at the same time', async () => {
    const prefix = uniquePrefix();
    const a = logs(redis.a, prefix).log;
    const b = logs(redis.b, prefix).log;
    await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).append(event('R-AAAAAA', 'approved', T0 + i, { actor: `U${i}` }))));
    const { entries, chain } = await a.history('R-AAAAAA');
    expect(chain).toEqual({ ok: true });
    expect(entries).toHaveLength(30);
    expect(new Set(entries.map((e) => e.actor)).size).toBe(30);
  });

  it('detects an entry deleted from the middle, at the entry after it', async () => {
    const { log, prefix } = logs();
    for (let i = 0; i < 4; i++) await log.append(event('R-AAAAAA', 'approved', T0 + i, { actor: `U${i}` }));
    const before = (await log.history('R-AAAAAA')).entries;
    await redis.a.xdel(`${prefix}audit`, before[1]?.entryId ?? '');
    const { chain } = await log.history('R-AAAAAA');
    expect(chain.ok).toBe(false);
    expect(!chain.ok && chain.brokenAt).toBe(before[2]?.entryId);
    expect(!chain.ok && chain.why).toMatch(/prev/);
  });

  it('detects an entry that was rewritten (deleted and re-added with other content), naming it', async () => {
    const { log, prefix } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0, { actor: 'U_REQ' }));
    await log.append(event('R-AAAAAA', 'approved', T0 + 1, { actor: 'U_APP' }));
    const last = (await log.history('R-AAAAAA')).entries[1];
    if (!last) throw new Error('no entry');
    // Keep prev and hash as they were, claim a different approver.
    await redis.a.xdel(`${prefix}audit`, last.entryId);
    const forgedId = await redis.a.xadd(
      `${prefix}audit`,
      '*',
      'requestId',
      last.requestId,
      'type',
      typeOf(last),
      'actor',
      'U_MALLORY',
      'at',
      String(last.at),
      'detail',
      '{}',
      'prev',
      last.prevHash,
      'hash',
      last.hash,
    );
    const { chain, entries } = await log.history('R-AAAAAA');
    expect(entries[1]?.actor).toBe('U_MALLORY');
    expect(chain).toEqual({ ok: false, brokenAt: forgedId, why: expect.stringMatching(/altered/) });
  });

  it("detects an entry added after the head behind the bot's back, even with a valid prev and hash", async () => {
    const { log, prefix } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0, { actor: 'U_REQ' }));
    const [last] = (await log.history('R-AAAAAA')).entries;
    if (!last) throw new Error('no entry');
    // A forged approval, hashed exactly as the bot would, appended with XADD: the head key is untouched.
    const forged = { actor: 'U_MALLORY', at: T0 + 1, detail: { approvals: 1, required: 1 }, requestId: 'R-AAAAAA', type: 'approved' };
    const hash = createHash('sha256')
      .update(last.hash + JSON.stringify(forged))
      .digest('hex');
    const forgedId = await redis.a.xadd(
      `${prefix}audit`,
      '*',
      'requestId',
      forged.requestId,
      'type',
      forged.type,
      'actor',
      forged.actor,
      'at',
      String(forged.at),
      'detail',
      JSON.stringify(forged.detail),
      'prev',
      last.hash,
      'hash',
      hash,
    );
    const { chain, entries } = await log.history('R-AAAAAA');
    expect(entries.map((e) => e.actor)).toEqual(['U_REQ', 'U_MALLORY']);
    expect(chain).toEqual({ ok: false, brokenAt: forgedId, why: expect.stringMatching(/not the chain head/) });
  });

  it('detects the newest entry being removed', async () => {
    const { log, prefix } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0));
    await log.append(event('R-AAAAAA', 'cancelled', T0 + 1));
    const [first, last] = (await log.history('R-AAAAAA')).entries;
    await redis.a.xdel(`${prefix}audit`, last?.entryId ?? '');
    const { chain } = await log.history('R-AAAAAA');
    expect(chain).toEqual({ ok: false, brokenAt: first?.entryId, why: expect.stringMatching(/newest entries are missing/) });
  });

  it('verifies a chain longer than one read page', async () => {
    const { log } = logs();
    for (let i = 0; i < 1_201; i++) await log.append(event(i % 2 ? 'R-AAAAAA' : 'R-BBBBBB', 'approved', T0 + i));
    const { entries, chain } = await log.history('R-BBBBBB');
    expect(chain).toEqual({ ok: true });
    expect(entries).toHaveLength(601);
  });

  it('detects a removed chain head', async () => {
    const { log, prefix } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0));
    await redis.a.del(`${prefix}audit:head`);
    expect((await log.history('R-AAAAAA')).chain.ok).toBe(false);
  });

  it('continues a valid chain across a restart of the bot (a fresh AuditLog on the same stream)', async () => {
    const prefix = uniquePrefix();
    await logs(redis.a, prefix).log.append(event('R-AAAAAA', 'requested', T0));
    const restarted = logs(redis.b, prefix).log;
    await restarted.append(event('R-AAAAAA', 'approved', T0 + 1, { actor: 'U_APP' }));
    const { entries, chain } = await restarted.history('R-AAAAAA');
    expect(chain).toEqual({ ok: true });
    expect(entries).toHaveLength(2);
  });
  it("reads entries it does not know (another bot's type, a detail not as its type records it) as stored: the chain still verifies", async () => {
    const { log, prefix } = logs();
    /** Appends fields as a bot that knows them would: hashed as stored, onto the head, the head moved. */
    async function appendAsAnotherBot(type: string, detail: string, at: number): Promise<string> {
      const head = (await redis.a.get(`${prefix}audit:head`)) ?? '0'.repeat(64);
      const hash = chainHash(head, { requestId: 'R-AAAAAA', type, at, detail: JSON.parse(detail) as unknown });
      const id = await redis.a.xadd(
        `${prefix}audit`,
        '*',
        'requestId',
        'R-AAAAAA',
        'type',
        type,
        'actor',
        '',
        'at',
        String(at),
        'detail',
        detail,
        'prev',
        head,
        'hash',
        hash,
      );
      await redis.a.set(`${prefix}audit:head`, hash);
      return id ?? '';
    }
    await log.append(event('R-AAAAAA', 'requested', T0, { actor: 'U_REQ' }));
    const unknownType = await appendAsAnotherBot('escalated', '{"to":"security"}', T0 + 1);
    const badDetail = await appendAsAnotherBot('approved', '{"approvals":"one","required":1}', T0 + 2);
    const notAnObject = await appendAsAnotherBot('expired', '[1,2]', T0 + 3);
    // The bot goes on chaining onto them.
    await log.append(event('R-AAAAAA', 'approved', T0 + 4, { actor: 'U_APP' }));

    const history = await log.history('R-AAAAAA');
    expect(history.chain).toEqual({ ok: true });
    expect(history.entries.map((e) => [typeOf(e), isReadableEntry(e)])).toEqual([
      ['requested', true],
      ['escalated', false],
      ['approved', false],
      ['expired', false],
      ['approved', true],
    ]);
    expect(history.entries[1]).toMatchObject({
      entryId: unknownType,
      storedType: 'escalated',
      detail: { to: 'security' },
      unreadable: 'unknown type escalated',
    });
    expect(history.entries[2]).toMatchObject({ entryId: badDetail, unreadable: expect.stringMatching(/approvals/) });
    expect(history.entries[3]).toMatchObject({ entryId: notAnObject, detail: [1, 2], unreadable: 'detail is not an object' });
    const last = history.entries[4];
    expect(last && isReadableEntry(last) && last.type === 'approved' && last.detail.approvals).toBe(1);

    // `/ivs audit` shows them as stored.
    const shown = JSON.stringify(renderAuditHistory('R-AAAAAA', history).blocks);
    expect(shown).toContain('*escalated* · _bot_ · to=security');
    expect(shown).toContain('*approved* · _bot_ · approvals=one, required=1');
    expect(shown).toContain('*expired* · _bot_ · detail=[1,2]');
  });

  it('still breaks the chain at an entry whose detail is not JSON: no bot writes one, so it was altered', async () => {
    const { log, prefix } = logs();
    await log.append(event('R-AAAAAA', 'requested', T0));
    const id = await redis.a.xadd(
      `${prefix}audit`,
      '*',
      'requestId',
      'R-AAAAAA',
      'type',
      'approved',
      'actor',
      '',
      'at',
      '1',
      'detail',
      '{no',
      'prev',
      'p',
      'hash',
      'h',
    );
    const { chain, entries } = await log.history('R-AAAAAA');
    expect(chain).toEqual({ ok: false, brokenAt: id, why: 'malformed entry: detail is not JSON' });
    expect(entries.map(typeOf)).toEqual(['requested']);
  });
});
