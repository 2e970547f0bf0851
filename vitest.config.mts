import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file starts its own redis-server and doubles on free ports, so files may run in
    // parallel; the timeouts are generous because CI has two cores.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most end-to-end files spend their time waiting (leases running out, answers held back), not
    // computing: three at once fill two cores better than vitest's default of one on such a machine.
    maxWorkers: 3,
  },
});
