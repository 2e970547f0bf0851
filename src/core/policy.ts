import type { ApprovalRequest } from './request';
import type { Directory } from './ports';
import type { UserId } from './types';

/**
 * Who may do what (SPEC §3). The one file that answers "who may approve".
 *
 * - Requesters and approvers are Slack user ids or user-group ids; groups are expanded through the
 *   Directory (which caches briefly).
 * - The requester never counts as an approver of their own request; for a rotation's second step
 *   neither does whoever asked to finish it.
 * - Bots, deleted users and users of another Slack team never count.
 * - Everything is checked on the click and again when the action executes.
 */

export interface PolicySettings {
  readonly requesters: readonly string[];
  readonly approvers: readonly string[];
  readonly approvalsRequired: number;
  /** How refusals name the lists: `IVS_APPROVERS`, or `the approvers of workspace eu` (IVS_CONFIG). */
  readonly listNames?: { readonly requesters: string; readonly approvers: string };
}

/**
 * What a group Slack cannot expand means: on a click it grants nothing (the person may click again);
 * at execution the error is thrown, so an approved request waits instead of failing for good.
 */
type GroupFailure = 'deny' | 'throw';

/**
 * A refusal's `reason` is a plain sentence fragment (no mrkdwn). `ownRequest`: the person decides on
 * their own request; the Slack side points them to the command that takes it back.
 */
export type Decision = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly ownRequest?: true };

const ALLOWED: Decision = { ok: true };
const refuse = (reason: string): Decision => ({ ok: false, reason });

export class Policy {
  constructor(
    private readonly settings: PolicySettings,
    private readonly directory: Directory,
  ) {}

  private get names(): NonNullable<PolicySettings['listNames']> {
    return this.settings.listNames ?? { requesters: 'IVS_REQUESTERS', approvers: 'IVS_APPROVERS' };
  }

  get approvalsRequired(): number {
    return this.settings.approvalsRequired;
  }

  /** May `user` (clicking or typing from `teamId`) open create/delete/rotate requests, or finish a rotation? */
  async mayRequest(user: UserId, teamId: string, requestTeamId?: string, groups: GroupFailure = 'deny'): Promise<Decision> {
    const person = await this.checkPerson(user, teamId, requestTeamId ?? teamId);
    if (!person.ok) return person;
    if (!(await this.isListed(user, this.settings.requesters, groups))) {
      return refuse(`you are not in ${this.names.requesters}, so you cannot open requests`);
    }
    return ALLOWED;
  }

  /** May `user`, clicking from `clickTeamId`, approve or reject the current step of `request`? */
  async mayDecide(user: UserId, clickTeamId: string, request: ApprovalRequest, groups: GroupFailure = 'deny'): Promise<Decision> {
    if (user === request.requester) return { ok: false, reason: 'you cannot approve or reject your own request', ownRequest: true };
    if (request.rotation?.finishRequestedBy === user) {
      return refuse('you asked to finish this rotation, so someone else must approve the delete');
    }
    const person = await this.checkPerson(user, clickTeamId, request.teamId);
    if (!person.ok) return person;
    if (!(await this.isListed(user, this.settings.approvers, groups))) return refuse(`you are not in ${this.names.approvers}`);
    return ALLOWED;
  }

  /**
   * At execution: whoever asked (the requester; for a rotation's delete step whoever asked to finish
   * it) may still ask, and the approvals recorded for the current step still come from enough
   * people who may approve it now (someone removed from IVS_APPROVERS or deactivated no longer counts).
   * Throws DirectoryUnavailableError when Slack cannot say (a group included): an execution then
   * waits for Slack rather than failing a request that was approved.
   */
  async stillApproved(request: ApprovalRequest): Promise<Decision> {
    // A rotation's delete step was asked for by whoever clicked Finish (possibly days after step 1).
    const asker = request.rotation?.step === 'retire' ? request.rotation.finishRequestedBy : request.requester;
    if (asker) {
      const d = await this.mayRequest(asker, request.teamId, undefined, 'throw');
      if (!d.ok) return refuse(`${asker}, who asked for it, may no longer ask (${d.reason})`);
    }
    const valid: UserId[] = [];
    const dropped: string[] = [];
    for (const approver of new Set(request.approvals)) {
      const d = await this.mayDecide(approver, request.teamId, request, 'throw');
      if (d.ok) valid.push(approver);
      else dropped.push(`${approver}: ${d.reason}`);
    }
    if (valid.length >= request.approvalsRequired) return ALLOWED;
    return refuse(`only ${valid.length} of ${request.approvalsRequired} approvals still count${dropped.length ? ` (${dropped.join('; ')})` : ''}`);
  }

  /**
   * Could enough people other than `excluded` ever approve? Checked when a request is opened, so a
   * request nobody can approve is refused at once instead of hanging until it expires.
   */
  async approvalPossible(excluded: readonly UserId[]): Promise<Decision> {
    const candidates = new Set<UserId>();
    for (const id of this.settings.approvers) {
      if (id.startsWith('S')) {
        for (const member of await this.safeGroupMembers(id)) candidates.add(member);
      } else {
        candidates.add(id);
      }
    }
    for (const id of excluded) candidates.delete(id);
    if (candidates.size >= this.settings.approvalsRequired) return ALLOWED;
    return refuse(
      `it needs ${this.settings.approvalsRequired} approval${this.settings.approvalsRequired === 1 ? '' : 's'} from someone else in ${this.names.approvers}, ` +
        `but only ${candidates.size} other approver${candidates.size === 1 ? '' : 's'} exist${candidates.size === 1 ? 's' : ''}`,
    );
  }

  private async checkPerson(user: UserId, clickTeamId: string, expectedTeamId: string): Promise<Decision> {
    if (clickTeamId !== expectedTeamId) return refuse('clicks from another Slack workspace do not count');
    const person = await this.directory.user(user);
    if (!person) return refuse('Slack does not know you');
    if (person.isBot) return refuse('bots cannot approve or request');
    if (person.deleted) return refuse('your Slack account is deactivated');
    if (person.teamId !== expectedTeamId) return refuse('users of another Slack workspace do not count');
    return ALLOWED;
  }

  private async isListed(user: UserId, list: readonly string[], groups: GroupFailure): Promise<boolean> {
    if (list.includes(user)) return true;
    for (const id of list) {
      if (!id.startsWith('S')) continue;
      const members = groups === 'deny' ? await this.safeGroupMembers(id) : await this.directory.groupMembers(id);
      if (members.includes(user)) return true;
    }
    return false;
  }

  /** A group Slack cannot expand grants nothing (fail closed). */
  private async safeGroupMembers(groupId: string): Promise<readonly UserId[]> {
    try {
      return await this.directory.groupMembers(groupId);
    } catch {
      return [];
    }
  }
}
