import { describe } from 'vitest';
import type { AuditEvent } from '../../src/core/ports';
import { createMemoryRequestStore, MemoryStoreData, type CardPostSink, type ToldEventSink } from './memory-request-store';
import { GRACE, requestStoreContract, type StoresUnderTest } from './request-store-contract';

/** Two stores over one MemoryStoreData are two replicas over one Redis; all of them record into one outbox and audit record. */
function stores(opts: { unqualifiedWorkspace?: string } = {}): StoresUnderTest {
  const data = new MemoryStoreData();
  const audit: AuditEvent[] = [];
  const outbox: { channel: string; requestId: string; kind: 'card' | 'reply' }[] = [];
  const cards: CardPostSink = { recordCardPost: (post) => outbox.push(post) };
  // What the Redis scripts' tell_with records: the audit entry, then the card update and the reply.
  const events: ToldEventSink = {
    recordTold: (request, event) => {
      audit.push(event);
      outbox.push({ channel: request.channel, requestId: request.id, kind: 'card' }, { channel: request.channel, requestId: request.id, kind: 'reply' });
    },
  };
  const open = (o: { unqualifiedWorkspace?: string }) => createMemoryRequestStore({ data, claimGraceMs: GRACE, outbox: cards, ...o });
  const inChannel = (channel: string) => outbox.filter((item) => item.channel === channel);
  return {
    store: open(opts),
    other: open(opts),
    replica: open,
    telling: createMemoryRequestStore({ data, claimGraceMs: GRACE, outbox: cards, tellWith: events, ...opts }),
    told: {
      auditTypes: async (id) => audit.filter((e) => e.requestId === id).map((e) => e.type),
      outboxKinds: async (channel) => inChannel(channel).map((item) => item.kind),
    },
    peek: {
      cardPosts: async (channel) =>
        inChannel(channel)
          .filter((item) => item.kind === 'card')
          .map((item) => item.requestId),
      slotHolder: async (workspace) => data.inflight.get(workspace) ?? null,
      rotationHolder: async (key) => data.rotations.get(key) ?? null,
      openOf: async (requester) => [...(data.requesters.get(requester) ?? [])].sort(),
      keptForMs: async (id) => data.ttlMs(id),
    },
  };
}

describe('the in-memory request store (test support) keeps the same contract as the Redis one', () => {
  requestStoreContract(stores);
});
