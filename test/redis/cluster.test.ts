import { once } from 'node:events';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisAuditLog } from '../../src/redis/audit-log';
import { watchCatalogChanges } from '../../src/redis/catalog-changes';
import { connectCluster, connectRedis, parseClusterUrl } from '../../src/redis/connection';
import { createRedisRequestStore } from '../../src/redis/request-store';
import { startRedisProcess, type RedisProcess } from '../../emulators/redis-server';
import { T0, newRequest } from './fixtures';
import { isReadableEntry } from '../../src/core/ports';
import { auditEvent } from '../support/audit-events';

/** A one-node Redis Cluster that owns all 16384 slots: enough to prove routing and single-slot scripts. */
async function startOneNodeCluster(): Promise<RedisProcess> {
  const node = await startRedisProcess((port, dir) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-announce-ip',
    '127.0.0.1',
    '--cluster-config-file',
    join(dir, 'nodes.conf'),
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  const admin = connectRedis(`redis://127.0.0.1:${node.port}`);
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  // The node reports cluster_state:ok once it has taken the slots; ask until it does.
  for (let i = 0; i < 100 && !/cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO'))); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  admin.disconnect();
  return node;
}

describe('Redis Cluster', () => {
  let node: RedisProcess;
  beforeAll(async () => {
    node = await startOneNodeCluster();
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('parses a cluster URL with seed nodes and credentials', () => {
    expect(parseClusterUrl('redis+cluster://ivs:s3cret@10.0.0.1:7000,10.0.0.2')).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
      ],
      auth: { username: 'ivs', password: 's3cret' },
    });
  });

  it('the request store and the audit chain work through a cluster client with a hash-tagged prefix', async () => {
    const cluster = connectCluster(`redis+cluster://127.0.0.1:${node.port}`);
    try {
      const keyPrefix = '{ivs-cluster}:';
      const store = createRedisRequestStore(cluster, { keyPrefix });
      const audit = createRedisAuditLog(cluster, { keyPrefix, logger: pino({ enabled: false }) });
      const request = newRequest();
      expect((await store.create({ request, maxOpenPerRequester: 3 })).kind).toBe('created');
      expect((await store.approve(request.id, 'U_APP', T0 + 1, request.fingerprint)).kind).toBe('approved');
      expect((await store.claim(request.id, 'replica-1', 15_000, T0 + 2)).kind).toBe('claimed');
      expect((await store.finish(request.id, 'replica-1', { state: 'succeeded', outcome: 'done' }, T0 + 3)).kind).toBe('ok');
      await audit.append(auditEvent(request.id, 'requested', T0, { actor: 'U_REQ' }));
      await audit.append(auditEvent(request.id, 'succeeded', T0 + 3));
      const history = await audit.history(request.id);
      expect(history.entries.map((e) => isReadableEntry(e) && e.type)).toEqual(['requested', 'succeeded']);
      expect(history.chain).toEqual({ ok: true });
    } finally {
      cluster.disconnect();
    }
  });

  it('never trusts a reused /ivs list on a cluster, but still announces changes to the other replicas', async () => {
    const cluster = connectCluster(`redis+cluster://127.0.0.1:${node.port}`);
    const listener = connectRedis(`redis://127.0.0.1:${node.port}`);
    try {
      let changes = 0;
      const feed = watchCatalogChanges(cluster, { channel: '{ivs-cluster}:secrets-changed', onChange: () => changes++, logger: pino({ enabled: false }) });
      await listener.subscribe('{ivs-cluster}:secrets-changed');
      const heard = once(listener, 'message');
      feed.announce();
      expect(changes).toBe(1);
      expect(feed.hearing()).toBe(false);
      expect((await heard)[0]).toBe('{ivs-cluster}:secrets-changed');
      await feed.close();
    } finally {
      cluster.disconnect();
      listener.disconnect();
    }
  });
});
