import type { AllMiddlewareArgs, App, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SecretListing } from '../../core/catalog';
import { countByPlatform } from '../../core/impact';
import { isReadableEntry, type AuditEntry } from '../../core/ports';
import type { Actor } from '../../core/use-cases';
import { PLATFORMS } from '../../core/types';
import { COMMAND_WORDS, parseCommand, type ParsedCommand } from '../command-parser';
import { escapeBounded } from '../mrkdwn';
import { renderAuditHistory } from '../views/audit-history';
import { cancelReply, intercomProblem, openReply, withdrawReply } from '../views/replies';
import { createRequestModal } from '../views/modals';
import { renderRequestList } from '../views/request-list';
import { renderRequestStatus } from '../views/request-status';
import type { MessageView } from '../views/block-kit';
import { renderSecretList } from '../views/secret-list';
import { renderUsage, usageOf } from '../views/usage';
import { splitWorkspaceWord, type ServedWorkspace } from '../workspaces';
import { afterAck, notHereText, workspaceChoices, type ListenerDeps } from './context';
import { runPlan } from './plan';

type CommandArgs = AllMiddlewareArgs & SlackCommandMiddlewareArgs;

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command('/ivs', (args) => handleIvsCommand(args, deps));
}

/** `/ivs …`: ack at once (validation errors go into the ack), slow work after, reported through respond(). */
export async function handleIvsCommand({ command, ack, respond }: CommandArgs, deps: ListenerDeps): Promise<void> {
  const served = deps.workspaces.in(command.channel_id);
  // `/ivs eu rotate 102`: the workspace word first, then the command as before.
  const words = splitWorkspaceWord(command.text ?? '', (w) => deps.workspaces.resolve(w), isCommandWord);
  const parsed = parseCommand(words.rest);
  // The workspace the command is for: the one it names, or the channel's only one.
  const named = words.workspace === undefined ? undefined : served.find((w) => w.name === words.workspace);
  const workspace = named ?? (words.workspace === undefined && served.length === 1 ? served[0] : undefined);
  const count = (outcome: string) => deps.metrics.commands.inc({ subcommand: parsed.kind, outcome, workspace: workspace?.name ?? '' });
  const names = served.map((w) => w.name);

  if (served.length === 0) {
    count('refused_channel');
    await ack({ response_type: 'ephemeral', text: notHereText(deps) });
    return;
  }
  if (words.workspace !== undefined && !named) {
    count('refused_workspace');
    await ack({ response_type: 'ephemeral', text: `This channel does not serve workspace \`${words.workspace}\`; it serves ${workspaceChoices(names)}.` });
    return;
  }
  const actor: Actor = { userId: command.user_id, teamId: command.team_id };
  switch (parsed.kind) {
    case 'help':
    case 'unknown':
      count('ok');
      await ack({ response_type: 'ephemeral', text: renderUsage(names) });
      return;
    case 'invalid':
      count('invalid');
      await ack({ response_type: 'ephemeral', text: parsed.usageFor ? `${parsed.message}\n${usageOf(parsed.usageFor)}` : parsed.message });
      return;
    case 'list': {
      if (!workspace) {
        // A channel of several workspaces: each one's list in turn, each its own message.
        await ack();
        count('accepted');
        await afterAck(deps, ephemeral(respond), () => listEach(served, respond, deps));
        return;
      }
      // A listing young enough to show again goes out in the ack itself: one HTTP exchange, no wait.
      const listing = workspace.catalog.reusable();
      if (listing) {
        count('ok');
        await ack(secretListMessage(listing, workspace.name, deps));
        return;
      }
      await ack();
      count('accepted');
      await afterAck(deps, ephemeral(respond), () => listEach([workspace], respond, deps));
      return;
    }
    case 'create_modal': {
      await ack();
      count('ok');
      const choices = workspace ? [workspace.name] : names;
      // The channel, and the workspace when it is settled already; the form asks otherwise.
      const metadata = workspace && served.length > 1 ? `${command.channel_id} ${workspace.name}` : command.channel_id;
      await afterAck(deps, ephemeral(respond), async () => {
        await deps.slack.views.open({
          trigger_id: command.trigger_id,
          view: { ...createRequestModal({ workspaces: choices.length > 1 ? choices : [] }), private_metadata: metadata },
        });
      });
      return;
    }
    case 'status':
    case 'audit':
    case 'cancel':
    case 'withdraw':
      // A request knows its workspace: none need be named.
      await ack();
      count('accepted');
      await afterAck(deps, ephemeral(respond), () => runOnRequest(parsed, words.workspace, names, actor, respond, deps));
      return;
    default:
      if (!workspace) {
        count('refused_workspace');
        await ack({ response_type: 'ephemeral', text: chooseWorkspaceText(parsed.kind, words.rest, names) });
        return;
      }
      await ack();
      count('accepted');
      await afterAck(deps, ephemeral(respond), () => run(parsed, workspace, actor, command.channel_id, respond, deps));
  }
}

function isCommandWord(word: string): boolean {
  return (COMMAND_WORDS as readonly string[]).includes(word);
}

/** The answer in a channel of several workspaces to a command that does not say which. */
function chooseWorkspaceText(kind: string, rest: string, names: readonly string[]): string {
  const typed = rest.trim().replace(/\s+/g, ' ');
  const example = escapeBounded(typed.replace(/`/g, "'"), 60) || kind;
  return (
    `This channel serves several Intercom workspaces: ${workspaceChoices(names)}. Say which one first, ` + `e.g. \`/ivs ${names[0] ?? 'name'} ${example}\`.`
  );
}

/** `/ivs list` of one or more workspaces, one message each; one that fails does not stop the others. */
async function listEach(workspaces: readonly ServedWorkspace[], respond: RespondFn, deps: ListenerDeps): Promise<void> {
  for (const w of workspaces) {
    let listing: SecretListing;
    try {
      listing = await w.catalog.list();
    } catch (err) {
      deps.log.warn({ err, workspace: w.name }, '/ivs list failed');
      await ephemeral(respond)(`Could not list the secrets of workspace ${w.name}: ${intercomProblem(err)}.`);
      continue;
    }
    await respond(secretListMessage(listing, w.name, deps));
  }
}

interface SecretListMessage {
  readonly response_type: 'in_channel';
  readonly text: string;
  readonly blocks: MessageView['blocks'];
}

/**
 * Each listing is rendered once, as of when it was listed (ages are shown to the minute), however
 * often it is shown again. Keyed by the listing object, so nothing outlives the listing.
 */
const renderedListings = new WeakMap<SecretListing, SecretListMessage>();

/** The secrets, visible in the channel (SPEC §2). */
function secretListMessage(listing: SecretListing, workspace: string, deps: ListenerDeps): SecretListMessage {
  const rendered = renderedListings.get(listing);
  if (rendered) return rendered;
  const counts = countByPlatform(listing.secrets);
  for (const platform of PLATFORMS) deps.metrics.secretsPerPlatform.set({ platform, workspace }, counts[platform]);
  const rotateAfterMs = deps.workspaces.get(workspace)?.rotateAfterMs;
  const view = renderSecretList(listing.secrets, {
    now: listing.listedAt,
    listedAt: listing.listedAt,
    workspace,
    ...(listing.material ? { material: listing.material } : {}),
    ...(rotateAfterMs !== undefined ? { rotateAfterMs } : {}),
  });
  const message = { response_type: 'in_channel' as const, text: view.text, blocks: view.blocks };
  renderedListings.set(listing, message);
  return message;
}

const ephemeral = (respond: RespondFn) => (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });

async function run(parsed: ParsedCommand, workspace: ServedWorkspace, actor: Actor, channel: string, respond: RespondFn, deps: ListenerDeps): Promise<void> {
  const say = ephemeral(respond);
  const ws = workspace.name;
  switch (parsed.kind) {
    case 'list':
      await listEach([workspace], respond, deps);
      return;
    case 'create':
      await say(
        openReply(await deps.requests.open(actor, channel, ws, { action: 'create', name: parsed.name, platforms: parsed.platforms, reason: parsed.reason }))
          .text,
      );
      return;
    case 'delete':
      await say(
        openReply(await deps.requests.open(actor, channel, ws, { action: 'delete', secretId: parsed.secretId, reason: parsed.reason, force: parsed.force }))
          .text,
      );
      return;
    case 'rotate':
      await say(
        openReply(
          await deps.requests.open(actor, channel, ws, { action: 'rotate', secretId: parsed.secretId, reason: parsed.reason, compromised: parsed.compromised }),
        ).text,
      );
      return;
    case 'plan':
      await say(await runPlan(parsed.target, workspace, deps.clock.now()));
      return;
    case 'requests': {
      const open = (await deps.requests.listOpen()).filter((r) => r.operation.workspace === ws);
      const view = renderRequestList(open, { now: deps.clock.now(), workspace: ws });
      await respond({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      return;
    }
    default:
      await say(renderUsage([ws]));
  }
}

/**
 * `/ivs status|audit|cancel|withdraw <request-id>`: the request names its workspace. It must be one
 * this channel serves, and the one typed, if one was.
 */
async function runOnRequest(
  parsed: Extract<ParsedCommand, { kind: 'status' | 'audit' | 'cancel' | 'withdraw' }>,
  typed: string | undefined,
  served: readonly string[],
  actor: Actor,
  respond: RespondFn,
  deps: ListenerDeps,
): Promise<void> {
  const say = ephemeral(respond);
  const id = parsed.requestId;
  const request = await deps.requests.get(id);
  const history = parsed.kind === 'audit' ? await deps.audit.history(id) : undefined;
  // A request gone from Redis (30 days after it closed) still has its audit entries, and the first
  // of them records the workspace (requests of the first release do not: one workspace then).
  const requested = history?.entries.find((e): e is Extract<AuditEntry, { type: 'requested' }> => isReadableEntry(e) && e.type === 'requested');
  const workspace = request?.operation.workspace ?? requested?.detail.workspace;
  if (workspace !== undefined && typed !== undefined && workspace !== typed) {
    await say(`${id} belongs to workspace \`${workspace}\`, not \`${typed}\`.`);
    return;
  }
  if (workspace !== undefined && !served.includes(workspace)) {
    await say(`${id} belongs to workspace \`${workspace}\`, which this channel does not serve.`);
    return;
  }
  switch (parsed.kind) {
    case 'status': {
      if (!request) {
        await say(`There is no request ${id}.`);
        return;
      }
      const entries = await deps.audit.history(request.id).then(
        (h) => h.entries,
        (err: unknown) => {
          deps.log.warn({ err, requestId: request.id }, 'audit history unreadable for /ivs status');
          return undefined;
        },
      );
      const minOverlapMs = deps.workspaces.get(request.operation.workspace)?.minOverlapMs;
      const view = renderRequestStatus(request, {
        now: deps.clock.now(),
        ...(minOverlapMs !== undefined ? { minOverlapMs } : {}),
        ...(entries ? { history: entries } : {}),
      });
      await respond({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      return;
    }
    case 'audit': {
      if (!history || history.entries.length === 0) {
        const broken = history && !history.chain.ok ? ` WARNING: the audit chain is broken at ${history.chain.brokenAt}: ${history.chain.why}` : '';
        await say(`The audit stream has no events for ${id}.${broken}`);
        return;
      }
      const view = renderAuditHistory(id, history, workspace);
      await respond({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      return;
    }
    case 'cancel':
      await say(cancelReply(await deps.requests.cancel(actor, id)).text);
      return;
    case 'withdraw':
      await say(withdrawReply(await deps.requests.withdraw(actor, id)).text);
      return;
  }
}
