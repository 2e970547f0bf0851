import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../emulators/slack-api';
import { findLeaks, materialForms } from '../support/leak-canary';
import {
  APPROVER,
  APPROVER_2,
  CHANNEL,
  OUTSIDER,
  REQUESTER,
  buttonsOf,
  cardText,
  openRequest,
  seedSecretWithMaterial,
  startWorld,
  threadReply,
  type RunningBot,
  type World,
  outboxDrained,
} from '../support/bot-harness';

const MINUTE = 60_000;
const DAY = 86_400_000;
const GROUP = 'S0OPS';
/** No timer-driven sweeps: every check in these tests is one the test makes, so none races another. */
const NO_TIMED_SWEEPS = { sweepIntervalMs: 3_600_000 };

/** Top-level reminders the bot posted in the channel. */
function reminders(world: World): SlackMessage[] {
  return world.slack.messages(CHANNEL).filter((m) => !m.threadTs && /due for rotation/.test(m.text ?? ''));
}

/** The reminder's Rotate buttons: [secret id, block id] per button. */
function rotateButtons(message: SlackMessage): Array<{ value: string; blockId: string }> {
  const blocks = (message.blocks ?? []) as Array<{ block_id?: string; accessory?: { action_id?: string; value?: string } }>;
  return blocks.filter((b) => b.accessory?.action_id === 'ivs_rotate_due').map((b) => ({ value: b.accessory?.value ?? '', blockId: b.block_id ?? '' }));
}

function repliesMatching(world: World, card: SlackMessage, pattern: RegExp): string[] {
  return world.slack
    .threadReplies(card.channel, card.ts)
    .map((m) => m.text ?? '')
    .filter((t) => pattern.test(t));
}

/** Every section text of a JSON message body, line by line. */
function linesOf(json: string): string[] {
  const body = JSON.parse(json) as { text?: string; blocks?: Array<{ text?: { text?: string } }> };
  return [body.text ?? '', ...(body.blocks ?? []).map((b) => b.text?.text ?? '')].flatMap((t) => t.split('\n'));
}

describe('rotation policy: due secrets, reminders, stalled rotations', () => {
  let world: World;
  let replicas: RunningBot[];
  let old: string;
  let young: string;
  // Nudges are thread replies through the Slack outbox: delivered right after, not inside, the check.
  const checkEverywhere = async () => {
    const outcomes = await Promise.all(replicas.map((r) => r.bot.checkRotations()));
    await outboxDrained(world);
    return outcomes;
  };

  beforeAll(async () => {
    world = await startWorld({
      env: {
        IVS_ROTATE_AFTER: '365d',
        IVS_REQUESTERS: `${REQUESTER},${APPROVER},${APPROVER_2}`,
        IVS_APPROVERS: `${REQUESTER},${APPROVER},${APPROVER_2},${GROUP}`,
      },
      bot: NO_TIMED_SWEEPS,
    });
    world.slack.setGroup(GROUP, ['U444']);
    // Started before any secret exists: their checks at start find nothing to remind of.
    replicas = [world.bot, await world.startReplica(), await world.startReplica()];
  });
  afterAll(async () => {
    await world?.close();
  });

  it('marks a 400-day-old secret as due in /ivs list and /ivs plan, with its age, and not a 90-day-old one', async () => {
    old = seedSecretWithMaterial(world, 'Production Web', ['web'], 400, { current: true });
    young = seedSecretWithMaterial(world, 'iOS app', ['ios'], 90, { current: true });

    const list = linesOf(await (await world.bot.command('list')).reply());
    expect(list.find((l) => l.includes(`\`${old}\``))).toMatch(/due for rotation\* \(400 days old\)/);
    expect(list.find((l) => l.includes(`\`${young}\``))).not.toMatch(/due/);
    expect(list.join('\n')).toMatch(/1 due for rotation\* \(older than 365 days\)/);

    const plan = await (await world.bot.command(`plan rotate ${young}`)).reply();
    expect(plan).toContain(`Due for rotation (older than 365 days): \`${old}\` (400 days old)`);
    expect(plan).not.toContain(`\`${young}\` (`);
  });

  it('three replicas checking at once post one reminder, with a Rotate button for the due secret only, in the first channel', async () => {
    const outcomes = await checkEverywhere();
    expect(outcomes.filter((o) => o.reminded)).toHaveLength(1);
    const [reminder, ...more] = reminders(world);
    expect(more).toEqual([]);
    expect(reminder?.channel).toBe(CHANNEL);
    expect(rotateButtons(reminder!).map((b) => b.value)).toEqual([`default/${old}`]);
    expect(JSON.stringify(reminder!.blocks)).toMatch(/400 days old/);
    expect(JSON.stringify(reminder!.blocks)).not.toContain(`\`${young}\``);

    // Checking again within the interval posts nothing.
    await checkEverywhere();
    expect(reminders(world)).toHaveLength(1);
  });

  let rotationId: string;
  let rotationCard: SlackMessage;

  it("Rotate opens the rotation card in the clicker's name; a non-requester is refused; a second Rotate points to the open one", async () => {
    const [button] = rotateButtons(reminders(world)[0]!);
    const refused = await (await world.bot.click('ivs_rotate_due', old, OUTSIDER, { blockId: button!.blockId })).reply();
    expect(refused).toMatch(/Not allowed: you are not in IVS_REQUESTERS/);
    expect(refused).toContain('"response_type":"ephemeral"');
    expect(world.slack.messages(CHANNEL).some((m) => !m.threadTs && /Rotate secret/.test(JSON.stringify(m.blocks ?? '')))).toBe(false);

    const opened = await (await world.bot.click('ivs_rotate_due', old, REQUESTER, { blockId: button!.blockId })).reply();
    const match = /Request (R-[0-9A-Z]{6}) opened/.exec(opened);
    expect(match).not.toBeNull();
    rotationId = match![1]!;
    const post = await world.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text'] ?? '').includes(rotationId));
    rotationCard = world.slack.message(CHANNEL, String((post.response as { ts: string }).ts))!;
    expect(cardText(world, rotationCard)).toContain(`<@${REQUESTER}> asks to rotate secret \`${old}\``);
    expect(buttonsOf(world, rotationCard)).toEqual(['ivs_approve', 'ivs_reject']);

    const again = await (await replicas[1]!.click('ivs_rotate_due', old, APPROVER, { blockId: button!.blockId })).reply();
    expect(again).toContain(`already has an open rotation: ${rotationId}`);
  }, 60_000);

  it('no reminder while the rotation is open; a stalled rotation nudges its requester once per IVS_FINISH_REMINDER', async () => {
    await world.bot.click('ivs_approve', rotationId, APPROVER);
    await threadReply(world, rotationCard, /Step 1 done/);

    world.clock.advance(2 * DAY);
    await checkEverywhere();
    expect(repliesMatching(world, rotationCard, /waiting to be finished/)).toEqual([]);

    // Past the reminder interval and the finish reminder: the old secret is still due, but being rotated.
    world.clock.advance(6 * DAY);
    await checkEverywhere();
    expect(reminders(world)).toHaveLength(1);
    const nudges = repliesMatching(world, rotationCard, /waiting to be finished/);
    expect(nudges).toHaveLength(1);
    expect(nudges[0]).toContain(`<@${REQUESTER}>`);
    expect(nudges[0]).toMatch(/Both secrets are still active/);
    expect(nudges[0]).toMatch(/Finish rotation.*Abandon/);

    await checkEverywhere();
    world.clock.advance(2 * DAY);
    await checkEverywhere();
    expect(repliesMatching(world, rotationCard, /waiting to be finished/)).toHaveLength(1);
    world.clock.advance(1 * DAY + MINUTE);
    await checkEverywhere();
    expect(repliesMatching(world, rotationCard, /waiting to be finished/)).toHaveLength(2);
  }, 60_000);

  it('once the rotation is abandoned the due secret is reminded of again, and the next reminder comes only after IVS_REMINDER_INTERVAL', async () => {
    await world.bot.click('ivs_abandon', rotationId, REQUESTER);
    await threadReply(world, rotationCard, /abandoned/);
    await checkEverywhere();
    expect(reminders(world)).toHaveLength(2);
    // The successor is new, so only the old secret is due.
    expect(rotateButtons(reminders(world)[1]!).map((b) => b.value)).toEqual([`default/${old}`]);
    // A finished (here: abandoned) rotation is not nudged any more.
    world.clock.advance(6 * DAY);
    await checkEverywhere();
    expect(reminders(world)).toHaveLength(2);
    expect(repliesMatching(world, rotationCard, /waiting to be finished/)).toHaveLength(2);
    world.clock.advance(1 * DAY + MINUTE);
    await checkEverywhere();
    expect(reminders(world)).toHaveLength(3);
  });

  it('a request without any approval after half its TTL gets one reply mentioning the approvers (groups as subteam)', async () => {
    const { card } = await openRequest(world, 'create android Android app');
    world.clock.advance(29 * MINUTE);
    await checkEverywhere();
    expect(repliesMatching(world, card, /waiting for an approval/)).toEqual([]);

    world.clock.advance(2 * MINUTE);
    await checkEverywhere();
    await checkEverywhere();
    const nudges = repliesMatching(world, card, /waiting for an approval/);
    expect(nudges).toHaveLength(1);
    expect(nudges[0]).toContain(`<@${APPROVER}>`);
    expect(nudges[0]).toContain(`<@${APPROVER_2}>`);
    expect(nudges[0]).toContain(`<!subteam^${GROUP}>`);
    // The requester cannot approve their own request, so is not asked to.
    expect(nudges[0]).not.toContain(`<@${REQUESTER}>`);

    world.clock.advance(20 * MINUTE);
    await checkEverywhere();
    expect(repliesMatching(world, card, /waiting for an approval/)).toHaveLength(1);
  });
});

describe('rotation policy: checked on start and in the sweeps', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ env: { IVS_ROTATE_AFTER: '30d', IVS_REMINDER_INTERVAL: '1d' }, bot: NO_TIMED_SWEEPS });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('a replica starting with a due secret reminds at once; a sweep a day later reminds again', async () => {
    seedSecretWithMaterial(world, 'Web', ['web'], 31, { current: true });
    await world.startReplica();
    await world.slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && /due for rotation/.test(String(c.args['text'] ?? '')));
    expect(reminders(world)).toHaveLength(1);

    world.clock.advance(DAY + MINUTE);
    await world.bot.bot.sweep();
    // Recorded by the sweep, posted by the outbox right after.
    await outboxDrained(world);
    expect(reminders(world)).toHaveLength(2);
  });

  it('canary: no issued material reached Slack, the answers or the logs', async () => {
    const old = seedSecretWithMaterial(world, 'Android', ['android'], 400, { current: true });
    const { id, card } = await openRequest(world, `rotate ${old}`);
    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Step 1 done/);
    const forms = materialForms(world.intercom.issuedMaterial());
    expect(forms.length).toBeGreaterThan(0);
    expect(findLeaks(forms, { slack: world.slack.everything(), answers: world.answers(), logs: world.logs.text() })).toEqual([]);
  });
});

describe('rotation policy: a reminder due while Slack is down', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ env: { IVS_ROTATE_AFTER: '30d', IVS_REMINDER_INTERVAL: '1d' }, bot: NO_TIMED_SWEEPS });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('is posted once after Slack recovers, not lost until the next interval and not posted twice', async () => {
    // A second replica, started before the secret is due: its check at start finds nothing.
    const replicas = [world.bot, await world.startReplica()];
    const from = world.slack.calls.length;
    world.slack.outage({ methods: ['chat.postMessage'] });
    seedSecretWithMaterial(world, 'Web', ['web'], 31, { current: true });

    const outcomes = await Promise.all(replicas.map((r) => r.bot.checkRotations()));
    expect(outcomes.filter((o) => o.reminded)).toHaveLength(1);
    // Slack was asked and said 503, more than once (the outbox retries); nothing reached the channel.
    const refused = () =>
      world.slack.calls.slice(from).filter((c) => c.method === 'chat.postMessage' && c.status === 503 && /due for rotation/.test(String(c.args['text'] ?? '')));
    await world.slack.waitFor('chat.postMessage', (c) => c.seq >= from && c.status === 503, 10_000);
    const end = Date.now() + 15_000;
    while (refused().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(refused().length).toBeGreaterThanOrEqual(2);
    expect(reminders(world)).toEqual([]);
    // Checking again during the outage records no second one: the claim holds for the interval.
    expect((await Promise.all(replicas.map((r) => r.bot.checkRotations()))).filter((o) => o.reminded)).toEqual([]);

    world.slack.outage(null);
    await outboxDrained(world, world.bot, 30_000);
    expect(reminders(world)).toHaveLength(1);
    expect(rotateButtons(reminders(world)[0]!).map((b) => b.value)).toHaveLength(1);
    // Still once after the next checks, on every replica.
    await Promise.all(replicas.map((r) => r.bot.checkRotations()));
    await outboxDrained(world);
    expect(reminders(world)).toHaveLength(1);
  }, 90_000);
});
