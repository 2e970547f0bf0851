import { WebAPIPlatformError, type WebClient } from '@slack/web-api';
import type { Clock, Directory, SlackUser } from '../core/ports';
import { DirectoryUnavailableError } from '../core/errors';
import type { UserId } from '../core/types';

/** How long a users.info or usergroups.users.list answer is trusted ("cached briefly", SPEC §3). */
export const DIRECTORY_CACHE_MS = 60_000;

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

/**
 * People and user groups as Slack knows them. A failure to ask Slack is thrown as
 * DirectoryUnavailableError (the WebClient's error carries its whole request, so it stays here); an
 * unknown user or group is an answer, not an error.
 */
export class SlackDirectory implements Directory {
  private readonly users = new Map<UserId, Cached<SlackUser | null>>();
  private readonly groups = new Map<string, Cached<readonly UserId[]>>();

  constructor(
    private readonly client: WebClient,
    private readonly clock: Clock,
    private readonly ttlMs = DIRECTORY_CACHE_MS,
  ) {}

  async user(id: UserId): Promise<SlackUser | null> {
    const hit = this.users.get(id);
    if (hit && hit.until > this.clock.now()) return hit.value;
    let value: SlackUser | null;
    try {
      const res = await this.client.users.info({ user: id });
      const u = res.user;
      value = u?.id ? { id: u.id, teamId: u.team_id ?? '', isBot: Boolean(u.is_bot) || u.id === 'USLACKBOT', deleted: Boolean(u.deleted) } : null;
    } catch (err) {
      if (platformError(err) === 'user_not_found') value = null;
      else throw unavailable('users.info', err);
    }
    this.users.set(id, { value, until: this.clock.now() + this.ttlMs });
    return value;
  }

  async groupMembers(groupId: string): Promise<readonly UserId[]> {
    const hit = this.groups.get(groupId);
    if (hit && hit.until > this.clock.now()) return hit.value;
    let value: readonly UserId[];
    try {
      const res = await this.client.usergroups.users.list({ usergroup: groupId });
      value = res.users ?? [];
    } catch (err) {
      if (platformError(err) === 'no_such_subteam') value = [];
      else throw unavailable('usergroups.users.list', err);
    }
    this.groups.set(groupId, { value, until: this.clock.now() + this.ttlMs });
    return value;
  }
}

function unavailable(method: string, err: unknown): DirectoryUnavailableError {
  const code = platformError(err) ?? (err as { code?: unknown } | null)?.code;
  return new DirectoryUnavailableError(`Slack ${method} failed${typeof code === 'string' ? ` (${code.slice(0, 60)})` : ''}`);
}

/** The `error` of an `{ok:false}` answer; anything else (HTTP, network, rate limit) is not an answer. */
function platformError(err: unknown): string | undefined {
  return err instanceof WebAPIPlatformError ? err.data.error : undefined;
}
