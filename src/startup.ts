import type { Logger } from 'pino';
import { describeProblems, loadConfig, type Config } from './config';
import { createLogger } from './logger';

/**
 * What every process that runs the bot does first: the configuration from the environment, or the
 * one message naming every problem on stderr and exit code 1 (no stack trace); then its logger.
 */
export function configuredOrExit(env: NodeJS.ProcessEnv): { config: Config; logger: Logger } {
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    process.stderr.write(describeProblems(loaded.problems));
    process.exit(1);
  }
  const { config } = loaded;
  return { config, logger: createLogger({ level: config.logLevel, secrets: config.secrets }) };
}
