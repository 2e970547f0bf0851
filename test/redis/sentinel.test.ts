import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, parseSentinelUrl } from '../../src/redis/connection';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { startRedis, startRedisProcess, type RedisProcess, type TestRedis } from '../../emulators/redis-server';
import { newRequest, uniquePrefix } from './fixtures';

/** A real redis-sentinel watching `master`, ready once it logs that it monitors the master. */
function startSentinel(master: TestRedis): Promise<RedisProcess> {
  return startRedisProcess((port, dir) => {
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ivsmaster 127.0.0.1 ${master.port} 1\n`);
    return [conf, '--sentinel'];
  }, /\+monitor master ivsmaster/);
}

describe('Redis through Sentinel', () => {
  let master: TestRedis;
  let sentinel: RedisProcess;
  beforeAll(async () => {
    master = await startRedis();
    sentinel = await startSentinel(master);
  });
  afterAll(async () => {
    await sentinel?.stop();
    await master?.stop();
  });

  it('parses a sentinel URL with several sentinels, credentials and a db', () => {
    expect(parseSentinelUrl('redis+sentinel://ivs:p%40ss@10.0.0.1:26379,10.0.0.2/mymaster?db=2')).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'mymaster',
      username: 'ivs',
      password: 'p@ss',
      db: 2,
    });
    expect(() => parseSentinelUrl('redis+sentinel://10.0.0.1:26379')).toThrow(/master name/);
  });

  it('finds the master through the sentinel and the request store works on it', async () => {
    const redis = connectRedis(`redis+sentinel://127.0.0.1:${sentinel.port}/ivsmaster`);
    try {
      const store = createRedisRequestStore(redis, { keyPrefix: uniquePrefix() });
      const request = newRequest();
      expect((await store.create({ request, maxOpenPerRequester: 3 })).kind).toBe('created');
      expect((await store.get(request.id))?.id).toBe(request.id);
      // The data really is on the master the sentinel named.
      const direct = connectRedis(master.url);
      try {
        expect(await direct.dbsize()).toBeGreaterThan(0);
      } finally {
        direct.disconnect();
      }
    } finally {
      redis.disconnect();
    }
  });
});
