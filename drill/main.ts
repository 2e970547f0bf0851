import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatResult, runDrill, totalViolations } from './run';

// `npm run drill [-- --minutes N | --seconds N] [--replicas R] [--seed S]`: see the README's "Fault drill".

const USAGE = 'usage: npm run drill [-- --minutes N | --seconds N] [--replicas R] [--seed S] [--settle-seconds N]';

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not "${raw}"\n${USAGE}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      replicas: { type: 'string' },
      seed: { type: 'string' },
      'settle-seconds': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.minutes !== undefined && values.seconds !== undefined) throw new Error(`give --minutes or --seconds, not both\n${USAGE}`);
  const durationMs = values.seconds !== undefined ? positive('seconds', values.seconds, 0) * 1000 : positive('minutes', values.minutes, 3) * 60_000;
  const replicas = Math.round(positive('replicas', values.replicas, 3));
  if (replicas < 2) throw new Error(`--replicas must be at least 2: a kill needs another replica to take over\n${USAGE}`);
  const seed = values.seed !== undefined ? Math.floor(positive('seed', values.seed, 1)) : Math.floor(Math.random() * 1_000_000) + 1;
  const settleTimeoutMs = positive('settle-seconds', values['settle-seconds'], 300) * 1000;
  const started = Date.now();
  const log = (line: string) => process.stdout.write(`[drill +${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${line}\n`);
  log(`seed ${seed} (replay with --seed ${seed})`);
  const keepDir = join(tmpdir(), `ivs-drill-evidence-${seed}-${Date.now()}`);
  const result = await runDrill({ durationMs, replicas, seed, settleTimeoutMs, log, keepDir });
  process.stdout.write(`${formatResult(result)}\n`);
  return totalViolations(result) === 0 && result.unexpectedExits === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`drill: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
