/**
 * Block Kit as Slack documents it: the one table of the limits every view the bot renders must keep,
 * each with the reference page it comes from, and a checker that walks a message or a modal and
 * names every place that breaks one. Slack answers `invalid_blocks` to a view that breaks a limit,
 * and a card that never appears is a request nobody can approve; no double notices that, so the
 * tests run every view through `blockKitProblems`.
 */

const REF = 'https://docs.slack.dev/reference/block-kit';

/** Documented limits (characters unless said otherwise), and where each is documented. */
export const BLOCK_KIT = {
  /** https://docs.slack.dev/reference/block-kit/blocks: "up to 50 blocks in each message, and 100 blocks in modals". */
  blocksPerMessage: { max: 50, ref: `${REF}/blocks` },
  blocksPerModal: { max: 100, ref: `${REF}/blocks` },
  /** Every block's `block_id`. */
  blockId: { max: 255, ref: `${REF}/blocks` },
  /** https://docs.slack.dev/reference/block-kit/blocks/header-block: `text`, plain_text only. */
  headerText: { max: 150, ref: `${REF}/blocks/header-block` },
  /** https://docs.slack.dev/reference/block-kit/blocks/section-block */
  sectionText: { max: 3000, ref: `${REF}/blocks/section-block` },
  sectionFields: { max: 10, ref: `${REF}/blocks/section-block` },
  fieldText: { max: 2000, ref: `${REF}/blocks/section-block` },
  /** https://docs.slack.dev/reference/block-kit/blocks/context-block: up to 10 elements. */
  contextElements: { max: 10, ref: `${REF}/blocks/context-block` },
  /** https://docs.slack.dev/reference/block-kit/blocks/actions-block: up to 25 elements. */
  actionsElements: { max: 25, ref: `${REF}/blocks/actions-block` },
  /** https://docs.slack.dev/reference/block-kit/block-elements/button-element */
  buttonText: { max: 75, ref: `${REF}/block-elements/button-element` },
  actionId: { max: 255, ref: `${REF}/block-elements/button-element` },
  buttonValue: { max: 2000, ref: `${REF}/block-elements/button-element` },
  /** https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object: all four plain_text. */
  confirmTitle: { max: 100, ref: `${REF}/composition-objects/confirmation-dialog-object` },
  confirmText: { max: 300, ref: `${REF}/composition-objects/confirmation-dialog-object` },
  confirmButton: { max: 30, ref: `${REF}/composition-objects/confirmation-dialog-object` },
  /** https://docs.slack.dev/reference/block-kit/blocks/input-block: `label` and `hint`, plain_text. */
  inputLabel: { max: 2000, ref: `${REF}/blocks/input-block` },
  inputHint: { max: 2000, ref: `${REF}/blocks/input-block` },
  /** https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element */
  plainTextInputMaxLength: { max: 3000, ref: `${REF}/block-elements/plain-text-input-element` },
  placeholder: { max: 150, ref: `${REF}/block-elements/plain-text-input-element` },
  /** https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element: up to 10 options. */
  checkboxOptions: { max: 10, ref: `${REF}/block-elements/checkboxes-element` },
  /** https://docs.slack.dev/reference/block-kit/composition-objects/option-object */
  optionText: { max: 75, ref: `${REF}/composition-objects/option-object` },
  optionValue: { max: 150, ref: `${REF}/composition-objects/option-object` },
  optionDescription: { max: 75, ref: `${REF}/composition-objects/option-object` },
  /** https://docs.slack.dev/reference/views/modal-views (view object): title, submit, close plain_text. */
  modalTitle: { max: 24, ref: 'https://docs.slack.dev/reference/views/modal-views' },
  modalButton: { max: 24, ref: 'https://docs.slack.dev/reference/views/modal-views' },
  privateMetadata: { max: 3000, ref: 'https://docs.slack.dev/reference/views/modal-views' },
  callbackId: { max: 255, ref: 'https://docs.slack.dev/reference/views/modal-views' },
  /** https://docs.slack.dev/reference/methods/chat.postMessage: `text` is truncated beyond 40,000. */
  messageText: { max: 40_000, ref: 'https://docs.slack.dev/reference/methods/chat.postMessage' },
} as const;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The problems of one message (`text` + `blocks`) or one modal view; empty when Slack would take it. */
export function blockKitProblems(surface: 'message' | 'modal', view: unknown): string[] {
  const problems: string[] = [];
  const fail = (where: string, what: string, limit?: { max: number; ref: string }) =>
    problems.push(`${where}: ${what}${limit ? ` (limit ${limit.max}, ${limit.ref})` : ''}`);

  const atMost = (where: string, length: number, limit: { max: number; ref: string }) => {
    if (length > limit.max) fail(where, `${length} is too many`, limit);
  };
  /** A text object of an allowed type, non-empty, within its limit. */
  const text = (where: string, v: unknown, types: ReadonlyArray<'plain_text' | 'mrkdwn'>, limit: { max: number; ref: string }) => {
    if (!isObject(v) || typeof v['text'] !== 'string') return fail(where, 'is not a text object');
    if (!types.includes(v['type'] as 'plain_text')) return fail(where, `is ${String(v['type'])}, must be ${types.join(' or ')}`, limit);
    const t = v['text'];
    if (t.length === 0) fail(where, 'is empty');
    if (t.length > limit.max) fail(where, `has ${t.length} characters`, limit);
  };
  const id = (where: string, v: unknown, limit: { max: number; ref: string }, required = false) => {
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || v.length === 0) return fail(where, 'is missing');
    if (v.length > limit.max) fail(where, `has ${v.length} characters`, limit);
  };
  const confirm = (where: string, v: unknown) => {
    if (!isObject(v)) return fail(where, 'is not a confirmation dialog');
    text(`${where}.title`, v['title'], ['plain_text'], BLOCK_KIT.confirmTitle);
    text(`${where}.text`, v['text'], ['plain_text'], BLOCK_KIT.confirmText);
    text(`${where}.confirm`, v['confirm'], ['plain_text'], BLOCK_KIT.confirmButton);
    text(`${where}.deny`, v['deny'], ['plain_text'], BLOCK_KIT.confirmButton);
    if (v['style'] !== undefined && v['style'] !== 'primary' && v['style'] !== 'danger') fail(`${where}.style`, `is ${String(v['style'])}`);
  };
  const option = (where: string, v: unknown, types: ReadonlyArray<'plain_text' | 'mrkdwn'>) => {
    if (!isObject(v)) return fail(where, 'is not an option');
    text(`${where}.text`, v['text'], types, BLOCK_KIT.optionText);
    id(`${where}.value`, v['value'], BLOCK_KIT.optionValue, true);
    if (v['description'] !== undefined) text(`${where}.description`, v['description'], types, BLOCK_KIT.optionDescription);
  };
  const element = (where: string, v: unknown) => {
    if (!isObject(v)) return fail(where, 'is not an element');
    switch (v['type']) {
      case 'button':
        text(`${where}.text`, v['text'], ['plain_text'], BLOCK_KIT.buttonText);
        id(`${where}.action_id`, v['action_id'], BLOCK_KIT.actionId, true);
        id(`${where}.value`, v['value'], BLOCK_KIT.buttonValue);
        if (v['style'] !== undefined && v['style'] !== 'primary' && v['style'] !== 'danger') fail(`${where}.style`, `is ${String(v['style'])}`);
        if (v['confirm'] !== undefined) confirm(`${where}.confirm`, v['confirm']);
        return;
      case 'plain_text_input':
        id(`${where}.action_id`, v['action_id'], BLOCK_KIT.actionId);
        if (typeof v['max_length'] === 'number' && v['max_length'] > BLOCK_KIT.plainTextInputMaxLength.max) {
          fail(`${where}.max_length`, `is ${v['max_length']}`, BLOCK_KIT.plainTextInputMaxLength);
        }
        if (v['placeholder'] !== undefined) text(`${where}.placeholder`, v['placeholder'], ['plain_text'], BLOCK_KIT.placeholder);
        return;
      case 'checkboxes': {
        id(`${where}.action_id`, v['action_id'], BLOCK_KIT.actionId);
        const options = list(v['options']);
        if (options.length === 0) fail(`${where}.options`, 'is empty');
        atMost(`${where}.options`, options.length, BLOCK_KIT.checkboxOptions);
        options.forEach((o, i) => {
          option(`${where}.options[${i}]`, o, ['plain_text', 'mrkdwn']);
        });
        return;
      }
      default:
        // An element this checker does not know is one nobody has checked against the reference.
        return fail(where, `element type ${String(v['type'])} is not checked here: add its limits`);
    }
  };
  const block = (where: string, v: unknown) => {
    if (!isObject(v)) return fail(where, 'is not a block');
    id(`${where}.block_id`, v['block_id'], BLOCK_KIT.blockId);
    switch (v['type']) {
      case 'header':
        return text(`${where}.text`, v['text'], ['plain_text'], BLOCK_KIT.headerText);
      case 'section': {
        if (v['text'] === undefined && v['fields'] === undefined) fail(where, 'has neither text nor fields');
        if (v['text'] !== undefined) text(`${where}.text`, v['text'], ['plain_text', 'mrkdwn'], BLOCK_KIT.sectionText);
        const fields = list(v['fields']);
        atMost(`${where}.fields`, fields.length, BLOCK_KIT.sectionFields);
        fields.forEach((f, i) => {
          text(`${where}.fields[${i}]`, f, ['plain_text', 'mrkdwn'], BLOCK_KIT.fieldText);
        });
        if (v['accessory'] !== undefined) element(`${where}.accessory`, v['accessory']);
        return;
      }
      case 'context': {
        const elements = list(v['elements']);
        if (elements.length === 0) fail(`${where}.elements`, 'is empty');
        atMost(`${where}.elements`, elements.length, BLOCK_KIT.contextElements);
        elements.forEach((e, i) => {
          text(`${where}.elements[${i}]`, e, ['plain_text', 'mrkdwn'], BLOCK_KIT.sectionText);
        });
        return;
      }
      case 'actions': {
        const elements = list(v['elements']);
        if (elements.length === 0) fail(`${where}.elements`, 'is empty');
        atMost(`${where}.elements`, elements.length, BLOCK_KIT.actionsElements);
        elements.forEach((e, i) => {
          element(`${where}.elements[${i}]`, e);
        });
        return;
      }
      case 'divider':
        return;
      case 'input':
        if (surface !== 'modal') fail(where, 'an input block belongs in a modal');
        text(`${where}.label`, v['label'], ['plain_text'], BLOCK_KIT.inputLabel);
        if (v['hint'] !== undefined) text(`${where}.hint`, v['hint'], ['plain_text'], BLOCK_KIT.inputHint);
        return element(`${where}.element`, v['element']);
      default:
        return fail(where, `block type ${String(v['type'])} is not checked here: add its limits`);
    }
  };

  if (!isObject(view)) return ['the view is not an object'];
  const blocks = list(view['blocks']);
  if (surface === 'message') {
    const t = view['text'];
    // The fallback is what notifications and screen readers show; Slack wants one next to blocks.
    if (typeof t !== 'string' || t.trim() === '') fail('text', 'is missing (the notification fallback)');
    else if (t.length > BLOCK_KIT.messageText.max) fail('text', `has ${t.length} characters`, BLOCK_KIT.messageText);
    atMost('blocks', blocks.length, BLOCK_KIT.blocksPerMessage);
  } else {
    if (view['type'] !== 'modal') fail('type', `is ${String(view['type'])}, must be modal`);
    text('title', view['title'], ['plain_text'], BLOCK_KIT.modalTitle);
    if (view['submit'] !== undefined) text('submit', view['submit'], ['plain_text'], BLOCK_KIT.modalButton);
    if (view['close'] !== undefined) text('close', view['close'], ['plain_text'], BLOCK_KIT.modalButton);
    id('callback_id', view['callback_id'], BLOCK_KIT.callbackId);
    if (typeof view['private_metadata'] === 'string') atMost('private_metadata length', view['private_metadata'].length, BLOCK_KIT.privateMetadata);
    if (blocks.length === 0) fail('blocks', 'is empty');
    atMost('blocks', blocks.length, BLOCK_KIT.blocksPerModal);
  }
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    block(`blocks[${i}]`, b);
    const blockId = isObject(b) ? b['block_id'] : undefined;
    if (typeof blockId === 'string') {
      if (ids.has(blockId)) fail(`blocks[${i}].block_id`, `${blockId} is used twice (block_id must be unique)`, BLOCK_KIT.blockId);
      ids.add(blockId);
    }
  });
  return problems;
}
