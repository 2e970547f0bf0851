import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that wait longest on the real clock (a 15 s lease and a 30 s holder window, a headless
// browser, Slack's Retry-After) start first. Vitest orders by last run's durations when it has them,
// but a clean clone (CI) has none and starts the largest files first: the small failover file would
// then run alone at the end on two cores.
const SLOW_FIRST = [
  'test/sandbox/failover.test.ts',
  'test/sandbox/page.test.ts',
  'test/sandbox/control-api.test.ts',
  'test/e2e/slack-delivery.test.ts',
  'test/e2e/slack-outage.test.ts',
];

class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((path) => spec.moduleId.endsWith(path));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keeps vitest's own order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: SlowFilesFirst },
  },
});
