import { postToBolt } from '../emulators/slack-signer';
import { slashCommand } from '../emulators/slack-payloads';
import type { BenchWorld } from './world';
import { APPROVER, APPROVER_2, CHANNEL, REQUESTER, SIGNING_SECRET } from './world';
import { approveClick, openCreateRequest, threadReply, type OpenedRequest } from './slack-flow';
import { startCommandCounter, type CommandCount } from './redis-commands';

export type Operation = '/ivs help' | 'open a request (/ivs create)' | 'non-decisive Approve click' | 'decisive Approve click + execution';

/** Each operation `repeats` times, counting what Redis executed for it alone. */
export async function redisRun(world: BenchWorld, repeats: number): Promise<Map<Operation, CommandCount[]>> {
  const { slack, bot } = world;
  const counter = await startCommandCounter(world.redis.url);
  const out = new Map<Operation, CommandCount[]>();
  const add = (op: Operation, c: CommandCount) => out.set(op, [...(out.get(op) ?? []), c]);
  try {
    for (let i = 1; i <= repeats; i++) {
      add(
        '/ivs help',
        await counter.measure(async () => {
          const ack = await postToBolt(
            bot.url,
            SIGNING_SECRET,
            slashCommand({ text: 'help', userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl() }),
          );
          if (ack.status !== 200) throw new Error(`/ivs help answered ${ack.status}`);
        }),
      );
      let request: OpenedRequest | undefined;
      add(
        'open a request (/ivs create)',
        await counter.measure(async () => {
          request = await openCreateRequest(slack, bot.url, `Bench Redis ${i}`);
        }),
      );
      const opened = request;
      if (!opened) throw new Error('unreachable: no request opened');
      add(
        'non-decisive Approve click',
        await counter.measure(async () => {
          const from = slack.calls.length;
          const rid = await approveClick(slack, bot.url, opened, APPROVER);
          await threadReply(slack, opened, /Approved by <@U222>/, from, rid);
        }),
      );
      add(
        'decisive Approve click + execution',
        await counter.measure(async () => {
          const from = slack.calls.length;
          const rid = await approveClick(slack, bot.url, opened, APPROVER_2);
          const done = await threadReply(slack, opened, /Succeeded|Failed/, from, rid);
          if (!/Succeeded/.test(String(done.args['text']))) throw new Error(`${opened.id} did not succeed: ${String(done.args['text'])}`);
        }),
      );
    }
  } finally {
    await counter.close();
  }
  return out;
}
