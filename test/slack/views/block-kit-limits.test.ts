import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES, type AuditDetails, type AuditEntry, type AuditEventType } from '../../../src/core/ports';
import { FINAL_STATES, OPEN_STATES, type ApprovalRequest, type Operation } from '../../../src/core/request';
import { planOperation } from '../../../src/core/plan';
import type { SecretInfo } from '../../../src/core/types';
import { renderAuditHistory } from '../../../src/slack/views/audit-history';
import { BLOCK_KIT, blockKitProblems } from '../../../src/slack/views/block-kit-limits';
import { button, confirmDialog } from '../../../src/slack/views/block-kit';
import { createRequestModal, rejectReasonModal } from '../../../src/slack/views/modals';
import { renderPlan } from '../../../src/slack/views/plan';
import { renderRequestCard } from '../../../src/slack/views/request-card';
import { renderRequestList } from '../../../src/slack/views/request-list';
import { renderRequestStatus } from '../../../src/slack/views/request-status';
import { renderSecretList } from '../../../src/slack/views/secret-list';
import { renderThreadEvent } from '../../../src/slack/views/thread-event';
import { renderUnknownCommand, renderUsage } from '../../../src/slack/views/usage';
import { anyAuditEvent } from '../../support/audit-events';
import { HOUR, NOW, makeRequest } from './fixtures';

/*
 * Every view the bot renders, at its longest and in every state, checked against the limits Slack
 * documents (BLOCK_KIT). Names and reasons are as long as input allows and made of characters that
 * grow when escaped (`&` → `&amp;`), and Intercom names as long as Intercom may hold.
 */

const LONG_NAME = '&<>*_~`'.repeat(12).slice(0, 80);
const INTERCOM_NAME = '&'.repeat(250);
const LONG_REASON = '&<'.repeat(150);
const USER = 'U0123456789ABCDEFGHIJ';

const operations: Record<string, Operation> = {
  create: { action: 'create', workspace: 'default', name: LONG_NAME, platforms: ['web', 'ios', 'android'] },
  delete: { action: 'delete', workspace: 'default', secretId: 'x'.repeat(32), secretName: INTERCOM_NAME, platforms: ['web', 'ios', 'android'], force: true },
  rotate: { action: 'rotate', workspace: 'default', secretId: 'y'.repeat(32), secretName: INTERCOM_NAME, platforms: ['web', 'ios', 'android'] },
};

const successor = { id: 'z'.repeat(32), name: `${INTERCOM_NAME} [R-7F3K2Q]`, createdAt: 1 };

/** Every request the bot can hold: each action in each state, rotations in both steps. */
function everyRequest(): ApprovalRequest[] {
  const out: ApprovalRequest[] = [];
  for (const [action, operation] of Object.entries(operations)) {
    for (const state of [...OPEN_STATES, ...FINAL_STATES]) {
      const base = makeRequest({
        operation,
        state,
        reason: LONG_REASON,
        requester: USER,
        approvals: Array.from({ length: 10 }, (_, i) => `U0APPROVER${i}XXXXXXXXX`),
        approvalsRequired: 10,
        impact: action === 'create' ? [] : ['web', 'ios', 'android'],
        rejection: { by: USER, reason: LONG_REASON },
        cancelledBy: USER,
        outcome: '&'.repeat(2000),
        card: { channel: 'C0123456789', ts: '1700000000.000100' },
      });
      out.push(base);
      if (action === 'rotate') {
        out.push({ ...base, rotation: { step: 'successor', successor, successorCreatedAt: NOW - HOUR } });
        out.push({ ...base, rotation: { step: 'retire', successor, successorCreatedAt: NOW - 2 * HOUR, finishRequestedBy: USER } });
      }
    }
  }
  return out;
}

const EVENT_TYPES: readonly AuditEventType[] = AUDIT_EVENT_TYPES;

/** Each type's detail with every field a view reads as long as it may be. */
function longDetails(): AuditDetails {
  const long = '&'.repeat(600);
  const ended = { outcome: long, state: 'failed', action: 'rotate', step: 'retire' } as const;
  return {
    requested: { action: 'rotate', workspace: long },
    approved: { approvals: 10, required: 10 },
    withdrawn: { approvals: 10, required: 10 },
    rejected: { reason: LONG_REASON },
    cancelled: { why: long },
    expired: {},
    executing: { step: 'successor' },
    created: { intercomId: 'x'.repeat(32), name: INTERCOM_NAME, platforms: long, vaultPath: long, vaultVersion: 123456, recovered: true },
    deleted: { intercomId: 'x'.repeat(32), name: INTERCOM_NAME },
    already_gone: { intercomId: 'x'.repeat(32), name: INTERCOM_NAME },
    failed: ended,
    rolled_back: { intercomId: 'x'.repeat(32), result: 'already_gone' },
    recovered: { note: long },
    orphan: { intercomId: 'x'.repeat(32), deleteRequestId: 'R-YYYYYY' },
    succeeded: { ...ended, state: 'awaiting_finish' },
    finish_requested: { secretId: 'y'.repeat(32) },
    abandoned: {},
    waiting: { holder: 'R-ZZZZZZ' },
    retrying: { why: long },
    finish_reminder: { waitingMs: 400 * 86_400_000, successorId: 'x'.repeat(32) },
    approval_reminder: { approvers: Array.from({ length: 40 }, (_, i) => `U${i}`.padEnd(21, 'X')).join(' ') },
  };
}

/** An audit entry of each type with every detail field a view reads, each as long as it may be. */
function entry(type: AuditEventType, i: number): AuditEntry {
  return {
    ...anyAuditEvent('R-7F3K2Q', type, NOW + i, { actor: USER, detail: longDetails()[type] }),
    entryId: `1700000000000-${i}`,
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
  };
}

function expectValid(surface: 'message' | 'modal', view: unknown, what: string): void {
  expect(blockKitProblems(surface, view), what).toEqual([]);
}

describe('every view the bot renders keeps the limits Slack documents', () => {
  it('the request card, in every state of every action (rotation steps included)', () => {
    for (const request of everyRequest()) {
      expectValid(
        'message',
        renderRequestCard(request, { now: NOW, minOverlapMs: HOUR }),
        `${request.operation.action} ${request.state} ${request.rotation?.step ?? ''}`,
      );
    }
  });

  it('/ivs status, with the longest history', () => {
    const history = Array.from({ length: 500 }, (_, i) => entry(EVENT_TYPES[i % EVENT_TYPES.length] as AuditEventType, i));
    for (const request of everyRequest()) {
      expectValid('message', renderRequestStatus(request, { now: NOW, minOverlapMs: HOUR, history }), `status ${request.state}`);
      expectValid('message', renderRequestStatus(request, { now: NOW }), `status ${request.state} without history`);
    }
  });

  it('every thread reply', () => {
    for (const request of everyRequest()) {
      EVENT_TYPES.forEach((type, i) => {
        expectValid('message', { text: renderThreadEvent(request, entry(type, i)) }, `${type} on ${request.state}`);
      });
    }
  });

  it('the secret list at its longest, orphans included', () => {
    const secrets: SecretInfo[] = Array.from({ length: 1_000 }, (_, i) => ({
      id: String(1000 + i),
      name: i % 2 ? INTERCOM_NAME : `${INTERCOM_NAME} [R-7F3K2Q]`,
      platforms: ['web', 'ios', 'android'],
      createdAt: Math.floor(NOW / 1000) - i * 86_400,
    }));
    const material = new Map(secrets.map((s, i) => [s.id, (['present', 'missing', 'deleted'] as const)[i % 3]!]));
    expectValid('message', renderSecretList(secrets, { now: NOW, listedAt: NOW, material, workspace: 'w'.repeat(64) }), 'long list');
    expectValid('message', renderSecretList([], { now: NOW, workspace: 'default' }), 'empty list');
  });

  it('the open request list at its longest', () => {
    const requests = Array.from({ length: 500 }, (_, i) => ({ ...(everyRequest()[i % 10] as ApprovalRequest), id: `R-${String(i).padStart(6, '0')}` }));
    expectValid('message', renderRequestList(requests, { now: NOW }), 'long request list');
    expectValid('message', renderRequestList([], { now: NOW }), 'no open requests');
  });

  it('the audit history at its longest, and with a broken chain', () => {
    const entries = Array.from({ length: 600 }, (_, i) => entry(EVENT_TYPES[i % EVENT_TYPES.length] as AuditEventType, i));
    expectValid('message', renderAuditHistory('R-7F3K2Q', { entries, chain: { ok: true } }), 'verified');
    expectValid('message', renderAuditHistory('R-7F3K2Q', { entries, chain: { ok: false, brokenAt: '1-0'.repeat(100), why: '&'.repeat(2000) } }), 'broken');
    expectValid('message', renderAuditHistory('R-7F3K2Q', { entries: [], chain: { ok: true } }), 'empty');
  });

  it('plans, usage and the unknown-command answer (text messages)', () => {
    const secrets: SecretInfo[] = Array.from({ length: 300 }, (_, i) => ({ id: String(i), name: INTERCOM_NAME, platforms: ['web'], createdAt: 0 }));
    for (const spec of [
      { action: 'create', name: LONG_NAME, platforms: ['web', 'ios', 'android'] },
      { action: 'delete', secretId: '1', force: false },
      { action: 'delete', secretId: 'nope', force: true },
      { action: 'rotate', secretId: '2' },
    ] as const) {
      expectValid('message', { text: renderPlan(planOperation(secrets, spec, 10, '90d'), 'a-workspace-name-of-thirty-two-c') }, `plan ${spec.action}`);
    }
    expectValid('message', { text: renderUsage() }, 'usage');
    expectValid('message', { text: renderUnknownCommand('&'.repeat(1000)) }, 'unknown command');
  });

  it('the reject and create modals', () => {
    expectValid('modal', rejectReasonModal('R-7F3K2Q', 'abcd-0123'), 'reject modal');
    expectValid('modal', createRequestModal(), 'create modal');
  });
});

describe('the Block Kit checker', () => {
  it('names a mrkdwn confirm text, an over-long one, and more blocks than a message may hold', () => {
    const dialog = confirmDialog({ title: 't', text: 'x', confirm: 'ok' });
    const mrkdwn = { ...dialog, text: { type: 'mrkdwn', text: 'x'.repeat(301) } };
    const actions = { type: 'actions', elements: [{ ...button({ actionId: 'a', text: 'A', value: 'v' }), confirm: mrkdwn }] };
    const problems = blockKitProblems('message', { text: 'fallback', blocks: [actions, ...Array.from({ length: 50 }, () => ({ type: 'divider' }))] });
    expect(problems).toEqual([
      `blocks: 51 is too many (limit 50, ${BLOCK_KIT.blocksPerMessage.ref})`,
      `blocks[0].elements[0].confirm.text: is mrkdwn, must be plain_text (limit 300, ${BLOCK_KIT.confirmText.ref})`,
    ]);
  });

  it('names over-long button text, action_id and value, a header over 150, and a duplicate block_id', () => {
    const problems = blockKitProblems('message', {
      text: 'x',
      blocks: [
        { type: 'header', block_id: 'same', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        {
          type: 'actions',
          block_id: 'same',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'b'.repeat(76) }, action_id: 'a'.repeat(256), value: 'v'.repeat(2001) }],
        },
      ],
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'blocks[0].text',
      'blocks[1].elements[0].text',
      'blocks[1].elements[0].action_id',
      'blocks[1].elements[0].value',
      'blocks[1].block_id',
    ]);
  });

  it('refuses a block or element type it does not know the limits of', () => {
    expect(blockKitProblems('message', { text: 'x', blocks: [{ type: 'video' }] })).toEqual([
      'blocks[0]: block type video is not checked here: add its limits',
    ]);
  });
});
