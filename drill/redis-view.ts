import { Redis } from 'ioredis';
import type { ApprovalRequest } from '../src/core/request';
import { REQUEST_ID_PATTERN } from '../src/core/request-id';
import { decodeRequest } from '../src/redis/request-codec';
import { KEY_PREFIX } from './world';

/** A stored request as the drill reads it from Redis, with the lease fields the bot leaves on its hash. */
export interface StoredRequest {
  readonly request: ApprovalRequest;
  readonly leaseOwner: string | undefined;
}

/** The audit stream as stored: each entry's request id and type, in stream order. */
export interface StreamEntry {
  readonly requestId: string;
  readonly type: string;
  /** When the event happened (ms), as its teller recorded it. */
  readonly at: number;
}

/**
 * The drill's own read-only connection to the bot's Redis (nothing it does changes what the bot
 * stored). It fails fast rather than queueing while Redis is down, so a read says "not now".
 */
export class RedisView {
  readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 200 });
    this.redis.on('error', () => undefined);
  }

  async requests(): Promise<StoredRequest[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${KEY_PREFIX}req:R-*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const out: StoredRequest[] = [];
    for (const key of keys.sort()) {
      const id = key.slice(`${KEY_PREFIX}req:`.length);
      if (!REQUEST_ID_PATTERN.test(id)) continue;
      const fields = await this.redis.hgetall(key);
      out.push({ request: decodeRequest(id, fields), leaseOwner: fields['lease_owner'] || undefined });
    }
    return out;
  }

  /** Members of the executor's lease set: requests some replica holds (or held) a lease on. */
  leases(): Promise<string[]> {
    return this.redis.zrange(`${KEY_PREFIX}leases`, '0', '-1');
  }

  /** Channels with Slack notices not yet delivered. */
  async outboxDue(): Promise<number> {
    return this.redis.zcard(`${KEY_PREFIX}outbox:due`);
  }

  async stream(): Promise<StreamEntry[]> {
    const out: StreamEntry[] = [];
    let from = '-';
    for (;;) {
      const page = await this.redis.xrange(`${KEY_PREFIX}audit`, from, '+', 'COUNT', 1000);
      for (const [, flat] of page) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
        out.push({ requestId: f['requestId'] ?? '', type: f['type'] ?? '', at: Number(f['at'] ?? '0') });
      }
      const last = page[page.length - 1];
      if (page.length < 1000 || !last) return out;
      from = `(${last[0]}`;
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
