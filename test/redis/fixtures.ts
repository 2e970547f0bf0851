import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { ApprovalRequest } from '../../src/core/request';
import { connectRedis } from '../../src/redis/connection';
import { startRedis, type TestRedis } from '../../emulators/redis-server';

export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;

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

export function requestId(): string {
  return `R-${randomBytes(3).toString('hex').toUpperCase()}`;
}

/** A pending create request opened at T0 by U_REQ that needs one approval within an hour. */
export function newRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: requestId(),
    operation: { action: 'create', workspace: 'default', name: 'Production Web', platforms: ['web'] },
    fingerprint: 'f1a2b3c4',
    requester: 'U_REQ',
    teamId: 'T1',
    channel: 'C_OPS',
    reason: 'yearly rotation',
    state: 'pending',
    approvals: [],
    approvalsRequired: 1,
    createdAt: T0,
    expiresAt: T0 + HOUR,
    updatedAt: T0,
    impact: [],
    progress: {},
    ...overrides,
  };
}

export function rotationRequest(secretId: string, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return newRequest({
    operation: { action: 'rotate', workspace: 'default', secretId, secretName: 'Production Web', platforms: ['web'] },
    rotation: { step: 'successor' },
    ...overrides,
  });
}
