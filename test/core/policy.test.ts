import { describe, expect, it } from 'vitest';
import { Policy } from '../../src/core/policy';
import type { Directory, SlackUser } from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';

/** An in-memory Slack directory: people and groups, and a count of how often groups were asked for. */
function directory(users: Partial<SlackUser>[], groups: Record<string, string[]> = {}, failingGroups: string[] = []): Directory {
  const byId = new Map(users.map((u) => [u.id!, { teamId: 'T1', isBot: false, deleted: false, ...u } as SlackUser]));
  return {
    user: async (id) => byId.get(id) ?? null,
    groupMembers: async (id) => {
      if (failingGroups.includes(id)) throw new Error('slack down');
      return groups[id] ?? [];
    },
  };
}

const request = (overrides: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  id: 'R-AAAAAA',
  operation: { action: 'create', workspace: 'default', name: 'x', platforms: ['web'] },
  fingerprint: 'ab12-cd34',
  requester: 'UREQ',
  teamId: 'T1',
  channel: 'C1',
  reason: '',
  state: 'pending',
  approvals: [],
  approvalsRequired: 1,
  createdAt: 0,
  expiresAt: 1,
  updatedAt: 0,
  impact: [],
  progress: {},
  ...overrides,
});

const people = [
  { id: 'UREQ' },
  { id: 'UAPP' },
  { id: 'UAPP2' },
  { id: 'UGRP' },
  { id: 'UBOT', isBot: true },
  { id: 'UGONE', deleted: true },
  { id: 'UFAR', teamId: 'T9' },
];

describe('who may approve', () => {
  const policy = new Policy(
    { requesters: ['UREQ', 'UAPP'], approvers: ['UREQ', 'UAPP', 'UAPP2', 'UBOT', 'UGONE', 'UFAR', 'SOPS'], approvalsRequired: 1 },
    directory(people, { SOPS: ['UGRP'] }),
  );

  it('an approver other than the requester may approve', async () => {
    expect(await policy.mayDecide('UAPP', 'T1', request())).toEqual({ ok: true });
  });

  it('a member of an approver user group may approve', async () => {
    expect(await policy.mayDecide('UGRP', 'T1', request())).toEqual({ ok: true });
  });

  it.each([
    ['UREQ', 'T1', /own request/],
    ['UNOBODY', 'T1', /Slack does not know you/],
    ['UBOT', 'T1', /bots/],
    ['UGONE', 'T1', /deactivated/],
    ['UFAR', 'T1', /another Slack workspace/],
    ['UAPP', 'T9', /another Slack workspace/],
  ])('%s clicking from %s does not count', async (user, team, why) => {
    const decision = await policy.mayDecide(user, team, request());
    expect(decision.ok).toBe(false);
    expect(decision.ok ? '' : decision.reason).toMatch(why);
  });

  it('whoever asked to finish a rotation cannot approve its delete step', async () => {
    const retire = request({ rotation: { step: 'retire', finishRequestedBy: 'UAPP' } });
    const decision = await policy.mayDecide('UAPP', 'T1', retire);
    expect(decision.ok ? '' : decision.reason).toMatch(/asked to finish/);
    expect(await policy.mayDecide('UAPP2', 'T1', retire)).toEqual({ ok: true });
  });

  it('someone not listed is not an approver', async () => {
    const narrow = new Policy({ requesters: ['UREQ'], approvers: ['UAPP'], approvalsRequired: 1 }, directory(people));
    const decision = await narrow.mayDecide('UAPP2', 'T1', request());
    expect(decision.ok ? '' : decision.reason).toMatch(/not in IVS_APPROVERS/);
  });

  it('a group Slack cannot expand grants nothing', async () => {
    const failing = new Policy({ requesters: [], approvers: ['SOPS'], approvalsRequired: 1 }, directory(people, { SOPS: ['UGRP'] }, ['SOPS']));
    expect((await failing.mayDecide('UGRP', 'T1', request())).ok).toBe(false);
  });
});

describe('re-check at execution', () => {
  it('approvals of people removed from the approvers no longer count', async () => {
    const before = new Policy({ requesters: ['UREQ'], approvers: ['UAPP', 'UAPP2'], approvalsRequired: 2 }, directory(people));
    const after = new Policy({ requesters: ['UREQ'], approvers: ['UAPP'], approvalsRequired: 2 }, directory(people));
    const approved = request({ approvals: ['UAPP', 'UAPP2'], approvalsRequired: 2, state: 'approved' });
    expect(await before.stillApproved(approved)).toEqual({ ok: true });
    const decision = await after.stillApproved(approved);
    expect(decision.ok ? '' : decision.reason).toMatch(/only 1 of 2 approvals still count/);
  });

  it('a request whose requester was deactivated or dropped from the requesters no longer executes', async () => {
    const approved = request({ approvals: ['UAPP'], state: 'approved' });
    const gone = new Policy(
      { requesters: ['UREQ'], approvers: ['UAPP'], approvalsRequired: 1 },
      directory(people.map((p) => (p.id === 'UREQ' ? { ...p, deleted: true } : p))),
    );
    expect((await gone.stillApproved(approved)).ok).toBe(false);
    const dropped = new Policy({ requesters: ['UAPP2'], approvers: ['UAPP'], approvalsRequired: 1 }, directory(people));
    const decision = await dropped.stillApproved(approved);
    expect(decision.ok ? '' : decision.reason).toMatch(/UREQ, who asked for it, may no longer ask \(you are not in IVS_REQUESTERS/);
  });

  it("a rotation's delete step no longer executes when whoever asked to finish it may no longer ask", async () => {
    const policy = new Policy({ requesters: ['UREQ'], approvers: ['UAPP', 'UAPP2'], approvalsRequired: 1 }, directory(people));
    const retire = request({
      operation: { action: 'rotate', workspace: 'default', secretId: '1', secretName: 'x', platforms: ['web'] },
      rotation: { step: 'retire', finishRequestedBy: 'UAPP2' },
      approvals: ['UAPP'],
      state: 'approved',
    });
    const decision = await policy.stillApproved(retire);
    expect(decision.ok ? '' : decision.reason).toMatch(/UAPP2, who asked for it/);
    // The original requester, no longer a requester by then, does not hold the delete step up.
    const finishedByRequester = new Policy({ requesters: ['UAPP2'], approvers: ['UAPP'], approvalsRequired: 1 }, directory(people));
    expect(await finishedByRequester.stillApproved(retire)).toEqual({ ok: true });
  });
});

describe('who may request, and whether anyone could approve', () => {
  const policy = new Policy({ requesters: ['UREQ', 'SOPS'], approvers: ['UREQ', 'UAPP'], approvalsRequired: 1 }, directory(people, { SOPS: ['UGRP'] }));

  it('requesters are the listed users and group members', async () => {
    expect(await policy.mayRequest('UREQ', 'T1')).toEqual({ ok: true });
    expect(await policy.mayRequest('UGRP', 'T1')).toEqual({ ok: true });
    expect((await policy.mayRequest('UAPP2', 'T1')).ok).toBe(false);
  });

  it('a request is possible only when enough people other than the requester may approve', async () => {
    expect(await policy.approvalPossible(['UREQ'])).toEqual({ ok: true });
    const decision = await policy.approvalPossible(['UREQ', 'UAPP']);
    expect(decision.ok ? '' : decision.reason).toMatch(/only 0 other approvers exist/);
    const two = new Policy({ requesters: ['UREQ'], approvers: ['UREQ', 'UAPP'], approvalsRequired: 2 }, directory(people));
    expect((await two.approvalPossible(['UREQ'])).ok).toBe(false);
  });
});
