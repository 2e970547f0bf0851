/** Who is in the sandbox's Slack workspace, and where (SANDBOX-API.md "Users in the Slack double"). */

export const TEAM_ID = 'T0SANDBOX';
export const BOT_USER_ID = 'UBOT';
export const BOT_NAME = 'ivs-bot';
export const APPROVER_GROUP = 'S0APPROVERS';

export interface Person {
  readonly name: string;
  readonly userId: string;
  readonly title: string;
}

export const PEOPLE: readonly Person[] = [
  { name: 'alice', userId: 'U0ALICE', title: 'requester + approver' },
  { name: 'bob', userId: 'U0BOB', title: 'approver' },
  { name: 'carol', userId: 'U0CAROL', title: `approver through user group ${APPROVER_GROUP}` },
  { name: 'mallory', userId: 'U0MALLORY', title: 'no rights' },
];

export interface Channel {
  readonly name: string;
  readonly id: string;
  readonly allowed: boolean;
  /** The Intercom workspace `/ivs` serves here (issue 15: `us` in #ops, `eu` in #ops-eu). */
  readonly workspace?: string;
}

export const CHANNELS: readonly Channel[] = [
  { name: 'ops', id: 'C0OPS', allowed: true, workspace: 'us' },
  { name: 'ops-eu', id: 'C0OPSEU', allowed: true, workspace: 'eu' },
  { name: 'random', id: 'C0RANDOM', allowed: false },
];

/** The two Intercom workspaces the sandbox serves (SPEC §9), each with its own Intercom double. */
export const WORKSPACE_NAMES = ['us', 'eu'] as const;
export type WorkspaceName = (typeof WORKSPACE_NAMES)[number];

/** The same rights in every workspace, as production would write them in IVS_CONFIG. */
export const RIGHTS = { requesters: ['U0ALICE'], approvers: ['U0ALICE', 'U0BOB', APPROVER_GROUP] } as const;

export function channelsOf(workspace: string): string[] {
  return CHANNELS.filter((c) => c.allowed && c.workspace === workspace).map((c) => c.id);
}

export const GROUP_MEMBERS: Readonly<Record<string, readonly string[]>> = { [APPROVER_GROUP]: ['U0CAROL'] };

export function personNamed(name: unknown): Person | undefined {
  return PEOPLE.find((p) => p.name === name);
}

export function personById(id: string): Person | undefined {
  return PEOPLE.find((p) => p.userId === id);
}

export function channelNamed(name: unknown): Channel | undefined {
  return CHANNELS.find((c) => c.name === name);
}

export function channelById(id: string): Channel | undefined {
  return CHANNELS.find((c) => c.id === id);
}
