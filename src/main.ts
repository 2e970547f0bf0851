import { createBot } from './app';
import { configuredOrExit } from './startup';

/** Thin entry point: config, logger, bot, signals. */
async function main(): Promise<void> {
  const { config, logger } = configuredOrExit(process.env);
  const bot = createBot(config, { logger });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    bot.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  try {
    await bot.start();
  } catch (err) {
    logger.fatal({ err }, 'ivs-bot could not start');
    process.stderr.write(`ivs-bot could not start: ${err instanceof Error ? err.message : 'unknown error'}\n`);
    await bot.stop({ drainTimeoutMs: 0 }).catch(() => undefined);
    process.exit(1);
  }
}

void main();
