import { RespondError } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { AuditLog, Clock } from '../../core/ports';
import type { RequestUseCases } from '../../core/use-cases';
import type { Config } from '../../config';
import { DirectoryUnavailableError, StoreUnavailableError } from '../../core/errors';
import type { Metrics } from '../../metrics';
import type { ServedWorkspaces } from '../workspaces';

/** What every listener may use. Built once in app.ts. */
export interface ListenerDeps {
  readonly config: Config;
  readonly requests: RequestUseCases;
  readonly audit: AuditLog;
  /** Which channel serves which Intercom workspaces, and their lists. */
  readonly workspaces: ServedWorkspaces;
  /** The Web API client for answers to people (views.open, chat.postEphemeral): timed, with a timeout. */
  readonly slack: WebClient;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** The text people see when Redis is down: nothing was half-written, because every change is one atomic step. */
export const STORE_DOWN_TEXT = 'The request store (Redis) is unavailable right now, so nothing was changed. Try again in a minute.';

/** Slack's own directory failing while we check who someone is: nothing was decided on a guess. */
export const DIRECTORY_DOWN_TEXT =
  'Slack could not tell ivs-bot who you are (or who is in a user group) right now, so nothing was changed. Try again in a minute.';

/** A channel some workspace is served in. */
export function isAllowedChannel(deps: ListenerDeps, channel: string | undefined): boolean {
  return deps.workspaces.in(channel).length > 0;
}

export function notHereText(deps: ListenerDeps): string {
  return `ivs-bot works only in ${deps.workspaces
    .channels()
    .map((c) => `<#${c}>`)
    .join(', ')}.`;
}

/** A metrics label from the closed set of configured names ('' for anything else). */
export function workspaceLabel(deps: ListenerDeps, name: string | undefined): string {
  return name !== undefined && deps.workspaces.resolve(name) === name ? name : '';
}

/** `us`, `eu` as people should type them. */
export function workspaceChoices(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}

/**
 * Runs the slow part of a listener after ack(). Whatever goes wrong is logged (scrubbed by the logger)
 * and turned into a clear message for the person; it never becomes silence or a crash.
 */
export async function afterAck(deps: ListenerDeps, tell: (text: string) => Promise<unknown>, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof RespondError) {
      // The work is done; only the answer to the person was refused by the response_url (used up,
      // expired). Saying "something went wrong" through the same URL would fail, and be untrue.
      deps.log.warn({ status: err.statusCode }, 'the answer could not be delivered to the response_url');
      return;
    }
    if (err instanceof StoreUnavailableError) {
      deps.log.warn({ err }, 'request store unavailable');
      await tell(STORE_DOWN_TEXT).catch(() => undefined);
      return;
    }
    if (err instanceof DirectoryUnavailableError) {
      deps.log.warn({ err }, 'Slack directory unavailable');
      await tell(DIRECTORY_DOWN_TEXT).catch(() => undefined);
      return;
    }
    deps.log.error({ err }, 'listener failed after ack');
    await tell("Something went wrong on our side; nothing more was done. The error is in the bot's log.").catch(() => undefined);
  }
}
