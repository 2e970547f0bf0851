import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import type { Logger } from 'pino';

/** A real pino logger (with the production redaction) whose JSON lines tests can read. */
export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: string[];
  records(): Array<Record<string, unknown>>;
  text(): string;
}

export function captureLogs(secrets: readonly string[] = [], level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
      done();
    },
  });
  const logger = createLogger({ level, secrets, destination });
  return {
    logger,
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}
