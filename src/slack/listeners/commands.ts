import type { AllMiddlewareArgs, App, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SecretListing } from '../../core/catalog';
import { countByPlatform } from '../../core/impact';
import { intercomProblem, type Actor } from '../../core/requests';
import { PLATFORMS } from '../../core/types';
import { parseCommand, type ParsedCommand } from '../command-parser';
import { renderAuditHistory } from '../views/audit-history';
import { createRequestModal } from '../views/modals';
import { renderRequestList } from '../views/request-list';
import { renderRequestStatus } from '../views/request-status';
import type { MessageView } from '../views/block-kit';
import { renderSecretList } from '../views/secret-list';
import { renderUsage, usageOf } from '../views/usage';
import { afterAck, isAllowedChannel, notHereText, type ListenerDeps } from './context';
import { runPlan } from './plan';

type CommandArgs = AllMiddlewareArgs & SlackCommandMiddlewareArgs;

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command('/ivs', (args) => handleIvsCommand(args, deps));
}

/** `/ivs …`: ack at once (validation errors go into the ack), slow work after, reported through respond(). */
export async function handleIvsCommand({ command, ack, respond, client }: CommandArgs, deps: ListenerDeps): Promise<void> {
  const parsed = parseCommand(command.text ?? '');
  const count = (outcome: string) => deps.metrics.commands.inc({ subcommand: parsed.kind, outcome });

  if (!isAllowedChannel(deps, command.channel_id)) {
    count('refused_channel');
    await ack({ response_type: 'ephemeral', text: notHereText(deps) });
    return;
  }
  switch (parsed.kind) {
    case 'help':
    case 'unknown':
      count('ok');
      await ack({ response_type: 'ephemeral', text: renderUsage() });
      return;
    case 'invalid':
      count('invalid');
      await ack({ response_type: 'ephemeral', text: parsed.usageFor ? `${parsed.message}\n${usageOf(parsed.usageFor)}` : parsed.message });
      return;
    case 'list': {
      // A listing young enough to show again goes out in the ack itself: one HTTP exchange, no wait.
      const listing = deps.catalog.reusable();
      if (listing) {
        count('ok');
        await ack(secretListMessage(listing, deps));
        return;
      }
      await ack();
      count('accepted');
      await afterAck(deps, ephemeral(respond), () => run(parsed, { userId: command.user_id, teamId: command.team_id }, command.channel_id, respond, deps));
      return;
    }
    case 'create_modal': {
      await ack();
      count('ok');
      await afterAck(deps, ephemeral(respond), async () => {
        await client.views.open({ trigger_id: command.trigger_id, view: { ...createRequestModal(), private_metadata: command.channel_id } });
      });
      return;
    }
    default:
      await ack();
      count('accepted');
      await afterAck(deps, ephemeral(respond), () =>
        run(parsed, { userId: command.user_id, teamId: command.team_id }, command.channel_id, respond, deps),
      );
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
function secretListMessage(listing: SecretListing, deps: ListenerDeps): SecretListMessage {
  const rendered = renderedListings.get(listing);
  if (rendered) return rendered;
  const counts = countByPlatform(listing.secrets);
  for (const platform of PLATFORMS) deps.metrics.secretsPerPlatform.set({ platform }, counts[platform]);
  const view = renderSecretList(listing.secrets, {
    now: listing.listedAt,
    listedAt: listing.listedAt,
    workspace: deps.config.ivs.workspace,
    ...(listing.material ? { material: listing.material } : {}),
    ...(deps.config.ivs.rotateAfterMs !== undefined ? { rotateAfterMs: deps.config.ivs.rotateAfterMs } : {}),
  });
  const message = { response_type: 'in_channel' as const, text: view.text, blocks: view.blocks };
  renderedListings.set(listing, message);
  return message;
}

const ephemeral = (respond: RespondFn) => (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });

async function run(parsed: ParsedCommand, actor: Actor, channel: string, respond: RespondFn, deps: ListenerDeps): Promise<void> {
  const say = ephemeral(respond);
  switch (parsed.kind) {
    case 'list': {
      let listing;
      try {
        listing = await deps.catalog.list();
      } catch (err) {
        deps.log.warn({ err }, '/ivs list failed');
        await say(`Could not list the secrets: ${intercomProblem(err)}.`);
        return;
      }
      await respond(secretListMessage(listing, deps));
      return;
    }
    case 'create':
      await say((await deps.requests.open(actor, channel, { action: 'create', name: parsed.name, platforms: parsed.platforms, reason: parsed.reason })).text);
      return;
    case 'delete':
      await say((await deps.requests.open(actor, channel, { action: 'delete', secretId: parsed.secretId, reason: parsed.reason, force: parsed.force })).text);
      return;
    case 'rotate':
      await say(
        (await deps.requests.open(actor, channel, { action: 'rotate', secretId: parsed.secretId, reason: parsed.reason, compromised: parsed.compromised })).text,
      );
      return;
    case 'plan':
      await say(await runPlan(parsed.target, deps));
      return;
    case 'requests': {
      const view = renderRequestList(await deps.requests.listOpen(), { now: deps.now() });
      await respond({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      return;
    }
    case 'status': {
      const request = await deps.requests.get(parsed.requestId);
      if (!request) {
        await say(`There is no request ${parsed.requestId}.`);
        return;
      }
      const history = await deps.audit.history(request.id).then(
        (h) => h.entries,
        (err: unknown) => {
          deps.log.warn({ err, requestId: request.id }, 'audit history unreadable for /ivs status');
          return undefined;
        },
      );
      const view = renderRequestStatus(request, { now: deps.now(), minOverlapMs: deps.config.ivs.minOverlapMs, ...(history ? { history } : {}) });
      await respond({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      return;
    }
    case 'audit': {
      const history = await deps.audit.history(parsed.requestId);
      if (history.entries.length === 0) {
        await say(`The audit stream has no events for ${parsed.requestId}.${history.chain.ok ? '' : ` WARNING: the audit chain is broken at ${history.chain.brokenAt}: ${history.chain.why}`}`);
        return;
      }
      const view = renderAuditHistory(parsed.requestId, history);
      await respond({ response_type: 'ephemeral', text: view.text, blocks: view.blocks });
      return;
    }
    case 'cancel':
      await say((await deps.requests.cancel(actor, parsed.requestId)).text);
      return;
    case 'withdraw':
      await say((await deps.requests.withdraw(actor, parsed.requestId)).text);
      return;
    default:
      await say(renderUsage());
  }
}
