import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, parseSentinelUrl } from '../../src/redis/connection';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { startRedis, type TestRedis } from '../support/redis-server';
import { newRequest, uniquePrefix } from './fixtures';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A real redis-sentinel watching `master`, ready once it logs that it monitors the master. */
async function startSentinel(master: TestRedis): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ivs-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ivsmaster 127.0.0.1 ${master.port} 1\n`);
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`sentinel not ready:\n${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/\+monitor master ivsmaster/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGKILL');
      }),
  };
}

describe('Redis through Sentinel', () => {
  let master: TestRedis;
  let sentinel: Awaited<ReturnType<typeof startSentinel>>;
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
