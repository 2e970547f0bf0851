/**
 * `/ivs list`: Intercom's secrets, one line each, and whether Vault holds each one's material.
 * A secret the bot created (its name carries `[R-XXXXXX]`) whose material is not in Vault is an
 * orphan: it verifies user hashes nobody can compute, so it is flagged loudly.
 */
import type { MaterialStatus } from '../../core/ports';
import { requestIdInName as coreRequestIdInName } from '../../core/request-id';
import { PLATFORMS, type SecretInfo } from '../../core/types';
import { isDue, secretAgeMs } from '../../core/rotation-policy';
import { escapeBounded, relativeAge, daysText, slackDate, truncate } from '../mrkdwn';
import { context, header, LIMITS, linesToSections, section, type KnownBlock, type MessageView } from './block-kit';
import { nameText, platformsText, secretIdText } from './describe';

export interface SecretListOptions {
  readonly now: number;
  /** When Intercom was asked: a list may be shown again for a few seconds, so it says its age. */
  readonly listedAt?: number;
  /** Vault's answer per secret id; omitted when Vault could not be asked (the list says so). */
  readonly material?: ReadonlyMap<string, MaterialStatus>;
  /** IVS_WORKSPACE label. */
  readonly workspace: string;
  /** The rotation policy (SPEC §10): secrets older than this are marked due, with their age. */
  readonly rotateAfterMs?: number;
}

/** The request id the bot put into a secret's name, if any. */
export function requestIdInName(name: string): string | undefined {
  return coreRequestIdInName(name) ?? undefined;
}

export function isOrphan(secret: SecretInfo, status: MaterialStatus | undefined): boolean {
  return requestIdInName(secret.name) !== undefined && status !== undefined && status !== 'present';
}

export function renderSecretList(secrets: readonly SecretInfo[], opts: SecretListOptions): MessageView {
  const workspace = escapeBounded(opts.workspace, 64);
  const head = header(`Identity verification secrets · ${truncate(opts.workspace, 64)}`);
  if (secrets.length === 0) {
    return {
      text: `No identity verification secrets in Intercom workspace ${workspace}.`,
      blocks: [
        head,
        section(
          `:information_source: *No secrets.* Intercom workspace \`${workspace}\` has no identity verification secrets, ` +
            'so Messenger identity verification cannot work on any platform. `/ivs create` opens a request for one.',
        ),
      ],
    };
  }

  const sorted = [...secrets].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const orphans = opts.material ? sorted.filter((s) => isOrphan(s, opts.material?.get(s.id))) : [];
  const lines = sorted.map((s) => secretLine(s, opts));

  const blocks: KnownBlock[] = [head, section(summaryText(sorted, opts, orphans.length), 'ivs_summary')];
  if (orphans.length > 0) {
    blocks.push(
      section(
        `:rotating_light: *${orphans.length} ORPHAN${orphans.length === 1 ? '' : 'S'}:* ${orphans.map((s) => secretIdText(s.id)).join(', ')} ` +
          `${orphans.length === 1 ? 'was' : 'were'} created by a request but Vault holds no material, so no signer can use ` +
          `${orphans.length === 1 ? 'it' : 'them'}. Delete ${orphans.length === 1 ? 'it' : 'them'} with ${orphans
            .map((o) => `\`/ivs delete ${escapeBounded(o.id, 40)}\``)
            .slice(0, 10)
            .join(', ')}.`,
        'ivs_orphans',
      ),
    );
  }
  // One block stays free for the legend.
  blocks.push(...linesToSections(lines, LIMITS.blocksPerMessage - blocks.length - 1, 'secrets'));
  const asOf =
    opts.listedAt === undefined
      ? ''
      : `Listed ${slackDate(opts.listedAt, `${new Date(opts.listedAt).toISOString().slice(0, 19).replace('T', ' ')} UTC`, '{date_short_pretty} {time_secs}')}. `;
  if (!opts.material) {
    blocks.push(context(`${asOf}:warning: Vault could not be asked: material status unknown.`));
  } else {
    blocks.push(context(`${asOf}The material lives only in Vault; the bot never shows it.`));
  }

  const orphanNote = orphans.length ? ` — ${orphans.length} ORPHAN${orphans.length === 1 ? '' : 'S'} (no material in Vault)` : '';
  return {
    text: truncate(`${secrets.length} identity verification secret${secrets.length === 1 ? '' : 's'} in ${workspace}${orphanNote}`, LIMITS.fallbackText),
    blocks,
  };
}

function summaryText(secrets: readonly SecretInfo[], opts: SecretListOptions, orphanCount: number): string {
  const perPlatform = PLATFORMS.map((p) => {
    const n = secrets.filter((s) => s.platforms.includes(p)).length;
    return `${p}: *${n}*`;
  }).join(' · ');
  const total = `*${secrets.length}* secret${secrets.length === 1 ? '' : 's'}`;
  const dueCount = secrets.filter((s) => isDue(s, opts.rotateAfterMs, opts.now)).length;
  const due = dueCount && opts.rotateAfterMs !== undefined ? ` · :calendar: *${dueCount} due for rotation* (older than ${daysText(opts.rotateAfterMs)})` : '';
  const vault = opts.material ? (orphanCount ? ` · :rotating_light: ${orphanCount} orphan${orphanCount === 1 ? '' : 's'}` : '') : '';
  return `${total} · ${perPlatform}${vault}${due}`;
}

function secretLine(secret: SecretInfo, opts: SecretListOptions): string {
  const createdMs = secret.createdAt * 1000;
  const created = `created ${relativeAge(createdMs, opts.now)} (${slackDate(createdMs)})`;
  const parts = [secretIdText(secret.id), nameText(secret.name), platformsText(secret.platforms), created];
  if (isDue(secret, opts.rotateAfterMs, opts.now)) parts.push(`:calendar: *due for rotation* (${daysText(secretAgeMs(secret, opts.now))} old)`);
  if (opts.material) parts.push(materialText(secret, opts.material.get(secret.id)));
  return parts.join(' · ');
}

function materialText(secret: SecretInfo, status: MaterialStatus | undefined): string {
  const orphan = isOrphan(secret, status);
  switch (status) {
    case 'present':
      return ':white_check_mark: in Vault';
    case 'missing':
      return orphan ? ':rotating_light: *NOT in Vault — ORPHAN*' : ':warning: *NOT in Vault*';
    case 'deleted':
      return orphan ? ':rotating_light: *deleted in Vault — ORPHAN*' : ':warning: *deleted in Vault*';
    default:
      return ':grey_question: Vault status unknown';
  }
}
