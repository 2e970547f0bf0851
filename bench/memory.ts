import type { SlackDouble } from '../test/doubles/slack-api';
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
 * `total` commands, alternating `/ivs list` and `/ivs help`, in two equal halves; after each half
 * (every list answered) the bot's memory is sampled after a full GC.
 */
export async function memoryRun(slack: SlackDouble, bot: MeasuredProcess, total: number, concurrency: number): Promise<MemoryPoint[]> {
  const half = Math.floor(total / 2);
  const points: MemoryPoint[] = [{ commands: 0, sample: await bot.sample() }];
  for (let part = 1; part <= 2; part++) {
    const tag = `mem${part}`;
    const text = (i: number) => (i % 2 === 0 ? 'list' : 'help');
    const requests = commands(slack, text, half, tag);
    const posts = collectResponses(slack, `${tag}.`);
    const load = await runClosedLoop(bot.url, requests, concurrency);
    if ((load.statuses.get(200) ?? 0) !== half) throw new Error(`memory run: only ${load.statuses.get(200) ?? 0} of ${half} commands answered 200`);
    // Every list not answered in the ack (help always is) has its post on the way: wait for them all.
    await posts.arrived(load.answeredInAck.filter((inAck) => !inAck).length);
    points.push({ commands: part * half, sample: await bot.sample() });
  }
  return points;
}
