import { createBot } from '../src/app';
import { describeProblems, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { reportFailure, reportReady, serveParent } from './ipc';

// The bot under bench, alone in its own process so its CPU and memory are its own. Configured from the
// environment exactly as production (src/main.ts), except that the sweeper (and the outbox's poll for
// channels due elsewhere: this one bot kicks its own deliveries) is slowed to once an hour so the Redis
// command counts see only the work of the clicks being counted, and that its Slack deliveries are not
// paced: the double does not rate-limit, and production's one message per second per channel would
// only make the benchmark's loops wait for the thread (it is not on the click → Vault path measured).

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) throw new Error(describeProblems(loaded.problems));
  const { config } = loaded;
  const logger = createLogger({ level: config.logLevel, secrets: config.secrets });
  const bot = createBot(
    config,
    { logger },
    {
      sweepIntervalMs: SWEEP_INTERVAL_MS,
      delivery: { pollMs: SWEEP_INTERVAL_MS, pacing: { perSecond: 1_000_000, burst: 1_000_000 } },
    },
  );
  serveParent(() => bot.stop({ drainTimeoutMs: 5_000 }));
  const { port } = await bot.start();
  reportReady(port);
}

main().catch((err: unknown) => {
  reportFailure(err);
  process.exit(1);
});
