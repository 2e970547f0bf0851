import { createBot } from '../../src/app';
import { configuredOrExit } from '../../src/startup';

// One bot replica in its own process, for tests that kill it with SIGKILL: configured from its
// environment as src/main.ts is, but with the execution and Slack delivery leases shortened by BOT_CHILD_LEASE_MS, so
// that another replica takes over in seconds rather than the production 15 s. No signal handlers:
// it is meant to die, not to shut down.

const { config, logger } = configuredOrExit(process.env);
const leaseMs = Number(process.env['BOT_CHILD_LEASE_MS'] ?? '1500');
createBot(config, { logger }, { leaseMs, delivery: { leaseMs } })
  .start()
  .catch((err: unknown) => {
    process.stderr.write(`bot child could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
