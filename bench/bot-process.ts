import { createBot } from '../src/app';
import { describeProblems, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { reportFailure, reportReady, serveParent } from './ipc';

// The bot under bench, alone in its own process so its CPU and memory are its own. Configured from the
// environment exactly as production (src/main.ts), except that the sweeper is slowed to once an hour so
// the Redis command counts see only the work of the clicks being counted.

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) throw new Error(describeProblems(loaded.problems));
  const { config } = loaded;
  const logger = createLogger({ level: config.logLevel, secrets: config.secrets });
  const bot = createBot(config, { logger, sweepIntervalMs: SWEEP_INTERVAL_MS });
  serveParent(() => bot.stop({ drainTimeoutMs: 5_000 }));
  const { port } = await bot.start();
  reportReady(port);
}

main().catch((err: unknown) => {
  reportFailure(err);
  process.exit(1);
});
