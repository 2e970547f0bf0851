import type { SlackDouble } from '../emulators/slack-api';
import type { ProcessSample } from './ipc';
import { runClosedLoop } from './load';
import type { MeasuredProcess } from './processes';
import { collectResponses, commands } from './ack-latency';

export interface MemoryPoint {
  /** Commands handled in this phase when the sample was taken. */
  readonly commands: number;
  readonly sample: ProcessSample;
}

/**
 * `warmup` commands first, not counted. Then `total` commands, alternating `/ivs list` and
 * `/ivs help`, in parts of `step`; before and after each part (every list answered) the bot's memory
 * is sampled after a full GC. Several parts, because the heap moves by about half a MiB on its own
 * (code getting optimised, pools settling) at some point in the first tens of thousands of commands:
 * one short window can catch that step; a leak keeps growing part after part.
 */
export async function memoryRun(
  slack: SlackDouble,
  bot: MeasuredProcess,
  total: number,
  step: number,
  concurrency: number,
  warmup = 0,
): Promise<MemoryPoint[]> {
  if (warmup > 0) await mixedCommands(slack, bot, warmup, concurrency, 'memwarm');
  const points: MemoryPoint[] = [{ commands: 0, sample: await bot.sample() }];
  for (let done = 0, part = 1; done < total; part++) {
    const n = Math.min(step, total - done);
    await mixedCommands(slack, bot, n, concurrency, `mem${part}`);
    done += n;
    points.push({ commands: done, sample: await bot.sample() });
  }
  return points;
}

/** `n` commands alternating `/ivs list` and `/ivs help`, until every list has been answered. */
async function mixedCommands(slack: SlackDouble, bot: MeasuredProcess, n: number, concurrency: number, tag: string): Promise<void> {
  const text = (i: number) => (i % 2 === 0 ? 'list' : 'help');
  const requests = commands(slack, text, n, tag);
  const posts = collectResponses(slack, `${tag}.`);
  const load = await runClosedLoop(bot.url, requests, concurrency);
  if ((load.statuses.get(200) ?? 0) !== n) throw new Error(`memory run: only ${load.statuses.get(200) ?? 0} of ${n} commands answered 200`);
  // Every list not answered in the ack (help always is) has its post on the way: wait for them all.
  await posts.arrived(load.answeredInAck.filter((inAck) => !inAck).length);
}
