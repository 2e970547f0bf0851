/**
 * SPEC §10 reminder: the secrets due for rotation, each with its age and a **Rotate** button that
 * opens the same request `/ivs rotate <id>` opens, in the clicker's name. The button carries the
 * workspace and the secret id and nothing else; what it opens is decided from Intercom's listing at the click.
 */
import type { RotationReminder } from '../../core/ports';
import { escapeBounded, daysText, slackDate, truncate } from '../mrkdwn';
import { button, context, header, LIMITS, section, type KnownBlock, type MessageView } from './block-kit';
import { nameText, platformsText, secretIdText } from './describe';

export const ROTATE_DUE_ACTION_ID = 'ivs_rotate_due';
/** Each due secret's section: `ivs_reminder:<id>` (block ids must be unique in a message). */
export const REMINDER_BLOCK_PREFIX = 'ivs_reminder:';

/** Room for the header, the summary and the closing context. */
const MAX_LISTED = LIMITS.blocksPerMessage - 4;

/** The button's value: the workspace and the secret id in it (ids repeat across workspaces). */
export function rotateDueValue(workspace: string, secretId: string): string {
  return `${workspace}/${secretId}`;
}

/** The inverse of rotateDueValue; a bare id (a reminder posted before workspaces) names no workspace. */
export function parseRotateDueValue(value: string): { workspace?: string; secretId: string } {
  const slash = value.lastIndexOf('/');
  return slash < 0 ? { secretId: value } : { workspace: value.slice(0, slash), secretId: value.slice(slash + 1) };
}

export function renderRotationReminder(reminder: RotationReminder): MessageView {
  const { due } = reminder;
  const workspace = escapeBounded(reminder.workspace, 64);
  const policy = daysText(reminder.rotateAfterMs);
  const blocks: KnownBlock[] = [
    header(`Secrets due for rotation · ${truncate(reminder.workspace, 64)}`),
    section(
      `:calendar: *${due.length} identity verification secret${due.length === 1 ? ' is' : 's are'} older than the rotation policy (${policy})* ` +
        `in Intercom workspace \`${workspace}\`. *Rotate* opens the same request as \`/ivs rotate &lt;id&gt;\`, in your name; it still needs its approvals.`,
      'ivs_reminder_summary',
    ),
  ];
  for (const { secret, ageMs } of due.slice(0, MAX_LISTED)) {
    const block = section(
      `${secretIdText(secret.id)} ${nameText(secret.name)} · ${platformsText(secret.platforms)} · *${daysText(ageMs)} old* (created ${slackDate(secret.createdAt * 1000)})`,
      `${REMINDER_BLOCK_PREFIX}${truncate(secret.id, 200)}`,
    );
    block.accessory = button({ actionId: ROTATE_DUE_ACTION_ID, text: 'Rotate', value: rotateDueValue(reminder.workspace, secret.id), style: 'primary' });
    blocks.push(block);
  }
  const more = due.length > MAX_LISTED ? `…and ${due.length - MAX_LISTED} more (\`/ivs list\` shows them all). ` : '';
  blocks.push(context(`${more}The next reminder comes only while a due secret has no open rotation, and at most once per reminder interval.`));
  const ids = due.map((d) => d.secret.id).join(', ');
  return {
    text: truncate(`${due.length} secret${due.length === 1 ? '' : 's'} due for rotation in ${workspace}: ${escapeBounded(ids, 300)}`, LIMITS.fallbackText),
    blocks,
  };
}
