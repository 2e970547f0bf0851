import { createBot } from '../../src/app';
import { describeProblems, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

// One bot replica in its own process, for tests that kill it with SIGKILL: configured from its
// environment as src/main.ts is, but with the execution lease shortened by BOT_CHILD_LEASE_MS, so
// that another replica takes over in seconds rather than the production 15 s. No signal handlers:
// it is meant to die, not to shut down.

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  process.stderr.write(describeProblems(loaded.problems));
  process.exit(1);
}
const { config } = loaded;
const logger = createLogger({ level: config.logLevel, secrets: config.secrets });
const leaseMs = Number(process.env['BOT_CHILD_LEASE_MS'] ?? '1500');
createBot(config, { logger, leaseMs })
  .start()
  .catch((err: unknown) => {
    process.stderr.write(`bot child could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
