import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { connectRedis } from '../../src/redis/connection';
import { startRedis, type TestRedis } from '../../emulators/redis-server';

/** Two connections to one redis-server, as two replicas of the bot have. */
export interface TwoConnections {
  readonly a: Redis;
  readonly b: Redis;
}

/** A redis-server for the test file and two connections to it: started in beforeAll, gone in afterAll. */
export function useTwoConnections(): TwoConnections {
  let server: TestRedis | undefined;
  let a: Redis | undefined;
  let b: Redis | undefined;

  beforeAll(async () => {
    server = await startRedis();
    a = connectRedis(server.url);
    b = connectRedis(server.url);
  });

  afterAll(async () => {
    a?.disconnect();
    b?.disconnect();
    await server?.stop();
  });

  const started = (connection: Redis | undefined): Redis => {
    if (!connection) throw new Error('useTwoConnections(): the connections open in beforeAll');
    return connection;
  };
  return {
    get a() {
      return started(a);
    },
    get b() {
      return started(b);
    },
  };
}

/** A key prefix no other test shares, so tests never see each other's leftovers. */
export function uniquePrefix(): string {
  return `t-${randomBytes(5).toString('hex')}:`;
}

export { HOUR, T0, newRequest, requestId, rotationRequest } from '../support/request-fixtures';
