import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_LUA } from '../../src/redis/audit-log';
import { connectRedis } from '../../src/redis/connection';
import { CLAIM_LUA, RELEASE_LUA } from '../../src/redis/reminder-claims';
import { REQUEST_SCRIPTS } from '../../src/redis/request-scripts';
import { APPROVER, openRequest, seedSecretWithMaterial, startWorld, threadReply, type RunningBot, type World } from '../support/bot-harness';

const ACL_FILE = resolve(__dirname, '../../deploy/redis/users.acl');
const PASSWORD = 'acl-test-password-0123';

/** The rules of deploy/redis/users.acl's user line, for this test's password and key prefix. */
function documentedRules(prefix: string): string[] {
  const line = readFileSync(ACL_FILE, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('user ivs-bot '));
  if (!line) throw new Error(`no "user ivs-bot" line in ${ACL_FILE}`);
  return line
    .split(/\s+/)
    .slice(2)
    .map((rule) => rule.replace('>CHANGE_ME', `>${PASSWORD}`).replace(/^([~&])ivs:\*$/, `$1${prefix}*`));
}

describe('deploy/redis/users.acl', () => {
  // Redis checks the commands a script calls against the ACL too, and a refused one fails the script
  // half-way, after its earlier writes: every command any script calls must be allowed.
  it('allows every command the Lua scripts call', () => {
    const allowed = new Set(
      documentedRules('ivs:')
        .filter((r) => r.startsWith('+'))
        .map((r) => r.slice(1).toLowerCase()),
    );
    const called = new Set<string>();
    for (const lua of [...Object.values(REQUEST_SCRIPTS), APPEND_LUA, CLAIM_LUA, RELEASE_LUA]) {
      for (const m of lua.matchAll(/redis\.call\('([A-Za-z]+)'/g)) called.add((m[1] ?? '').toLowerCase());
    }
    expect(called.size).toBeGreaterThan(10);
    expect([...called].filter((c) => !allowed.has(c))).toEqual([]);
  });
});

describe('ivs-bot as the Redis ACL user of deploy/redis/users.acl', () => {
  let world: World;
  let restricted: RunningBot;
  beforeAll(async () => {
    world = await startWorld();
    const prefix = world.env['REDIS_KEY_PREFIX'] ?? '';
    const admin = connectRedis(world.redis.url);
    try {
      await admin.call('ACL', 'SETUSER', 'ivs-bot', ...documentedRules(prefix));
    } finally {
      admin.disconnect();
    }
    restricted = await world.startReplica(
      {},
      {
        REDIS_URL: `redis://ivs-bot:${PASSWORD}@127.0.0.1:${world.redis.port}`,
        // So that the reminder claim script runs as this user too.
        IVS_ROTATE_AFTER: '1d',
      },
    );
  });
  afterAll(async () => {
    await world?.close();
  });

  it('is refused anything outside its keys', async () => {
    const probe = connectRedis(`redis://ivs-bot:${PASSWORD}@127.0.0.1:${world.redis.port}`);
    try {
      await expect(probe.get('someone-else:key')).rejects.toThrow(/NOPERM/);
    } finally {
      probe.disconnect();
    }
  });

  it('opens, approves and executes a create, lists (also in the ack), and reads the audit trail with nothing refused', async () => {
    seedSecretWithMaterial(world, 'Existing Web', ['web'], 30);
    const { id, card } = await openRequest(world, 'create web Restricted User', undefined, restricted);
    await restricted.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Succeeded/);

    await (await restricted.command('list')).reply();
    expect((await restricted.command('list')).text).toContain('Restricted User');
    expect(await (await restricted.command(`audit ${id}`)).reply()).toMatch(/chain verified|verified/i);
    await restricted.bot.sweep();
    expect((await restricted.bot.checkRotations()).reminded).toBe(true);
    expect(world.logs.text()).not.toMatch(/NOPERM/);
  });
});
