import { describe } from 'vitest';
import { createMemoryRequestStore, MemoryStoreData } from './memory-request-store';
import { GRACE, requestStoreContract, type StoresUnderTest } from './request-store-contract';

/** Two stores over one MemoryStoreData are two replicas over one Redis. */
function stores(opts: { unqualifiedWorkspace?: string } = {}): StoresUnderTest {
  const data = new MemoryStoreData();
  const open = (o: { unqualifiedWorkspace?: string }) => createMemoryRequestStore({ data, claimGraceMs: GRACE, ...o });
  return {
    store: open(opts),
    other: open(opts),
    replica: open,
    peek: {
      cardPosts: async (channel) => data.cardPosts.filter((post) => post.channel === channel).map((post) => post.requestId),
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
