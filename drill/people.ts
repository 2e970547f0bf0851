import { plainTextValue, blockAction, slashCommand, viewSubmission } from '../emulators/slack-payloads';
import { postToBolt, type BoltAnswer } from '../emulators/slack-signer';
import type { SlackMessage } from '../emulators/slack-api';
import type { Replica } from '../sandbox/server/replicas';
import type { Random } from './random';
import { TEAM_ID, type DrillWorld } from './world';

/** A button as a client showing the card would send it: its action id and value. */
export type Buttons = ReadonlyMap<string, string>;

/** The action ids and values of the buttons in `blocks` (a card version). */
export function buttonsIn(blocks: unknown): Buttons {
  const out = new Map<string, string>();
  if (!Array.isArray(blocks)) return out;
  for (const block of blocks as Array<{ type?: string; elements?: Array<{ action_id?: string; value?: string }> }>) {
    if (block.type !== 'actions') continue;
    for (const e of block.elements ?? []) if (e.action_id && e.value !== undefined) out.set(e.action_id, e.value);
  }
  return out;
}

export interface PeopleStats {
  commands: number;
  clicks: number;
  /** Posts no replica answered (all were down, or the one chosen died mid-request and so did the others). */
  unanswered: number;
  /** How the clicks were made: sequential, double, two replicas at once, old card, … */
  readonly patterns: Record<string, number>;
}

/**
 * People in Slack: they type `/ivs …` and click the buttons of the cards as the Slack double shows
 * them now (or as an older version showed them), and Slack delivers each signed request to one
 * live replica, as its load balancer would; when that replica does not answer, to another.
 */
export class People {
  readonly stats: PeopleStats = { commands: 0, clicks: 0, unanswered: 0, patterns: {} };
  /** Every HTTP answer a replica gave, for the leak canary. */
  readonly answers: string[] = [];
  private responseSeq = 0;
  /** Set once everything is final: whoever still waits for a card to change stops waiting. */
  closing = false;

  constructor(
    private readonly world: DrillWorld,
    private readonly random: Random,
  ) {}

  count(pattern: string): void {
    this.stats.patterns[pattern] = (this.stats.patterns[pattern] ?? 0) + 1;
  }

  private live(): Replica[] {
    return this.world.replicas.filter((r) => r.alive);
  }

  /** Two different live replicas when there are two (the same click landing on both at once). */
  twoReplicas(): [Replica | undefined, Replica | undefined] {
    const live = this.live();
    const first = live.length ? this.random.pick(live) : undefined;
    const others = live.filter((r) => r !== first);
    return [first, others.length ? this.random.pick(others) : first];
  }

  /** Signed POST to `via` (or a random live replica), then to the others in turn while none answers. */
  async post(body: string, via?: Replica): Promise<BoltAnswer | null> {
    const live = this.live();
    const order = via ? [via, ...live.filter((r) => r !== via)] : this.random.shuffle(live);
    for (const replica of order) {
      try {
        const answer = await postToBolt(replica.url, this.world.signingSecret, body);
        this.answers.push(answer.text);
        return answer;
      } catch {
        // Not listening (killed) or reset mid-answer: Slack shows the person an error; they try again.
      }
    }
    this.stats.unanswered += 1;
    return null;
  }

  /** `/ivs <text>` by `user`; resolves with what the bot said at the response_url (null if nothing within the wait). */
  async command(user: string, channel: string, text: string, via?: Replica, waitMs = 15_000): Promise<string | null> {
    this.stats.commands += 1;
    const id = `drill-${++this.responseSeq}`;
    const body = slashCommand({ text, userId: user, channelId: channel, teamId: TEAM_ID, responseUrl: this.world.slack.responseUrl(id) });
    const ack = await this.post(body, via);
    if (!ack) return null;
    try {
      const post = await this.world.slack.waitForResponse((p) => p.id === id, waitMs);
      return JSON.stringify(post.body);
    } catch {
      return ack.text || null;
    }
  }

  /** A click on a card's button with the value the clicker's client shows. */
  async click(user: string, card: SlackMessage, actionId: string, value: string, via?: Replica): Promise<BoltAnswer | null> {
    this.stats.clicks += 1;
    return this.post(this.clickBody(user, card, actionId, value), via);
  }

  /** The same click body sent to two replicas at once (two Slack edges delivering one click each). */
  async clickOnTwo(user: string, card: SlackMessage, actionId: string, value: string): Promise<void> {
    const [a, b] = this.twoReplicas();
    this.stats.clicks += 2;
    const body = this.clickBody(user, card, actionId, value);
    await Promise.all([this.post(body, a), this.post(body, b)]);
  }

  private clickBody(user: string, card: SlackMessage, actionId: string, value: string): string {
    const responseUrl = this.world.slack.responseUrl(`drill-${++this.responseSeq}`);
    return blockAction({ actionId, value, userId: user, messageTs: card.ts, responseUrl, channelId: card.channel, teamId: TEAM_ID });
  }

  /** Reject: the button opens a modal; its submission carries the step the card showed. */
  async reject(user: string, card: SlackMessage, value: string, reason: string): Promise<void> {
    await this.click(user, card, 'ivs_reject', value);
    this.stats.clicks += 1;
    await this.post(
      viewSubmission({
        callbackId: 'ivs_reject_modal',
        userId: user,
        teamId: TEAM_ID,
        privateMetadata: value,
        values: { reason: { reason: plainTextValue(reason) } },
      }),
    );
  }

  /** The request's card as the channel shows it now. */
  card(requestId: string): SlackMessage | undefined {
    return this.world.slack.messages().find((m) => m.threadTs === undefined && (m.text ?? '').includes(requestId));
  }

  /** Polls the card until `ready` holds for it (or the deadline passes: then undefined). */
  async waitForCard(
    requestId: string,
    timeoutMs: number,
    ready: (card: SlackMessage, buttons: Buttons) => boolean = () => true,
  ): Promise<SlackMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const card = this.card(requestId);
      if (card && ready(card, buttonsIn(card.blocks))) return card;
      if (Date.now() >= deadline || this.closing) return undefined;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
