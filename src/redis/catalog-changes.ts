import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisClient } from './connection';

/**
 * Tells every replica that a secret was created or deleted, so none of them shows a listing from
 * before (core/catalog.ts). Redis pub/sub: `announce` publishes, each replica's own subscriber
 * connection hears it. Pub/sub forgets what it could not deliver, so a replica trusts what it
 * listed only while its subscription is up (`hearing`); losing it, or getting it back, counts as a
 * change. With Redis Cluster nothing is heard (the client hides its subscriber connection's
 * state), so every `/ivs list` asks Intercom and Vault.
 */
export interface CatalogChanges {
  /** Some secret may have changed: tell this replica at once and the others through Redis. Never throws. */
  announce(): void;
  /** Whether changes announced elsewhere reach this replica right now. */
  hearing(): boolean;
  close(): Promise<void>;
}

export function watchCatalogChanges(redis: RedisClient, opts: { channel: string; onChange: () => void; logger: Logger }): CatalogChanges {
  const { channel, onChange, logger } = opts;
  const publish = (): void => {
    redis.publish(channel, 'changed').catch((err: unknown) => {
      logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not tell the other replicas that a secret changed');
    });
  };
  if (redis instanceof Cluster) {
    return {
      announce: () => {
        onChange();
        publish();
      },
      hearing: () => false,
      close: async () => undefined,
    };
  }

  let hearing = false;
  let closed = false;
  const lost = (): void => {
    if (hearing) onChange();
    hearing = false;
  };
  const subscriber: Redis = redis.duplicate({ autoResubscribe: false, enableOfflineQueue: false, lazyConnect: true });
  // Every (re)connection subscribes afresh; only its answer makes the replica trust listings again.
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => {
        if (closed) return;
        hearing = true;
        onChange();
      },
      (err: unknown) => {
        logger.warn(
          { err: { message: err instanceof Error ? err.message : String(err) } },
          'could not subscribe to secret changes; /ivs list asks Intercom every time',
        );
      },
    );
  });
  subscriber.on('message', (from: string) => {
    if (from === channel) onChange();
  });
  subscriber.on('close', lost);
  subscriber.on('end', lost);
  // The main connection already reports Redis being down; this one only must not crash the process.
  subscriber.on('error', () => undefined);
  subscriber.connect().catch(() => undefined);

  return {
    announce: () => {
      onChange();
      publish();
    },
    hearing: () => hearing,
    close: async () => {
      closed = true;
      lost();
      subscriber.disconnect();
    },
  };
}
