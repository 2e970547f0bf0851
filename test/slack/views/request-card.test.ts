import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import {
  ABANDON_ACTION_ID,
  APPROVE_ACTION_ID,
  CARD_ACTION_IDS,
  DECISION_BLOCK_ID,
  FINISH_ACTION_ID,
  REJECT_ACTION_ID,
  renderRequestCard,
  WITHDRAW_ACTION_ID,
} from '../../../src/slack/views/request-card';
import {
  actionsBlock,
  allText,
  createOp,
  expectNoLiveMarkupFrom,
  expectWithinSlackLimits,
  HOSTILE,
  HOUR,
  makeRequest,
  textObjects,
  NOW,
  rotateOp,
} from './fixtures';

const opts = { now: NOW, minOverlapMs: HOUR };

function buttons(view: ReturnType<typeof renderRequestCard>): types.Button[] {
  return (actionsBlock(view)?.elements ?? []).filter((e): e is types.Button => e.type === 'button');
}

describe('the request card shows', () => {
  it('request id and action in the header, and the target, platforms, requester, approvals, expiry and fingerprint', () => {
    const view = renderRequestCard(makeRequest({ approvals: ['U222'], approvalsRequired: 2 }), opts);
    const header = view.blocks[0] as { type: string; text: { text: string } };
    expect(header.type).toBe('header');
    expect(header.text.text).toBe('R-7F3K2Q · Delete secret · default');
    const text = allText(view);
    expect(text).toContain('`102` `Production Web`');
    expect(text).toContain('*Platforms*\nweb');
    expect(text).toContain('*Requested by*\n<@U111>');
    expect(text).toContain('*Approvals*\n1/2: <@U222>');
    expect(text).toContain(`*Expires*\n<!date^${(NOW + HOUR / 2) / 1000}^`);
    expect(text).toContain('*Fingerprint*\n`a1b2c3d4`');
    expect(text).toContain('> old one leaked');
    expect(text).toContain('waiting for approval');
    expectWithinSlackLimits(view);
  });

  it("an orphan's delete request: instead of a date, that it never expires and why", () => {
    const text = allText(renderRequestCard(makeRequest({ orphanOf: 'R-0RIG1N' }), opts));
    expect(text).toContain('*Expires*\nnever: the orphan stays active until this is decided');
    expect(text).not.toContain('*Expires*\n<!date^');
  });

  it('the name as the target of a create', () => {
    const view = renderRequestCard(makeRequest({ operation: createOp('Mobile Apps') }), opts);
    expect(allText(view)).toContain('*Target*\n`Mobile Apps`');
    expect(allText(view)).toContain('*Platforms*\nweb, ios');
  });

  it('a notification fallback text without pings', () => {
    const view = renderRequestCard(makeRequest({ operation: createOp(HOSTILE) }), opts);
    expect(view.text).toContain('R-7F3K2Q: create secret');
    expect(view.text).not.toContain('<!channel>');
    expect(view.text).toContain('(pending, 0/1 approvals)');
  });

  it('"no reason given" for an empty reason', () => {
    expect(allText(renderRequestCard(makeRequest({ reason: '  ' }), opts))).toContain('_no reason given_');
  });
});

describe('escaping on the card', () => {
  it('turns channel pings, mentions, fake links and & in a name and a reason into inert text', () => {
    const view = renderRequestCard(makeRequest({ operation: createOp(HOSTILE), reason: HOSTILE }), opts);
    // Markup is live only in mrkdwn (and the fallback text); plain_text shows it as typed, inertly.
    const text = [
      view.text,
      ...textObjects(view.blocks)
        .filter((t) => t.type === 'mrkdwn')
        .map((t) => t.text),
    ].join('\n');
    expectNoLiveMarkupFrom(text);
    expect(text.match(/&lt;!channel&gt;/g)?.length).toBeGreaterThanOrEqual(3); // summary, target, reason
  });

  it('escapes the rejection reason and the outcome of a final card', () => {
    const rejected = renderRequestCard(makeRequest({ state: 'rejected', rejection: { by: 'U222', reason: HOSTILE } }), opts);
    expectNoLiveMarkupFrom(allText(rejected));
    const failed = renderRequestCard(makeRequest({ state: 'failed', outcome: HOSTILE }), opts);
    expectNoLiveMarkupFrom(allText(failed));
  });

  it('shows a name in a code span, so *, _ and ~ in it cannot bold, italicise or strike the sentence around it', () => {
    const name = 'Prod* web _old~ or ~not';
    const view = renderRequestCard(
      makeRequest({ operation: { action: 'delete', workspace: 'default', secretId: '102', secretName: name, platforms: ['web'], force: false } }),
      opts,
    );
    const summary = (view.blocks[1] as { text: { text: string } }).text.text;
    expect(summary).toBe('<@U111> asks to delete secret `102` `Prod* web _old~ or ~not` (web).');
    // A backtick in a name cannot end the code span early.
    const ticked = renderRequestCard(makeRequest({ operation: createOp('a`*b*`c') }), opts);
    expect(allText(ticked)).toContain("`a'*b*'c`");
  });

  it('shows bidi overrides and zero-width characters of a name made elsewhere (at Intercom) as U+FFFD, in the card and its dialogs', () => {
    const view = renderRequestCard(
      makeRequest({
        operation: { action: 'delete', workspace: 'default', secretId: '102', secretName: 'Prod\u202Ebew\u200B\u2066', platforms: ['web'], force: false },
      }),
      opts,
    );
    const text = allText(view);
    expect(text).not.toMatch(/[\u202E\u200B\u2066]/);
    expect(text).toContain('Prod\uFFFDbew\uFFFD\uFFFD');
    const approve = actionsBlock(view)?.elements?.[0] as { confirm?: { text: { text: string } } };
    expect(approve.confirm?.text.text).toContain('"Prod\uFFFDbew\uFFFD\uFFFD"');
  });

  it('bounds a huge reason and stays within Slack limits', () => {
    const view = renderRequestCard(makeRequest({ reason: '<'.repeat(5000), operation: createOp('&'.repeat(5000)) }), opts);
    expectWithinSlackLimits(view);
    expect(allText(view)).not.toContain('<<');
  });
});

describe('buttons per state', () => {
  it('pending: Approve and Reject with confirm dialogs, carrying the request id and the step fingerprint', () => {
    const view = renderRequestCard(makeRequest(), opts);
    const block = actionsBlock(view)!;
    expect(block.block_id).toBe(DECISION_BLOCK_ID);
    const els = buttons(view);
    expect(els.map((b) => b.action_id)).toEqual([APPROVE_ACTION_ID, REJECT_ACTION_ID]);
    expect(els.map((b) => b.style)).toEqual(['primary', 'danger']);
    for (const b of els) {
      expect(b.value).toBe('R-7F3K2Q/a1b2c3d4');
      expect(b.confirm).toBeDefined();
    }
  });

  it('pending with an approval also offers "Withdraw my approval"', () => {
    const els = buttons(renderRequestCard(makeRequest({ approvals: ['U222'], approvalsRequired: 2 }), opts));
    expect(els.map((b) => b.action_id)).toEqual([APPROVE_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID]);
    expect(els[2]!.text!.text).toBe('Withdraw my approval');
    expect(els[2]!.value).toBe('R-7F3K2Q/a1b2c3d4');
  });

  it('the approve confirm dialog names the exact operation, as plain text (inert, so shown as typed), with the fingerprint', () => {
    const els = buttons(renderRequestCard(makeRequest({ operation: createOp(HOSTILE) }), opts));
    const confirm = els[0]!.confirm!;
    expect(confirm.text.type).toBe('plain_text');
    expect(confirm.text.text).toContain('create secret "<!channel> & <@U0BADGUY>');
    expect(confirm.text.text).toContain('Fingerprint a1b2c3d4');
    expect(confirm.text.text.length).toBeLessThanOrEqual(300);
  });

  it('awaiting_finish: Finish rotation and Abandon, with confirm dialogs', () => {
    const view = renderRequestCard(
      makeRequest({
        operation: rotateOp,
        state: 'awaiting_finish',
        rotation: { step: 'successor', successor: { id: '205', name: 'Production Web [R-7F3K2Q]', createdAt: 1 }, successorCreatedAt: NOW - 10 * 60_000 },
      }),
      opts,
    );
    const els = buttons(view);
    expect(els.map((b) => b.action_id)).toEqual([FINISH_ACTION_ID, ABANDON_ACTION_ID]);
    expect(els[0]!.style).toBe('primary');
    for (const b of els) {
      expect(b.value).toBe('R-7F3K2Q/a1b2c3d4');
      expect(b.confirm).toBeDefined();
    }
  });

  it.each(['approved', 'executing'] as const)('%s: no buttons, says it is executing', (state) => {
    const view = renderRequestCard(makeRequest({ state, approvals: ['U222'] }), opts);
    expect(actionsBlock(view)).toBeUndefined();
    expect(allText(view)).toContain('executing…');
  });

  it.each([
    ['succeeded', { outcome: 'deleted 102' }, ':white_check_mark: *Succeeded*: deleted 102'],
    ['failed', { outcome: 'Vault write failed; the new secret was deleted again' }, ':x: *Failed*: Vault write failed; the new secret was deleted again'],
    ['rejected', { rejection: { by: 'U333', reason: 'not during the freeze' } }, ':no_entry: *Rejected* by <@U333>: not during the freeze'],
    ['cancelled', { cancelledBy: 'U111' }, ':heavy_multiplication_x: *Cancelled* by <@U111>.'],
    ['expired', {}, ':hourglass: *Expired* <!date^'],
  ] as const)('%s: no actions block at all, and the outcome stated', (state, extra, expected) => {
    const view = renderRequestCard(makeRequest({ state, ...extra }), opts);
    expect(view.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(view)).toContain(expected);
    expect(allText(view)).not.toContain('*Expires*');
    expectWithinSlackLimits(view);
  });

  it('exports every action id it can render', () => {
    expect([...CARD_ACTION_IDS].sort()).toEqual([ABANDON_ACTION_ID, APPROVE_ACTION_ID, FINISH_ACTION_ID, REJECT_ACTION_ID, WITHDRAW_ACTION_ID].sort());
  });
});

describe('delete impact', () => {
  it('warns loudly which platforms would be left with no secret, and that --force was not given', () => {
    const text = allText(renderRequestCard(makeRequest({ impact: ['web', 'ios'] }), opts));
    expect(text).toContain('IMPACT: deleting `102` leaves *web*, *ios* with NO identity verification secret');
    expect(text).toContain('Not acknowledged (`--force` was not given)');
  });

  it('says when --force acknowledged it', () => {
    const op = { action: 'delete', workspace: 'default', secretId: '102', secretName: 'P', platforms: ['web'], force: true } as const;
    const view = renderRequestCard(makeRequest({ operation: op, impact: ['web'] }), opts);
    expect(allText(view)).toContain('acknowledged this with `--force`');
    const confirm = buttons(view)[0]!.confirm!;
    expect(confirm.text.text).toContain('This leaves web with NO secret.');
    expect(confirm.style).toBe('danger');
  });

  it('shows no warning when nothing would be left bare', () => {
    expect(allText(renderRequestCard(makeRequest(), opts))).not.toContain('IMPACT');
  });
});

describe('rotation', () => {
  const successor = { id: '205', name: 'Production Web [R-7F3K2Q]', createdAt: 1 };

  it('step 1 says a successor with the same platforms will be created', () => {
    const text = allText(renderRequestCard(makeRequest({ operation: rotateOp, rotation: { step: 'successor' } }), opts));
    expect(text).toContain('step 1 of 2: create a successor with the same platforms');
  });

  it('after step 1 says to roll the secret out, then finish, and when finishing becomes allowed', () => {
    const view = renderRequestCard(
      makeRequest({ operation: rotateOp, state: 'awaiting_finish', rotation: { step: 'successor', successor, successorCreatedAt: NOW - 20 * 60_000 } }),
      opts,
    );
    const text = allText(view);
    expect(text).toContain('Successor `205`');
    expect(text).toContain('step 1 of 2 done: successor created');
    expect(text).toContain('Roll the new secret out to every signer, then finish');
    expect(text).toContain(`Finishing is allowed from <!date^${(NOW + 40 * 60_000) / 1000}^`);
    expect(text).toContain('(in 40m)');
  });

  it('says finishing is allowed now once the overlap has passed', () => {
    const view = renderRequestCard(
      makeRequest({ operation: rotateOp, state: 'awaiting_finish', rotation: { step: 'successor', successor, successorCreatedAt: NOW - 2 * HOUR } }),
      opts,
    );
    expect(allText(view)).toContain('Finishing is allowed now.');
  });

  it('step 2 is pending again with Approve and Reject, and names who asked to finish', () => {
    const view = renderRequestCard(
      makeRequest({ operation: rotateOp, rotation: { step: 'retire', successor, successorCreatedAt: NOW - 2 * HOUR, finishRequestedBy: 'U444' } }),
      opts,
    );
    const text = allText(view);
    expect(text).toContain('step 2 of 2: delete the old secret `102`');
    expect(text).toContain('<@U444> asked to finish; approval must come from someone else');
    expect(buttons(view).map((b) => b.action_id)).toEqual([APPROVE_ACTION_ID, REJECT_ACTION_ID]);
  });

  it("step 2's Approve dialog keeps the successor in view whatever the length of the name", () => {
    const longName = `${'<Production & Web> '.repeat(4)}[R-ABCDEF]`;
    const view = renderRequestCard(
      makeRequest({
        operation: { action: 'rotate', workspace: 'default', secretId: '102', secretName: longName, platforms: ['web', 'ios', 'android'] },
        rotation: { step: 'retire', successor, successorCreatedAt: NOW - 2 * HOUR, finishRequestedBy: 'U444' },
      }),
      opts,
    );
    const dialog = buttons(view)[0]!.confirm!.text.text;
    expect(dialog).toContain(`(successor ${successor.id} stays)`);
    expect(dialog.length).toBeLessThanOrEqual(300);
  });

  it('step 2 has its own fingerprint, and its Approve dialog says it deletes the old secret and keeps the successor', () => {
    const step1 = renderRequestCard(makeRequest({ operation: rotateOp, rotation: { step: 'successor' } }), opts);
    const step2 = renderRequestCard(
      makeRequest({ operation: rotateOp, rotation: { step: 'retire', successor, successorCreatedAt: NOW - 2 * HOUR, finishRequestedBy: 'U444' } }),
      opts,
    );
    const fingerprintOf = (view: ReturnType<typeof renderRequestCard>) => /\*Fingerprint\*\\n`([^`]+)`/.exec(JSON.stringify(view.blocks))?.[1];
    expect(fingerprintOf(step1)).toBe('a1b2c3d4');
    expect(fingerprintOf(step2)).toMatch(/^[0-9a-f]{4}-[0-9a-f]{4}$/);
    const dialog = buttons(step2)[0]!.confirm!.text.text;
    expect(dialog).toContain(`delete rotated secret 102 (successor ${successor.id} stays)`);
    expect(dialog).toContain(`Fingerprint ${fingerprintOf(step2)}`);
  });
});
