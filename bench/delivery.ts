import { performance } from 'node:perf_hooks';
import { webApi } from '@slack/bolt';
import type { ApprovalRequest } from '../src/core/request';
import { connectRedis } from '../src/redis/connection';
import { createRedisOutboxQueue } from '../src/redis/outbox-queue';
import { createRedisRequestStore } from '../src/redis/request-store';
import { SlackDelivery } from '../src/slack/delivery';
import { SlackOutbox } from '../src/slack/slack-outbox';
import { createMetrics } from '../src/metrics';
import { systemClock } from '../src/clock';
import type { BenchWorld } from './world';
import { REQUESTER } from './world';
import { startCommandCounter } from './redis-commands';

export interface DeliverySample {
  readonly events: number;
  readonly channels: number;
  readonly ms: number;
  readonly eventsPerSecond: number;
  /** Redis commands the clients sent per event, recording and delivering it (MONITOR). */
  readonly roundTripsPerEvent: number;
  readonly byCommand: Readonly<Record<string, number>>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The outbox on its own, in this process: `perChannel` thread replies recorded one after another
 * for each of `channels` requests (cards already posted), then delivered to the Slack double. Not
 * paced (the double does not rate-limit): the machinery's own throughput. In production each
 * channel is paced to about one message per second, so this is headroom, not the rate people see.
 */
export async function deliveryRun(world: BenchWorld, channels: number, perChannel: number): Promise<DeliverySample> {
  const redis = connectRedis(world.redis.url);
  const keyPrefix = 'ivs-bench-delivery:';
  const store = createRedisRequestStore(redis, { keyPrefix });
  const queue = createRedisOutboxQueue(redis, { keyPrefix });
  const client = new webApi.WebClient(world.slack.token, {
    slackApiUrl: world.slack.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: webApi.LogLevel.ERROR,
  });
  const delivery = new SlackDelivery(client, queue, store, systemClock, silent, createMetrics({ defaultMetrics: false }), {
    owner: 'bench',
    leaseMs: 15_000,
    pollMs: 60 * 60 * 1000,
    maxAgeMs: 86_400_000,
    pacing: { perSecond: 1_000_000, burst: 1_000_000 },
    backoff: { baseMs: 100, maxMs: 1_000 },
    minOverlapMs: () => 3_600_000,
  });
  const outbox = new SlackOutbox(queue, delivery, systemClock);
  delivery.start();
  const counter = await startCommandCounter(world.redis.url);
  try {
    const requests: ApprovalRequest[] = [];
    for (let c = 0; c < channels; c++) {
      const now = Date.now();
      const id = `R-DLV${String(c).padStart(3, '0')}`;
      const created = await store.create({
        request: {
          id,
          operation: { action: 'create', workspace: 'default', name: `Delivery ${c}`, platforms: ['web'] },
          fingerprint: 'bench',
          requester: REQUESTER,
          teamId: 'T111',
          channel: `CDLV${c}`,
          reason: 'benchmark',
          state: 'pending',
          approvals: [],
          approvalsRequired: 1,
          createdAt: now,
          expiresAt: now + 3_600_000,
          updatedAt: now,
          impact: [],
          progress: {},
        },
        maxOpenPerRequester: 1_000,
      });
      if (created.kind !== 'created') throw new Error(`bench request not created: ${created.kind}`);
      delivery.kick(created.request.channel);
      requests.push(created.request);
    }
    // Cards first (not counted): every reply needs its card's ts.
    for (const r of requests) {
      await world.slack.waitFor('chat.postMessage', (call) => call.ok && call.args['channel'] === r.channel && !call.args['thread_ts'], 15_000);
    }
    const before = world.slack.calls.length;
    const events = channels * perChannel;
    let ms = 0;
    const count = await counter.measure(async () => {
      const t0 = performance.now();
      const all = world.slack.waitFor(
        'chat.postMessage',
        () => world.slack.calls.slice(before).filter((x) => x.ok && x.method === 'chat.postMessage').length >= events,
        60_000,
      );
      for (let i = 1; i <= perChannel; i++) {
        for (const r of requests) {
          await outbox.record(r, [{ kind: 'reply', event: { requestId: r.id, type: 'retrying', at: Date.now(), detail: { why: `event ${i}` } } }]);
        }
      }
      await all;
      ms = performance.now() - t0;
      // Let the deliverers let go of their channels, so their last commands are counted too.
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    return {
      events,
      channels,
      ms,
      eventsPerSecond: events / (ms / 1000),
      roundTripsPerEvent: count.roundTrips / events,
      byCommand: count.byCommand,
    };
  } finally {
    await counter.close();
    await delivery.stop();
    redis.disconnect();
  }
}
