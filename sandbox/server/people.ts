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
}

export const CHANNELS: readonly Channel[] = [
  { name: 'ops', id: 'C0OPS', allowed: true },
  { name: 'random', id: 'C0RANDOM', allowed: false },
];

/** The settings that give these people their rights, as production would set them. */
export const RIGHTS_ENV: Readonly<Record<string, string>> = {
  IVS_CHANNELS: CHANNELS.filter((c) => c.allowed)
    .map((c) => c.id)
    .join(','),
  IVS_REQUESTERS: 'U0ALICE',
  IVS_APPROVERS: `U0ALICE,U0BOB,${APPROVER_GROUP}`,
};

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
