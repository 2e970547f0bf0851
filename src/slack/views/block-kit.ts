/**
 * Small Block Kit builders that keep every view inside Slack's limits (the table, with its
 * references, is BLOCK_KIT in block-kit-limits.ts): a view that breaks a limit is refused by Slack
 * with `invalid_blocks`, and a refused card is a request nobody can approve.
 */
import type { types } from '@slack/bolt';
import { truncate } from '../mrkdwn';
import { BLOCK_KIT } from './block-kit-limits';

// Bolt re-exports @slack/types; going through it keeps us on a declared dependency.
export type KnownBlock = types.KnownBlock;
export type ModalView = types.ModalView;
export type View = types.View;
type Button = types.Button;
type ConfirmationDialog = types.ConfirmationDialog;
type SectionBlock = types.SectionBlock;

/** What a message view returns: `text` is the notification fallback Slack requires next to blocks. */
export interface MessageView {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

/** The documented limits the builders cut to (from BLOCK_KIT), and our own bound of a fallback. */
export const LIMITS = {
  blocksPerMessage: BLOCK_KIT.blocksPerMessage.max,
  sectionText: BLOCK_KIT.sectionText.max,
  fieldText: BLOCK_KIT.fieldText.max,
  fieldsPerSection: BLOCK_KIT.sectionFields.max,
  headerText: BLOCK_KIT.headerText.max,
  contextElements: BLOCK_KIT.contextElements.max,
  buttonText: BLOCK_KIT.buttonText.max,
  confirmTitle: BLOCK_KIT.confirmTitle.max,
  confirmText: BLOCK_KIT.confirmText.max,
  confirmButton: BLOCK_KIT.confirmButton.max,
  /** Slack cuts a message's `text` at 40 000; a fallback is a notification line, so keep it short. */
  fallbackText: 500,
} as const;

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.headerText), emoji: true } };
}

/** A mrkdwn section. The caller has escaped person-typed parts; the bound here is the last guard. */
export function section(text: string, blockId?: string): SectionBlock {
  const block: SectionBlock = { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
  if (blockId !== undefined) block.block_id = blockId;
  return block;
}

export function fields(items: readonly string[]): SectionBlock {
  return {
    type: 'section',
    fields: items.slice(0, LIMITS.fieldsPerSection).map((t) => ({ type: 'mrkdwn' as const, text: truncate(t, LIMITS.fieldText) })),
  };
}

export function context(...texts: string[]): KnownBlock {
  return {
    type: 'context',
    elements: texts.slice(0, LIMITS.contextElements).map((t) => ({ type: 'mrkdwn' as const, text: truncate(t, LIMITS.sectionText) })),
  };
}

export function divider(): KnownBlock {
  return { type: 'divider' };
}

export function button(input: { actionId: string; text: string; value: string; style?: 'primary' | 'danger'; confirm?: ConfirmationDialog }): Button {
  const b: Button = {
    type: 'button',
    action_id: input.actionId,
    text: { type: 'plain_text', text: truncate(input.text, LIMITS.buttonText), emoji: true },
    value: input.value,
  };
  if (input.style) b.style = input.style;
  if (input.confirm) b.confirm = input.confirm;
  return b;
}

/**
 * A confirm dialog: every part plain_text, as the confirmation dialog object documents it (so the
 * caller passes names unescaped: plain text cannot ping or link anyone).
 */
export function confirmDialog(input: { title: string; text: string; confirm: string; deny?: string; style?: 'primary' | 'danger' }): ConfirmationDialog {
  const dialog: ConfirmationDialog = {
    title: { type: 'plain_text', text: truncate(input.title, LIMITS.confirmTitle) },
    text: { type: 'plain_text', text: truncate(input.text, LIMITS.confirmText) },
    confirm: { type: 'plain_text', text: truncate(input.confirm, LIMITS.confirmButton) },
    deny: { type: 'plain_text', text: truncate(input.deny ?? 'Cancel', LIMITS.confirmButton) },
  };
  if (input.style) dialog.style = input.style;
  return dialog;
}

/**
 * Packs lines into as few sections as fit in 3000 characters each, using at most `maxBlocks`
 * blocks; lines that do not fit are counted in a closing "…and N more" context.
 */
export function linesToSections(lines: readonly string[], maxBlocks: number, noun: string): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let current = '';
  let index = 0;
  const budgetForSections = Math.max(0, maxBlocks - 1); // keep one block for the "more" note
  for (; index < lines.length; index++) {
    const line = truncate(lines[index] as string, LIMITS.sectionText);
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= LIMITS.sectionText) {
      current = candidate;
      continue;
    }
    if (blocks.length + 1 >= budgetForSections) {
      // The section being filled is the last one allowed.
      break;
    }
    blocks.push(section(current));
    current = line;
  }
  if (current !== '') blocks.push(section(current));
  const left = lines.length - index;
  if (left > 0) blocks.push(context(`…and ${left} more ${noun} not shown (Slack allows ${LIMITS.blocksPerMessage} blocks per message).`));
  return blocks;
}
