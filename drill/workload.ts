import type { SlackMessage } from '../emulators/slack-api';
import { isFinal, type ApprovalRequest } from '../src/core/request';
import { buttonsIn, type Buttons, type People } from './people';
import type { Random } from './random';
import type { RedisView } from './redis-view';
import { CHANNELS, MIN_OVERLAP_MS, PEOPLE, REQUESTERS, type DrillWorld } from './world';

const OPENED = /Request (R-[0-9A-Z]{6}) opened/;
/** How long a person waits for a card to show what they need before they leave it (to the final round). */
const CARD_WAIT_MS = 45_000;
/** A rotation's first step may sit behind another execution, a hung Intercom and a takeover. */
const STEP_WAIT_MS = 90_000;
const MAX_STORIES = 8;

export interface WorkloadOptions {
  /** Mean pause between two new requests. */
  readonly meanGapMs: number;
}

/**
 * The people's side of the drill: requesters open creates, deletes and rotations; approvers decide
 * them by clicking the cards (twice, on two replicas at once, on old versions); requesters finish
 * or abandon their rotations. Each request is one story, several run at once.
 */
export class Workload {
  private stopped = false;
  private readonly stories = new Set<Promise<void>>();
  private seq = 0;
  /** Secret ids with a request of ours in flight: someone else picks another target. */
  private readonly busy = new Set<string>();
  readonly opened = { create: 0, delete: 0, rotate: 0, refused: 0 };
  /** The requests the people opened themselves (the rest are the bot's orphan deletes). */
  readonly ours = new Set<string>();

  constructor(
    private readonly world: DrillWorld,
    private readonly people: People,
    private readonly random: Random,
    private readonly opts: WorkloadOptions,
  ) {}

  /** Starts stories until stop(); resolves when it stops starting them. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (this.stories.size < MAX_STORIES) {
        const story = this.story(this.random.fork()).catch(() => undefined);
        const tracked = story.finally(() => this.stories.delete(tracked));
        this.stories.add(tracked);
      }
      await new Promise((r) => setTimeout(r, this.random.int(this.opts.meanGapMs / 2, (this.opts.meanGapMs * 3) / 2)));
    }
  }

  /** No new requests; the stories under way go on to their end. */
  stop(): void {
    this.stopped = true;
  }

  /** Waits for the stories under way, up to `timeoutMs`; resolves with how many were still running. */
  async settle(timeoutMs: number): Promise<number> {
    const all = Promise.all([...this.stories]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    return this.stories.size;
  }

  private activeSecrets(): Array<{ id: string; platforms: readonly string[] }> {
    return this.world.intercom.secrets().filter((s) => !s.deleted);
  }

  private async story(random: Random): Promise<void> {
    const n = ++this.seq;
    const requester = random.pick(REQUESTERS);
    const channel = random.pick(CHANNELS);
    const active = this.activeSecrets();
    const free = active.filter((s) => !this.busy.has(s.id));
    let kind: 'create' | 'delete' | 'rotate' = random.next() < 0.35 ? 'create' : random.next() < 0.6 ? 'rotate' : 'delete';
    if (active.length < 4 || free.length === 0) kind = 'create';
    if (active.length > 10 && kind === 'create') kind = 'delete';
    const target = kind === 'create' ? undefined : random.pick(free);
    const text =
      kind === 'create'
        ? `create ${random.pick(['web', 'ios', 'android', 'web,ios', 'ios,android'])} Drill ${n}`
        : kind === 'delete'
          ? `delete ${target?.id} ${random.chance(0.5) ? '--force ' : ''}drill ${n}`
          : `rotate ${target?.id} drill ${n}`;
    if (target) this.busy.add(target.id);
    try {
      const reply = await this.people.command(requester, channel, text);
      const id = OPENED.exec(reply ?? '')?.[1];
      if (!id) {
        this.opened.refused += 1;
        return;
      }
      this.opened[kind] += 1;
      this.ours.add(id);
      const card = await this.people.waitForCard(id, CARD_WAIT_MS, (_, b) => b.has('ivs_approve'));
      if (!card) return;
      const fate = random.next();
      if (fate < 0.07) {
        this.people.count('cancel');
        // The requester calls it off while an approver clicks Approve: one of the two wins.
        await Promise.all([this.people.command(requester, channel, `cancel ${id}`), this.approveOnce(random, card, id, [requester])]);
        return;
      }
      if (fate < 0.14) {
        this.people.count('reject');
        const approver = random.pick(PEOPLE.filter((p) => p !== requester));
        await this.people.reject(approver, card, buttonsIn(card.blocks).get('ivs_reject') ?? '', `drill says no to ${n}`);
        return;
      }
      await this.approveStep(random, card, id, [requester]);
      if (kind !== 'rotate') {
        await this.oldCardClick(random, id);
        return;
      }
      await this.finishRotation(random, id, requester);
    } finally {
      if (target) this.busy.delete(target.id);
    }
  }

  /** Two approvals of the card's current step, by people not in `not`, in one of the click patterns. */
  private async approveStep(random: Random, card: SlackMessage, id: string, not: readonly string[]): Promise<void> {
    const value = buttonsIn(card.blocks).get('ivs_approve');
    if (!value) return;
    const [a, b, c] = random.shuffle(PEOPLE.filter((p) => !not.includes(p)));
    if (!a || !b) return;
    const click = (who: string) => this.people.click(who, card, 'ivs_approve', value);
    const pattern = random.pick(['sequential', 'double click', 'two replicas at once', 'three at once', 'withdraw and again'] as const);
    this.people.count(pattern);
    switch (pattern) {
      case 'sequential':
        await click(a);
        await click(b);
        break;
      case 'double click': {
        const [via] = this.people.twoReplicas();
        await Promise.all([this.people.click(a, card, 'ivs_approve', value, via), this.people.click(a, card, 'ivs_approve', value, via)]);
        await click(b);
        break;
      }
      case 'two replicas at once':
        await click(a);
        await this.people.clickOnTwo(b, card, 'ivs_approve', value);
        break;
      case 'three at once':
        await Promise.all([click(a), click(b), ...(c ? [click(c)] : [])]);
        break;
      case 'withdraw and again': {
        await click(a);
        const withdraw = (await this.people.waitForCard(id, 5_000, (_, bs) => bs.has('ivs_withdraw')))?.blocks;
        const w = buttonsIn(withdraw).get('ivs_withdraw');
        if (w) await this.people.click(a, card, 'ivs_withdraw', w);
        await click(a);
        await click(b);
        break;
      }
    }
  }

  /** One approval (the racing approver of a cancel). */
  private async approveOnce(random: Random, card: SlackMessage, _id: string, not: readonly string[]): Promise<void> {
    const value = buttonsIn(card.blocks).get('ivs_approve');
    if (value) await this.people.click(random.pick(PEOPLE.filter((p) => !not.includes(p))), card, 'ivs_approve', value);
  }

  /** Sometimes someone clicks Approve on the card's first version after it moved on. */
  private async oldCardClick(random: Random, id: string): Promise<void> {
    if (!random.chance(0.3)) return;
    await new Promise((r) => setTimeout(r, random.int(200, 2_000)));
    const card = this.people.card(id);
    const first = card?.history.map((h) => buttonsIn(h.blocks)).find((b) => b.has('ivs_approve'));
    const value = first?.get('ivs_approve');
    if (!card || !value) return;
    this.people.count('old card');
    await this.people.click(random.pick(PEOPLE), card, 'ivs_approve', value);
  }

  /** Waits for step 1 to execute, then finishes the rotation (after the overlap) or abandons it. */
  private async finishRotation(random: Random, id: string, requester: string): Promise<void> {
    const done = (b: Buttons) => b.has('ivs_finish');
    const card = await this.people.waitForCard(id, STEP_WAIT_MS, (c, b) => done(b) || this.looksFinal(c));
    if (!card || !done(buttonsIn(card.blocks))) return;
    const buttons = buttonsIn(card.blocks);
    if (random.chance(0.15)) {
      this.people.count('abandon');
      await this.people.click(requester, card, 'ivs_abandon', buttons.get('ivs_abandon') ?? '');
      return;
    }
    const finisher = random.pick(REQUESTERS);
    const finish = buttons.get('ivs_finish') ?? '';
    if (random.chance(0.3)) {
      // Too early: refused with the time left, nothing changes.
      this.people.count('finish too early');
      await this.people.click(finisher, card, 'ivs_finish', finish);
    }
    // The overlap runs from the successor's creation, which was before the button showed.
    await new Promise((r) => setTimeout(r, MIN_OVERLAP_MS + 1_000));
    let retire: SlackMessage | undefined;
    for (let attempt = 0; attempt < 3 && !retire; attempt++) {
      const now = this.people.card(id);
      const value = now ? buttonsIn(now.blocks).get('ivs_finish') : undefined;
      if (!now || !value) break;
      await this.people.click(finisher, now, 'ivs_finish', value);
      retire = await this.people.waitForCard(id, 10_000, (_, b) => b.has('ivs_approve'));
    }
    if (!retire) return;
    // The step-1 Approve of the card's history: stale now, must be refused.
    await this.oldCardClick(random, id);
    await this.approveStep(random, retire, id, [finisher]);
  }

  private looksFinal(card: SlackMessage): boolean {
    return buttonsIn(card.blocks).size === 0 && card.history.length > 0;
  }
}

/**
 * What a person does with an open request whose card they see (at most every 10 s per request):
 * a pending one is approved by whoever has not approved it yet, a rotation waiting to be finished
 * is abandoned (both secrets kept).
 */
async function bringToAnEnd(people: People, request: ApprovalRequest, actedAt: Map<string, number>): Promise<void> {
  if (isFinal(request.state) || Date.now() - (actedAt.get(request.id) ?? 0) < 10_000) return;
  const card = people.card(request.id);
  if (!card) return;
  const buttons = buttonsIn(card.blocks);
  if (request.state === 'pending' && buttons.has('ivs_approve')) {
    actedAt.set(request.id, Date.now());
    const not = new Set([request.requester, ...request.approvals, ...(request.rotation?.finishRequestedBy ? [request.rotation.finishRequestedBy] : [])]);
    const missing = request.approvalsRequired - request.approvals.length;
    for (const who of PEOPLE.filter((p) => !not.has(p)).slice(0, missing)) await people.click(who, card, 'ivs_approve', buttons.get('ivs_approve') ?? '');
  } else if (request.state === 'awaiting_finish' && buttons.has('ivs_abandon')) {
    actedAt.set(request.id, Date.now());
    await people.click(request.requester, card, 'ivs_abandon', buttons.get('ivs_abandon') ?? '');
  }
}

/**
 * Ops watching the channels during the drill: a request none of the people opened (the delete the
 * bot opens for an orphan) is approved when its card shows, as the thread asks; left alone it would
 * stay pending (it never expires) with the orphan active until the final round.
 */
export async function watchBotRequests(people: People, view: RedisView, ours: ReadonlySet<string>, running: () => boolean): Promise<void> {
  const actedAt = new Map<string, number>();
  while (running()) {
    try {
      for (const { request } of await view.requests()) {
        if (!ours.has(request.id) && request.state === 'pending') await bringToAnEnd(people, request, actedAt);
      }
    } catch {
      // Redis is down for the moment: look again later.
    }
    await new Promise((r) => setTimeout(r, 3_000));
  }
}

/**
 * The final round: every request that is still open is brought to an end as people would: pending
 * ones approved by whoever has not approved yet, rotations waiting to be finished abandoned.
 * Resolves true once every request is final, no lease is held and the Slack outbox is empty; false
 * when `timeoutMs` passes first.
 */
export async function settleEverything(
  people: People,
  view: RedisView,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<{ settled: boolean; open: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const actedAt = new Map<string, number>();
  let open: string[] = [];
  let lastNote = 0;
  while (Date.now() < deadline) {
    let stored: Awaited<ReturnType<RedisView['requests']>>;
    let leases: string[];
    let due: number;
    try {
      [stored, leases, due] = await Promise.all([view.requests(), view.leases(), view.outboxDue()]);
    } catch {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    open = stored.filter((s) => !isFinal(s.request.state)).map((s) => `${s.request.id} (${s.request.state})`);
    if (open.length === 0 && leases.length === 0 && due === 0) return { settled: true, open };
    if (Date.now() - lastNote > 15_000) {
      lastNote = Date.now();
      log(`waiting for ${open.length} open request(s), ${leases.length} lease(s), ${due} channel(s) with undelivered notices`);
    }
    for (const { request } of stored) await bringToAnEnd(people, request, actedAt);
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return { settled: false, open };
}
