import { expect } from 'vitest';
import type { ApprovalRequest, Operation } from '../../../src/core/request';

export const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
export const HOUR = 3600_000;

export const HOSTILE = '<!channel> & <@U0BADGUY> <http://evil.example|bank>';

const deleteOp: Operation = {
  action: 'delete',
  workspace: 'default',
  secretId: '102',
  secretName: 'Production Web',
  platforms: ['web'],
  force: false,
};

export function makeRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: 'R-7F3K2Q',
    operation: deleteOp,
    fingerprint: 'a1b2c3d4',
    requester: 'U111',
    teamId: 'T111',
    channel: 'C111',
    reason: 'old one leaked',
    state: 'pending',
    approvals: [],
    approvalsRequired: 1,
    createdAt: NOW - HOUR / 2,
    expiresAt: NOW + HOUR / 2,
    updatedAt: NOW - HOUR / 2,
    impact: [],
    progress: {},
    ...overrides,
  };
}

export const createOp = (name = 'Production Web'): Operation => ({
  action: 'create',
  workspace: 'default',
  name,
  platforms: ['web', 'ios'],
});

export const rotateOp: Operation = {
  action: 'rotate',
  workspace: 'default',
  secretId: '102',
  secretName: 'Production Web',
  platforms: ['web', 'ios'],
};

interface TextObject {
  type: string;
  text: string;
}

function isTextObject(v: unknown): v is TextObject {
  return (
    typeof v === 'object' &&
    v !== null &&
    ((v as TextObject).type === 'plain_text' || (v as TextObject).type === 'mrkdwn') &&
    typeof (v as TextObject).text === 'string'
  );
}

/** Every text object anywhere in the blocks. */
export function textObjects(value: unknown): TextObject[] {
  const out: TextObject[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      if (isTextObject(v)) out.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return out;
}

/** Everything a reader sees in a message: fallback text and every text object. */
export function allText(view: { text: string; blocks: unknown[] }): string {
  return [view.text, ...textObjects(view.blocks).map((t) => t.text)].join('\n');
}

interface AnyBlock {
  type: string;
  block_id?: string;
  elements?: Array<{ type: string; text?: TextObject; value?: string; action_id?: string }>;
  fields?: unknown[];
}

/** Slack's limits: ≤ 50 blocks, text ≤ 3000, header ≤ 150, fields ≤ 10 × 2000, button text ≤ 75. */
export function expectWithinSlackLimits(view: { text: string; blocks: unknown[] }): void {
  expect(view.text.length).toBeGreaterThan(0);
  expect(view.blocks.length).toBeLessThanOrEqual(50);
  for (const t of textObjects(view.blocks)) expect(t.text.length).toBeLessThanOrEqual(3000);
  for (const raw of view.blocks as AnyBlock[]) {
    if (raw.type === 'header') expect(textObjects(raw)[0]!.text.length).toBeLessThanOrEqual(150);
    if (raw.fields) {
      expect(raw.fields.length).toBeLessThanOrEqual(10);
      for (const f of textObjects(raw.fields)) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
    if (raw.type === 'actions') {
      for (const el of raw.elements ?? []) {
        expect(el.text!.text.length).toBeLessThanOrEqual(75);
        expect(el.action_id!.length).toBeLessThanOrEqual(255);
      }
    }
  }
}

/** A link or mention typed by a person would show up unescaped as one of these. */
export function expectNoLiveMarkupFrom(text: string): void {
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<@U0BADGUY>');
  expect(text).not.toContain('<http://evil.example|bank>');
  expect(text).toContain('&lt;!channel&gt; &amp; &lt;@U0BADGUY&gt;');
}

export function actionsBlock(view: { blocks: unknown[] }): AnyBlock | undefined {
  return (view.blocks as AnyBlock[]).find((b) => b.type === 'actions');
}
