import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors';
import { Journal } from '../../src/core/journal';
import type { AuditEvent, AuditLog, Outbox, ReminderClaims, RotationReminders } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { RotationWatch, type RotationWatchSettings } from '../../src/core/rotation-watch';
import type { SecretInfo } from '../../src/core/types';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 1);

const secret = (id: string, ageDays: number): SecretInfo => ({
  id,
  name: `Secret ${id}`,
  platforms: ['web'],
  createdAt: Math.floor((NOW - ageDays * DAY) / 1000),
});

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: 'R-AAAAAA',
    operation: { action: 'create', workspace: 'default', name: 'New', platforms: ['web'] },
    fingerprint: 'f',
    requester: 'U111',
    teamId: 'T1',
    channel: 'C1',
    reason: '',
    state: 'pending',
    approvals: [],
    approvalsRequired: 1,
    createdAt: NOW - 40 * 60_000,
    expiresAt: NOW + 20 * 60_000,
    updatedAt: NOW,
    impact: [],
    progress: {},
    card: { channel: 'C1', ts: '1.1' },
    ...overrides,
  };
}

const rotation = (secretId: string, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest =>
  request({
    id: `R-ROT${secretId.padStart(3, '0')}`,
    operation: { action: 'rotate', workspace: 'default', secretId, secretName: 'x', platforms: ['web'] },
    rotation: { step: 'successor' },
    ...overrides,
  });

function memoryClaims(): ReminderClaims {
  const until = new Map<string, number>();
  return {
    async claim(key, now, next) {
      if ((until.get(key) ?? -Infinity) > now) return false;
      until.set(key, next);
      return true;
    },
    async release(key, next) {
      if (until.get(key) === next) until.delete(key);
    },
  };
}

function world(opts: { secrets?: SecretInfo[] | Error; open?: ApprovalRequest[]; settings?: Partial<RotationWatchSettings>; recordFails?: number } = {}) {
  const posted: Parameters<RotationReminders['record']>[2][] = [];
  const replies: AuditEvent[] = [];
  let listCalls = 0;
  let recordFails = opts.recordFails ?? 0;
  const notifier: Outbox = {
    record: async (_r, notices) => {
      for (const n of notices) if (n.kind === 'reply') replies.push(n.event);
    },
    cardPosting: async () => ({ kind: 'posted' }),
  };
  // The outbox's claim-and-record step, in memory: the claim's rule, and the reminder recorded only when won.
  const claims = memoryClaims();
  const reminders: RotationReminders = {
    record: async (claim, _channel, r) => {
      if (recordFails-- > 0) throw new StoreUnavailableError('Redis is down');
      if (!(await claims.claim(claim.key, claim.now, claim.until))) return false;
      posted.push(r);
      return true;
    },
  };
  const audit: AuditLog = { append: async () => undefined, history: async () => ({ entries: [], chain: { ok: true } }) };
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  let now = NOW;
  const watch = new RotationWatch({
    store: { listOpen: async () => opts.open ?? [] },
    intercom: {
      listSecrets: async () => {
        listCalls++;
        if (opts.secrets instanceof Error) throw opts.secrets;
        return opts.secrets ?? [];
      },
    },
    reminders,
    journal: new Journal(audit, notifier, log),
    claims,
    clock: { now: () => now, sleep: async () => undefined, every: () => () => undefined },
    log,
    settings: {
      workspace: 'default',
      reminderChannel: 'C1',
      rotateAfterMs: 365 * DAY,
      reminderIntervalMs: 7 * DAY,
      finishReminderMs: 3 * DAY,
      requestTtlMs: HOUR,
      approvers: ['U111', 'U222', 'S0OPS'],
      ...opts.settings,
    },
  });
  return { watch, posted, replies, listCalls: () => listCalls, advance: (ms: number) => (now += ms) };
}

describe('RotationWatch', () => {
  it('without a policy, never asks Intercom and never reminds', async () => {
    const w = world({ secrets: [secret('1', 4000)], settings: { rotateAfterMs: undefined } });
    expect((await w.watch.check()).reminded).toBe(false);
    expect(w.listCalls()).toBe(0);
  });

  it('reminds of the due secrets, oldest first, with their ages', async () => {
    const w = world({ secrets: [secret('1', 400), secret('2', 90), secret('3', 800)] });
    await w.watch.check();
    expect(w.posted).toHaveLength(1);
    expect(w.posted[0]!.due.map((d) => [d.secret.id, Math.round(d.ageMs / DAY)])).toEqual([
      ['3', 800],
      ['1', 400],
    ]);
  });

  it('does not remind while any due secret has an open rotation (SPEC §10: none of them has one)', async () => {
    const w = world({ secrets: [secret('1', 400), secret('3', 800)], open: [rotation('1', { state: 'awaiting_finish' })] });
    expect((await w.watch.check()).reminded).toBe(false);
    expect(w.posted).toEqual([]);
  });

  it('a reminder that could not be recorded (Redis down) is tried again at the next check, not a whole interval later', async () => {
    const w = world({ secrets: [secret('1', 400)], recordFails: 1 });
    expect((await w.watch.check()).reminded).toBe(false);
    expect((await w.watch.check()).reminded).toBe(true);
    expect((await w.watch.check()).reminded).toBe(false);
  });

  it('Intercom failing stops only the reminder: the nudges still go out', async () => {
    const w = world({ secrets: new Error('down'), open: [request()] });
    const outcome = await w.watch.check();
    expect(outcome).toEqual({ reminded: false, finishReminders: 0, approvalReminders: 1 });
  });

  it("looks only at its own workspace's requests", async () => {
    const elsewhere = request({ id: 'R-OTHER0', operation: { action: 'create', workspace: 'eu', name: 'x', platforms: ['web'] } });
    const rotatingElsewhere = rotation('1', { operation: { action: 'rotate', workspace: 'eu', secretId: '1', secretName: 'x', platforms: ['web'] } });
    const w = world({ secrets: [secret('1', 400)], open: [elsewhere, rotatingElsewhere] });
    expect(await w.watch.check()).toEqual({ reminded: true, finishReminders: 0, approvalReminders: 0 });
  });

  it('nudges only pending requests without any approval, past half their TTL, and only once', async () => {
    const fresh = request({ id: 'R-FRESH0', createdAt: NOW - 10 * 60_000, expiresAt: NOW + 50 * 60_000 });
    const approvedOnce = request({ id: 'R-APPRVD', approvals: ['U222'], approvalsRequired: 2 });
    const waiting = request({ id: 'R-WAITNG' });
    const w = world({ open: [fresh, approvedOnce, waiting] });
    expect((await w.watch.check()).approvalReminders).toBe(1);
    expect(w.replies.map((e) => [e.requestId, e.type, e.type === 'approval_reminder' && e.detail.approvers])).toEqual([
      ['R-WAITNG', 'approval_reminder', 'U222 S0OPS'],
    ]);
    expect((await w.watch.check()).approvalReminders).toBe(0);
  });

  it("an orphan's delete request (it never expires) is nudged once at half the TTL, and not again later", async () => {
    const orphanDelete = request({ id: 'R-0RPHAN', orphanOf: 'R-ORIGIN', createdAt: NOW - 20 * 60_000, expiresAt: NOW + 40 * 60_000 });
    const w = world({ open: [orphanDelete] });
    expect((await w.watch.check()).approvalReminders).toBe(0);
    w.advance(11 * 60_000);
    expect((await w.watch.check()).approvalReminders).toBe(1);
    expect(w.replies.map((e) => [e.requestId, e.type])).toEqual([['R-0RPHAN', 'approval_reminder']]);
    w.advance(HOUR);
    expect((await w.watch.check()).approvalReminders).toBe(0);
  });

  it("an orphan's delete request the bot first sees after its TTL (replicas were down) is still nudged, once; an ordinary one is not", async () => {
    const orphanDelete = request({ id: 'R-0RPHAN', orphanOf: 'R-ORIGIN', createdAt: NOW - 3 * HOUR, expiresAt: NOW - 2 * HOUR });
    const ordinary = request({ id: 'R-0RDNRY', createdAt: NOW - 3 * HOUR, expiresAt: NOW - 2 * HOUR });
    const w = world({ open: [orphanDelete, ordinary] });
    expect((await w.watch.check()).approvalReminders).toBe(1);
    expect(w.replies.map((e) => [e.requestId, e.type])).toEqual([['R-0RPHAN', 'approval_reminder']]);
    w.advance(30 * DAY);
    expect((await w.watch.check()).approvalReminders).toBe(0);
  });

  it("a rotation's delete step is measured from its own TTL and does not ask whoever asked to finish", async () => {
    const retire = rotation('7', {
      rotation: { step: 'retire', finishRequestedBy: 'U222', successorCreatedAt: NOW - 10 * DAY },
      createdAt: NOW - 10 * DAY,
      expiresAt: NOW + 40 * 60_000, // Finish clicked 20 minutes ago, TTL 1h: not half way yet
    });
    const w = world({ open: [retire] });
    expect((await w.watch.check()).approvalReminders).toBe(0);
    w.advance(11 * 60_000);
    expect((await w.watch.check()).approvalReminders).toBe(1);
    const reminder = w.replies[0];
    expect(reminder?.type === 'approval_reminder' && reminder.detail.approvers).toBe('S0OPS');
  });

  it('nudges a rotation waiting to be finished after IVS_FINISH_REMINDER, then once per that interval', async () => {
    const stalled = rotation('9', {
      state: 'awaiting_finish',
      rotation: { step: 'successor', successorCreatedAt: NOW - 2 * DAY, successor: { id: '10', name: 'n', createdAt: 0 } },
    });
    const w = world({ open: [stalled] });
    expect((await w.watch.check()).finishReminders).toBe(0);
    w.advance(DAY);
    expect((await w.watch.check()).finishReminders).toBe(1);
    expect(w.replies[0]).toMatchObject({ type: 'finish_reminder', detail: { successorId: '10', waitingMs: 3 * DAY } });
    w.advance(3 * DAY - 1);
    expect((await w.watch.check()).finishReminders).toBe(0);
    w.advance(1);
    expect((await w.watch.check()).finishReminders).toBe(1);
  });
});
