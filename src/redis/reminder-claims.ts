import type { ReminderClaims } from '../core/ports';
import type { RedisClient } from './connection';
import { toStoreError } from './store-error';

/**
 * The key holds the bot-clock time until which the claim stands. One script reads and sets it, so
 * of several replicas checking at the same moment exactly one wins. The key also expires in Redis
 * (PX) once it no longer matters, so claims of long-gone requests do not pile up.
 */
export const CLAIM_LUA = `
local until_now = redis.call('GET', KEYS[1])
if until_now and tonumber(until_now) and tonumber(until_now) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** Gives a claim back only if it is still the one taken (another replica may have claimed since). */
export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
`;

type ScriptFn = (key: string, ...args: string[]) => Promise<unknown>;

export function createRedisReminderClaims(redis: RedisClient, opts: { keyPrefix: string }): ReminderClaims {
  redis.defineCommand('ivsReminderClaim', { lua: CLAIM_LUA, numberOfKeys: 1 });
  redis.defineCommand('ivsReminderRelease', { lua: RELEASE_LUA, numberOfKeys: 1 });
  const commands = redis as unknown as { ivsReminderClaim: ScriptFn; ivsReminderRelease: ScriptFn };
  return {
    async claim(key, now, until) {
      try {
        const won = await commands.ivsReminderClaim(`${opts.keyPrefix}${key}`, String(now), String(until), String(Math.max(1, Math.ceil(until - now))));
        return won === 1;
      } catch (err) {
        throw toStoreError(err, 'reminder claim');
      }
    },
    async release(key, until) {
      try {
        await commands.ivsReminderRelease(`${opts.keyPrefix}${key}`, String(until));
      } catch (err) {
        throw toStoreError(err, 'reminder release');
      }
    },
  };
}
