import { Redis } from 'ioredis';

/** What Redis executed while one operation ran, as MONITOR saw it. */
export interface CommandCount {
  /** Commands sent by clients: each is one request/answer over the network (a round trip, unless pipelined). */
  readonly roundTrips: number;
  /** Commands run inside Lua scripts (no network; shown to say how much work one script does). */
  readonly insideLua: number;
  /** Client commands by name, e.g. `{ evalsha: 3 }`. */
  readonly byCommand: Readonly<Record<string, number>>;
}

export interface CommandCounter {
  /** Runs `op` and counts every command Redis executed from its start until it resolved. */
  measure(op: () => Promise<void>): Promise<CommandCount>;
  close(): Promise<void>;
}

/**
 * Counts Redis commands with MONITOR on a redis-server that only the bot uses. A marker (ECHO from a
 * second connection) closes each window: MONITOR reports commands in execution order, so once the
 * marker shows up, every command the operation caused has been seen.
 */
export async function startCommandCounter(url: string): Promise<CommandCounter> {
  const monitorClient = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await monitorClient.connect();
  const monitor = await monitorClient.monitor();
  const marker = new Redis(url, { maxRetriesPerRequest: 1 });
  let seq = 0;
  let recording: { roundTrips: number; insideLua: number; byCommand: Record<string, number> } | undefined;
  let awaited: { token: string; done: () => void } | undefined;

  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = (args[0] ?? '').toLowerCase();
    if (name === 'echo' && awaited && args[1] === awaited.token) {
      awaited.done();
      return;
    }
    if (!recording) return;
    if (source === 'lua') {
      recording.insideLua += 1;
      return;
    }
    recording.roundTrips += 1;
    if (process.env['BENCH_REDIS_TRACE']) process.stderr.write(`redis: ${name} ${name === 'evalsha' ? (args[3] ?? '') : (args[1] ?? '')}\n`);
    recording.byCommand[name] = (recording.byCommand[name] ?? 0) + 1;
  });

  const flush = async (): Promise<void> => {
    const token = `bench-marker-${++seq}`;
    const seen = new Promise<void>((resolve) => {
      awaited = { token, done: resolve };
    });
    await marker.echo(token);
    await seen;
    awaited = undefined;
  };

  return {
    async measure(op) {
      await flush();
      recording = { roundTrips: 0, insideLua: 0, byCommand: {} };
      try {
        await op();
        await flush();
        return recording;
      } finally {
        recording = undefined;
      }
    },
    async close() {
      monitor.disconnect();
      monitorClient.disconnect();
      marker.disconnect();
    },
  };
}
