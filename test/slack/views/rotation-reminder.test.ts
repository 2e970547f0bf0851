import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../../src/core/request';
import { renderRequestCard } from '../../../src/slack/views/request-card';
import { parseRotateDueValue, renderRotationReminder, ROTATE_DUE_ACTION_ID, rotateDueValue } from '../../../src/slack/views/rotation-reminder';
import { renderSecretList } from '../../../src/slack/views/secret-list';
import { renderThreadEvent } from '../../../src/slack/views/thread-event';
import { HOSTILE, NOW, allText, expectNoLiveMarkupFrom, expectWithinSlackLimits, makeRequest } from './fixtures';

const DAY = 86_400_000;
const secret = (id: string, ageDays: number, name = `Secret ${id}`) => ({
  id,
  name,
  platforms: ['web' as const],
  createdAt: Math.floor((NOW - ageDays * DAY) / 1000),
});
const due = (id: string, ageDays: number, name?: string) => ({ secret: secret(id, ageDays, name), ageMs: ageDays * DAY });

type Accessory = { action_id?: string; value?: string; text?: { text?: string } };

describe('rotation reminder', () => {
  it('a Rotate button names its workspace, since secret ids repeat across workspaces', () => {
    expect(parseRotateDueValue(rotateDueValue('eu', '102'))).toEqual({ workspace: 'eu', secretId: '102' });
    // A reminder posted before workspaces existed carries the bare id: the channel's one workspace.
    expect(parseRotateDueValue('102')).toEqual({ secretId: '102' });
  });

  it('lists each due secret with its age and a Rotate button carrying only its workspace and id', () => {
    const view = renderRotationReminder({ workspace: 'default', rotateAfterMs: 365 * DAY, due: [due('102', 400), due('7', 366)] });
    const buttons = (view.blocks as Array<{ block_id?: string; accessory?: Accessory }>).filter((b) => b.accessory).map((b) => b.accessory!);
    expect(buttons.map((b) => [b.action_id, b.value, b.text?.text])).toEqual([
      [ROTATE_DUE_ACTION_ID, 'default/102', 'Rotate'],
      [ROTATE_DUE_ACTION_ID, 'default/7', 'Rotate'],
    ]);
    expect(allText(view)).toMatch(/`102` `Secret 102` · web · \*400 days old\*/);
    expect(allText(view)).toMatch(/older than the rotation policy \(365 days\)/);
    // The only `<` Slack sees is its own date markup: `<id>` is shown, not parsed.
    expect(allText(view)).toContain('`/ivs rotate &lt;id&gt;`');
    expect(allText(view).replace(/<!date\^[^>]+>/g, '')).not.toMatch(/[<>]/);
    expect(new Set((view.blocks as Array<{ block_id?: string }>).map((b) => b.block_id).filter(Boolean)).size).toBe(
      (view.blocks as Array<{ block_id?: string }>).filter((b) => b.block_id).length,
    );
    expectWithinSlackLimits(view);
  });

  it('escapes names and stays within Slack limits with many due secrets', () => {
    const many = Array.from({ length: 120 }, (_, i) => due(String(1000 + i), 400 + i, HOSTILE));
    const view = renderRotationReminder({ workspace: 'default', rotateAfterMs: 365 * DAY, due: many });
    expectWithinSlackLimits(view);
    expectNoLiveMarkupFrom(allText(view));
    expect(allText(view)).toMatch(/and 74 more/);
  });
});

describe('due secrets in /ivs list', () => {
  it('marks only secrets older than the policy, with their age, and counts them', () => {
    const view = renderSecretList([secret('1', 400), secret('2', 90)], { now: NOW, workspace: 'default', rotateAfterMs: 365 * DAY });
    const text = allText(view);
    expect(text).toMatch(/`1` [^\n]*due for rotation\* \(400 days old\)/);
    expect(text).not.toMatch(/`2` [^\n]*due for rotation/);
    expect(text).toMatch(/1 due for rotation\* \(older than 365 days\)/);
  });

  it('marks nothing without a policy', () => {
    expect(allText(renderSecretList([secret('1', 4000)], { now: NOW, workspace: 'default' }))).not.toMatch(/due/);
  });
});

describe('a compromised rotation', () => {
  const longName = 'N'.repeat(200);
  const compromised = (overrides: Partial<ApprovalRequest> = {}) =>
    makeRequest({
      operation: { action: 'rotate', workspace: 'default', secretId: '102', secretName: longName, platforms: ['web', 'ios'], compromised: true },
      reason: 'leaked',
      ...overrides,
    });
  const approveDialog = (request: ApprovalRequest) => {
    const blocks = renderRequestCard(request, { now: NOW, minOverlapMs: 3_600_000 }).blocks as Array<{
      elements?: Array<{ action_id?: string; confirm?: { text: { text: string } } }>;
    }>;
    return blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'ivs_approve')?.confirm?.text.text ?? '';
  };

  it('says so first on the card', () => {
    const card = renderRequestCard(compromised(), { now: NOW, minOverlapMs: 3_600_000 });
    expect((card.blocks[0] as { text: { text: string } }).text.text).toContain('Rotate COMPROMISED secret');
    expect(JSON.stringify(card.blocks[2])).toMatch(/COMPROMISED: secret `102` is treated as leaked/);
    expect(card.text).toMatch(/rotate COMPROMISED secret 102/);
  });

  it("its delete step's Approve dialog says every session signed with the old secret breaks at once, whatever the name's length", () => {
    const retire = compromised({
      rotation: { step: 'retire', successor: { id: '205', name: 'x', createdAt: 0 }, successorCreatedAt: NOW, finishRequestedBy: 'U222' },
    });
    const dialog = approveDialog(retire);
    expect(dialog).toMatch(/COMPROMISED: every session signed with it breaks at once/);
    expect(dialog).toMatch(/Fingerprint/);
    expect(dialog.length).toBeLessThanOrEqual(300);
    // Step 1 does not delete anything, so its dialog does not say so.
    expect(approveDialog(compromised({ rotation: { step: 'successor' } }))).not.toMatch(/breaks at once/);
  });

  it('may be finished at once: the card does not ask to wait for the overlap', () => {
    const waiting = compromised({
      state: 'awaiting_finish',
      rotation: { step: 'successor', successor: { id: '205', name: 'x', createdAt: 0 }, successorCreatedAt: NOW },
    });
    expect(allText(renderRequestCard(waiting, { now: NOW, minOverlapMs: 3_600_000 }))).toMatch(/Finishing is allowed now/);
  });
});

describe('nudges in the thread', () => {
  it('a waiting approval mentions groups as subteam and users as users, and nothing else live', () => {
    const text = renderThreadEvent(makeRequest(), {
      requestId: 'R-7F3K2Q',
      type: 'approval_reminder',
      at: NOW,
      detail: { approvers: `U222 S0OPS ${HOSTILE}` },
    });
    expect(text).toContain('<@U222>');
    expect(text).toContain('<!subteam^S0OPS>');
    expect(text).not.toContain('<!channel>');
  });

  it('a stalled rotation mentions its requester and says both secrets are active', () => {
    const text = renderThreadEvent(
      makeRequest({ operation: { action: 'rotate', workspace: 'default', secretId: '102', secretName: 'x', platforms: ['web'] } }),
      {
        requestId: 'R-7F3K2Q',
        type: 'finish_reminder',
        at: NOW,
        detail: { waitingMs: 4 * DAY, successorId: '205' },
      },
    );
    expect(text).toMatch(
      /^`default` · :alarm_clock: <@U111>: this rotation has been waiting to be finished for 4 days\. \*Both secrets are still active\* \(`102` and its successor `205`\)/,
    );
    expect(text).toMatch(/Finish rotation.*Abandon/);
  });
});
