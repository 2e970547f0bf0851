import type { SlackCall, SlackDouble } from '../emulators/slack-api';
import { blockAction, slashCommand } from '../emulators/slack-payloads';
import { postToBolt } from '../emulators/slack-signer';
import { CHANNEL, REQUESTER, SIGNING_SECRET } from './world';

// Single requests and clicks as a person makes them, for the approval and Redis benchmarks.

const WAIT_MS = 15_000;
let seq = 0;

export interface OpenedRequest {
  readonly id: string;
  readonly cardTs: string;
}

/** `/ivs create …` as the requester; resolves once the bot told them the request is open (its last step). */
export async function openCreateRequest(slack: SlackDouble, botUrl: string, name: string): Promise<OpenedRequest> {
  const rid = `open.${++seq}`;
  const reply = slack.waitForResponse((p) => p.id === rid, WAIT_MS);
  const ack = await postToBolt(
    botUrl,
    SIGNING_SECRET,
    slashCommand({ text: `create web ${name} -- benchmark`, userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl(rid) }),
  );
  if (ack.status !== 200) throw new Error(`/ivs create answered ${ack.status}`);
  const text = JSON.stringify((await reply).body);
  const id = /Request (R-[0-9A-Z]{6}) opened/.exec(text)?.[1];
  if (!id) throw new Error(`request not opened: ${text}`);
  const card = await slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes(id), WAIT_MS);
  return { id, cardTs: String((card.response as { ts?: unknown } | null)?.ts ?? '') };
}

/** An Approve click; resolves with the click's response_url id once Bolt acked it. */
export async function approveClick(slack: SlackDouble, botUrl: string, request: OpenedRequest, user: string): Promise<string> {
  const rid = `click.${++seq}`;
  const ack = await postToBolt(
    botUrl,
    SIGNING_SECRET,
    blockAction({
      actionId: 'ivs_approve',
      value: slack.buttonValue(CHANNEL, request.cardTs, 'ivs_approve') ?? request.id,
      userId: user,
      messageTs: request.cardTs,
      channelId: CHANNEL,
      responseUrl: slack.responseUrl(rid),
    }),
  );
  if (ack.status !== 200) throw new Error(`approve click answered ${ack.status}`);
  return rid;
}

/** The first thread reply on the card, posted at or after call `fromSeq`, whose text matches. */
export async function threadReply(slack: SlackDouble, request: OpenedRequest, pattern: RegExp, fromSeq: number, clickRid?: string): Promise<SlackCall> {
  try {
    return await slack.waitFor(
      'chat.postMessage',
      (c) => c.seq >= fromSeq && c.args['thread_ts'] === request.cardTs && pattern.test(String(c.args['text'] ?? '')),
      WAIT_MS,
    );
  } catch (err) {
    // A refused click answers through its response_url instead: say why.
    const refusal = clickRid ? slack.responses.find((p) => p.id === clickRid) : undefined;
    throw new Error(`no thread reply ${pattern} on ${request.id}${refusal ? `; the click was answered ${JSON.stringify(refusal.body)}` : ''}`, { cause: err });
  }
}
