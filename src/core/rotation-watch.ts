import type { Journal } from './journal';
import { dueSecrets, secretsWithOpenRotation } from './rotation-policy';
import { expiresAfterTtl, type ApprovalRequest } from './request';
import type { Clock, Intercom, Log, ReminderClaims, RequestStore, RotationReminders } from './ports';
import type { UserId } from './types';

/**
 * SPEC §10 "Living with rotations": the checks every replica makes on start and every few minutes.
 *
 * - A reminder of due secrets in the workspace's first channel, while none of them has an open
 *   rotation, at most once per `reminderIntervalMs`; recorded in the Slack outbox with its claim.
 * - A thread nudge to the requester of a rotation waiting to be finished longer than
 *   `finishReminderMs`, once per that interval.
 * - One thread nudge to the approvers of a request still without any approval after half its TTL.
 *
 * "Once" holds across replicas: each is posted only by whoever wins its claim (ReminderClaims, one
 * atomic Redis script), and every replica may check at the same moment.
 */

export interface RotationWatchSettings {
  /** The workspace label; the reminder claim is per workspace. */
  readonly workspace: string;
  /** Where reminders go: the workspace's first channel. */
  readonly reminderChannel: string;
  /** Unset: no policy, no reminders (the nudges still run). */
  readonly rotateAfterMs?: number;
  readonly reminderIntervalMs: number;
  readonly finishReminderMs: number;
  /** IVS_REQUEST_TTL: a rotation's second step lasts this long from when Finish was clicked. */
  readonly requestTtlMs: number;
  /** IVS_APPROVERS as configured: user ids and user-group ids, mentioned as they are. */
  readonly approvers: readonly string[];
}

export interface RotationWatchDeps {
  readonly store: Pick<RequestStore, 'listOpen'>;
  readonly intercom: Pick<Intercom, 'listSecrets'>;
  readonly reminders: RotationReminders;
  /** Nudges are thread replies and audit entries, told like every other event. */
  readonly journal: Pick<Journal, 'tell'>;
  readonly claims: ReminderClaims;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: RotationWatchSettings;
}

export interface WatchOutcome {
  readonly reminded: boolean;
  readonly finishReminders: number;
  readonly approvalReminders: number;
}

/** Redis keys of the claims (under the store's prefix). */
export const claimKeys = {
  reminder: (workspace: string) => `remind:secrets:${workspace}`,
  finish: (id: string) => `remind:finish:${id}`,
  // One per pending period: a rotation's delete step (asked for again after a rejection, say) waits
  // for approvers of its own, and each period has its own expiry.
  approval: (id: string, step: string, expiresAt: number) => `remind:approval:${id}:${step}:${expiresAt}`,
};

const DAY_MS = 86_400_000;

export class RotationWatch {
  constructor(private readonly deps: RotationWatchDeps) {}

  /** One round of every check. Each part on its own: a failing Intercom must not stop the nudges. */
  async check(): Promise<WatchOutcome> {
    // One watch per workspace: its own requests, its own secrets, its own channel.
    const open = (await this.deps.store.listOpen()).filter((r) => r.operation.workspace === this.deps.settings.workspace);
    let reminded = false;
    try {
      reminded = await this.remindOfDueSecrets(open);
    } catch (err) {
      this.deps.log.warn({ err }, 'rotation reminder check failed; will try again');
    }
    let finishReminders = 0;
    let approvalReminders = 0;
    for (const request of open) {
      try {
        if (await this.nudgeStalledRotation(request)) finishReminders++;
        if (await this.nudgeWaitingApprovers(request)) approvalReminders++;
      } catch (err) {
        this.deps.log.warn({ err, requestId: request.id }, 'rotation nudge failed; will try again');
      }
    }
    return { reminded, finishReminders, approvalReminders };
  }

  private async remindOfDueSecrets(open: readonly ApprovalRequest[]): Promise<boolean> {
    const { settings, clock } = this.deps;
    if (settings.rotateAfterMs === undefined) return false;
    const now = clock.now();
    const due = dueSecrets(await this.deps.intercom.listSecrets(), settings.rotateAfterMs, now);
    if (due.length === 0) return false;
    // SPEC §10: only while none of the due secrets has an open rotation (someone is on it).
    const rotating = secretsWithOpenRotation(open);
    if (due.some((d) => rotating.has(d.secret.id))) return false;

    // Claimed and recorded in one step: the outbox delivers it, through a Slack outage too.
    const claim = { key: claimKeys.reminder(settings.workspace), now, until: now + settings.reminderIntervalMs };
    const reminder = { workspace: settings.workspace, rotateAfterMs: settings.rotateAfterMs, due };
    if (!(await this.deps.reminders.record(claim, settings.reminderChannel, reminder))) return false;
    this.deps.log.info({ workspace: settings.workspace, due: due.map((d) => d.secret.id) }, 'rotation reminder recorded for Slack');
    return true;
  }

  private async nudgeStalledRotation(request: ApprovalRequest): Promise<boolean> {
    const { settings, clock } = this.deps;
    const since = request.rotation?.successorCreatedAt;
    if (request.state !== 'awaiting_finish' || since === undefined) return false;
    const now = clock.now();
    const waitingMs = now - since;
    if (waitingMs < settings.finishReminderMs) return false;
    if (!(await this.deps.claims.claim(claimKeys.finish(request.id), now, now + settings.finishReminderMs))) return false;
    await this.deps.journal.tell(
      request,
      { type: 'finish_reminder', at: now, detail: { waitingMs, successorId: request.rotation?.successor?.id ?? '' } },
      { updateCard: false },
    );
    return true;
  }

  private async nudgeWaitingApprovers(request: ApprovalRequest): Promise<boolean> {
    const { settings, clock } = this.deps;
    if (request.state !== 'pending' || request.approvals.length > 0) return false;
    const step = request.rotation?.step ?? 'request';
    // A rotation's delete step got a fresh TTL when Finish was clicked; any other step began when opened.
    const ttl = step === 'retire' ? settings.requestTtlMs : request.expiresAt - request.createdAt;
    const now = clock.now();
    const expires = expiresAfterTtl(request);
    if (now < request.expiresAt - ttl / 2) return false;
    // One that never expires (an orphan's delete) is still nudged when the bot gets to it after
    // expiresAt (replicas down in the window): missing it would leave the orphan active unsaid.
    if (expires && now >= request.expiresAt) return false;
    const approvers = this.approversToMention(request);
    // Once per step: the claim outlives the request's expiry (the key itself is dropped a day later),
    // or, for one that never expires, stands for a year.
    const until = expires ? request.expiresAt + DAY_MS : now + 365 * DAY_MS;
    if (!(await this.deps.claims.claim(claimKeys.approval(request.id, step, request.expiresAt), now, until))) return false;
    await this.deps.journal.tell(request, { type: 'approval_reminder', at: now, detail: { approvers: approvers.join(' ') } }, { updateCard: false });
    return true;
  }

  /** The configured approvers, minus people who cannot approve this step themselves. */
  private approversToMention(request: ApprovalRequest): string[] {
    const cannot = new Set<UserId>([request.requester, ...(request.rotation?.finishRequestedBy ? [request.rotation.finishRequestedBy] : [])]);
    return this.deps.settings.approvers.filter((id) => !cannot.has(id));
  }
}
