/**
 * Block Kit → DOM for the sandbox page: every block and element the bot's views use
 * (src/slack/views/: header, section with text/fields/accessory, context, divider, actions, buttons
 * with style and confirm, input with plain_text_input / checkboxes / static_select / radio_buttons,
 * modals). What the bot sends is data, read defensively: anything unknown or malformed is shown as
 * "unsupported block: <type>" / "unsupported element: <type>" instead of vanishing, and all text goes
 * in through `textContent` (see mrkdwn.ts).
 */
import { replaceEmoji } from './emoji';
import { renderMrkdwn, type RenderContext } from './mrkdwn';

export interface ConfirmSpec {
  readonly title: string;
  /** mrkdwn or plain text object as the bot sent it. */
  readonly text: TextObject;
  readonly confirm: string;
  readonly deny: string;
  readonly style?: 'primary' | 'danger';
}

export interface ButtonAction {
  readonly text: string;
  readonly actionId: string;
  readonly blockId?: string;
  readonly value?: string;
  readonly confirm?: ConfirmSpec;
}

export interface BlockHandlers {
  /** A button was pressed (the confirm dialog, if any, is the handler's to show). */
  onButton?(action: ButtonAction, button: HTMLButtonElement): void;
}

export interface TextObject {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function asTextObject(value: unknown): TextObject | undefined {
  if (!isObject(value)) return undefined;
  const text = str(value['text']);
  if (text === undefined) return undefined;
  if (value['type'] === 'mrkdwn') return { type: 'mrkdwn', text };
  if (value['type'] === 'plain_text') return { type: 'plain_text', text, emoji: value['emoji'] !== false };
  return undefined;
}

/** Plain text as Slack shows it: literal characters (no entity decoding), shortcodes as emoji unless `emoji: false`. */
export function plainText(value: unknown): string {
  const t = asTextObject(value);
  if (!t) return '';
  return t.type === 'plain_text' && t.emoji !== false ? replaceEmoji(t.text) : t.text;
}

/** A text object as nodes: mrkdwn parsed, plain text literal. */
export function renderText(value: unknown, ctx: RenderContext, className = 'bk-text'): HTMLElement {
  const t = asTextObject(value);
  const box = el('div', className);
  if (!t) {
    box.append(unsupported('element', isObject(value) ? String(value['type'] ?? 'text') : 'text'));
    return box;
  }
  if (t.type === 'mrkdwn') {
    box.classList.add('mrkdwn');
    box.append(renderMrkdwn(t.text, ctx));
  } else {
    box.classList.add('plain');
    box.textContent = plainText(t);
  }
  return box;
}

export function unsupported(kind: 'block' | 'element', type: string): HTMLElement {
  const node = el('div', `bk-unsupported bk-unsupported-${kind}`, `unsupported ${kind}: ${type || '(no type)'}`);
  node.setAttribute('role', 'note');
  return node;
}

export interface BlockOptions extends BlockHandlers {
  /** Submission errors by block_id (from `response_action: errors`), shown under their input. */
  readonly errors?: Readonly<Record<string, string>>;
}

/** A list of blocks (a message or a view body). */
export function renderBlocks(blocks: unknown, ctx: RenderContext, opts: BlockOptions = {}): HTMLElement {
  const box = el('div', 'bk-blocks');
  if (!Array.isArray(blocks)) {
    box.append(unsupported('block', typeof blocks));
    return box;
  }
  for (const block of blocks) box.append(renderBlock(block, ctx, opts));
  return box;
}

export function renderBlock(block: unknown, ctx: RenderContext, opts: BlockOptions = {}): HTMLElement {
  if (!isObject(block)) return unsupported('block', typeof block);
  const type = str(block['type']) ?? '';
  const blockId = str(block['block_id']);
  let node: HTMLElement;
  switch (type) {
    case 'header': {
      node = el('div', 'bk-header');
      node.setAttribute('role', 'heading');
      node.setAttribute('aria-level', '3');
      node.textContent = plainText(block['text']);
      break;
    }
    case 'section':
      node = renderSection(block, ctx, opts);
      break;
    case 'context': {
      node = el('div', 'bk-context');
      const elements = Array.isArray(block['elements']) ? block['elements'] : [];
      for (const item of elements) {
        if (isObject(item) && (item['type'] === 'mrkdwn' || item['type'] === 'plain_text')) node.append(renderText(item, ctx, 'bk-context-item'));
        else node.append(unsupported('element', isObject(item) ? (str(item['type']) ?? '') : typeof item));
      }
      break;
    }
    case 'divider':
      node = el('hr', 'bk-divider');
      break;
    case 'actions': {
      node = el('div', 'bk-actions');
      const elements = Array.isArray(block['elements']) ? block['elements'] : [];
      for (const item of elements) node.append(renderElement(item, ctx, opts, blockId));
      break;
    }
    case 'input':
      node = renderInput(block, ctx, opts);
      break;
    default:
      return unsupported('block', type);
  }
  node.classList.add('bk-block');
  if (blockId) node.dataset['blockId'] = blockId;
  return node;
}

function renderSection(block: Json, ctx: RenderContext, opts: BlockOptions): HTMLElement {
  const node = el('div', 'bk-section');
  const main = el('div', 'bk-section-main');
  node.append(main);
  if (block['text'] !== undefined) main.append(renderText(block['text'], ctx, 'bk-section-text'));
  if (Array.isArray(block['fields'])) {
    const grid = el('div', 'bk-fields');
    for (const field of block['fields']) grid.append(renderText(field, ctx, 'bk-field'));
    main.append(grid);
  }
  if (block['accessory'] !== undefined) {
    const accessory = el('div', 'bk-accessory');
    accessory.append(renderElement(block['accessory'], ctx, opts, str(block['block_id'])));
    node.append(accessory);
  }
  return node;
}

function renderInput(block: Json, ctx: RenderContext, opts: BlockOptions): HTMLElement {
  const blockId = str(block['block_id']) ?? '';
  const node = el('div', 'bk-input');
  const label = el('label', 'bk-input-label', plainText(block['label']));
  if (block['optional'] === true) label.append(el('span', 'bk-optional', ' (optional)'));
  node.append(label);
  const element = renderElement(block['element'], ctx, opts, blockId, true);
  node.append(element);
  const control = element.matches('input, textarea, select') ? element : element.querySelector<HTMLElement>('input, textarea, select');
  const labelId = `lbl-${uniqueId()}`;
  label.id = labelId;
  if (control && control.matches('input[type=text], textarea, select')) {
    control.id = control.id || `ctl-${uniqueId()}`;
    label.htmlFor = control.id;
  } else {
    element.setAttribute('aria-labelledby', labelId);
  }
  const error = opts.errors?.[blockId];
  if (error !== undefined) {
    node.classList.add('bk-has-error');
    const message = el('div', 'bk-error', error);
    message.id = `err-${uniqueId()}`;
    message.setAttribute('role', 'alert');
    control?.setAttribute('aria-invalid', 'true');
    control?.setAttribute('aria-describedby', message.id);
    node.append(message);
  }
  if (block['hint'] !== undefined) node.append(el('div', 'bk-hint', plainText(block['hint'])));
  return node;
}

let counter = 0;
function uniqueId(): string {
  counter += 1;
  return String(counter);
}

function renderElement(element: unknown, ctx: RenderContext, opts: BlockOptions, blockId: string | undefined, inInput = false): HTMLElement {
  if (!isObject(element)) return unsupported('element', typeof element);
  const type = str(element['type']) ?? '';
  const actionId = str(element['action_id']) ?? '';
  switch (type) {
    case 'button':
      return renderButton(element, blockId, opts);
    case 'plain_text_input': {
      const multiline = element['multiline'] === true;
      const field = multiline ? el('textarea', 'bk-textarea') : el('input', 'bk-text-input');
      if (field instanceof HTMLInputElement) field.type = 'text';
      if (field instanceof HTMLTextAreaElement) field.rows = 3;
      const placeholder = plainText(element['placeholder']);
      if (placeholder) field.placeholder = placeholder;
      const max = element['max_length'];
      if (typeof max === 'number' && max > 0) field.maxLength = max;
      const initial = str(element['initial_value']);
      if (initial !== undefined) field.value = initial;
      tagControl(field, blockId, actionId, 'text');
      return field;
    }
    case 'checkboxes':
    case 'radio_buttons': {
      const group = el('div', type === 'checkboxes' ? 'bk-checkboxes' : 'bk-radios');
      group.setAttribute('role', type === 'checkboxes' ? 'group' : 'radiogroup');
      tagControl(group, blockId, actionId, type === 'checkboxes' ? 'checkboxes' : 'radio');
      const initial = new Set(options(element['initial_options']).map((o) => o.value));
      const initialOne = options(element['initial_option'] === undefined ? [] : [element['initial_option']])[0]?.value;
      const name = `grp-${uniqueId()}`;
      for (const option of options(element['options'])) {
        const row = el('label', 'bk-option');
        const box = el('input');
        box.type = type === 'checkboxes' ? 'checkbox' : 'radio';
        box.name = name;
        box.value = option.value;
        box.checked = initial.has(option.value) || initialOne === option.value;
        row.append(box, el('span', 'bk-option-text', option.text));
        if (option.description) row.append(el('span', 'bk-option-description', option.description));
        group.append(row);
      }
      return group;
    }
    case 'static_select': {
      const select = el('select', 'bk-select');
      tagControl(select, blockId, actionId, 'select');
      const placeholder = el('option', undefined, plainText(element['placeholder']) || 'Choose an option');
      placeholder.value = '';
      select.append(placeholder);
      const initial = options(element['initial_option'] === undefined ? [] : [element['initial_option']])[0]?.value;
      const addOptions = (parent: HTMLElement, list: unknown) => {
        for (const option of options(list)) {
          const opt = el('option', undefined, option.text);
          opt.value = option.value;
          opt.selected = option.value === initial;
          parent.append(opt);
        }
      };
      addOptions(select, element['options']);
      if (Array.isArray(element['option_groups'])) {
        for (const groupSpec of element['option_groups']) {
          if (!isObject(groupSpec)) continue;
          const og = el('optgroup');
          og.label = plainText(groupSpec['label']);
          addOptions(og, groupSpec['options']);
          select.append(og);
        }
      }
      if (!inInput) select.disabled = true; // a select outside a modal has nothing the sandbox sends it to
      return select;
    }
    default:
      return unsupported('element', type);
  }
}

function tagControl(node: HTMLElement, blockId: string | undefined, actionId: string, kind: string): void {
  node.classList.add('bk-control');
  node.dataset['blockId'] = blockId ?? '';
  node.dataset['actionId'] = actionId;
  node.dataset['kind'] = kind;
}

interface OptionSpec {
  readonly text: string;
  readonly value: string;
  readonly description?: string;
}

function options(list: unknown): OptionSpec[] {
  if (!Array.isArray(list)) return [];
  const out: OptionSpec[] = [];
  for (const item of list) {
    if (!isObject(item)) continue;
    const value = str(item['value']);
    if (value === undefined) continue;
    const description = item['description'] !== undefined ? plainText(item['description']) : undefined;
    out.push(description ? { text: optionText(item['text']), value, description } : { text: optionText(item['text']), value });
  }
  return out;
}

/** Option text may be mrkdwn in checkboxes; shown as its visible text either way. */
function optionText(value: unknown): string {
  const t = asTextObject(value);
  if (!t) return '';
  if (t.type === 'plain_text') return plainText(t);
  const box = document.createElement('span');
  box.append(renderMrkdwn(t.text, { users: new Map(), channels: new Map(), groups: new Map(), now: Date.now() }));
  return box.textContent ?? '';
}

export function readConfirm(value: unknown): ConfirmSpec | undefined {
  if (!isObject(value)) return undefined;
  const text = asTextObject(value['text']) ?? { type: 'plain_text' as const, text: '' };
  const style = value['style'] === 'danger' || value['style'] === 'primary' ? value['style'] : undefined;
  const spec = {
    title: plainText(value['title']) || 'Are you sure?',
    text,
    confirm: plainText(value['confirm']) || 'Yes',
    deny: plainText(value['deny']) || 'Cancel',
  };
  return style ? { ...spec, style } : spec;
}

function renderButton(element: Json, blockId: string | undefined, opts: BlockOptions): HTMLButtonElement {
  const text = plainText(element['text']);
  const button = el('button', 'bk-button', text);
  button.type = 'button';
  const style = element['style'];
  if (style === 'primary' || style === 'danger') button.classList.add(`bk-${style}`);
  const actionId = str(element['action_id']) ?? '';
  button.dataset['actionId'] = actionId;
  const confirm = readConfirm(element['confirm']);
  if (confirm) button.dataset['confirm'] = 'true';
  if (str(element['url'])) button.title = 'opens a link (not followed in the sandbox)';
  const action: ButtonAction = {
    text,
    actionId,
    ...(blockId !== undefined ? { blockId } : {}),
    ...(str(element['value']) !== undefined ? { value: str(element['value']) as string } : {}),
    ...(confirm ? { confirm } : {}),
  };
  button.addEventListener('click', () => opts.onButton?.(action, button));
  return button;
}

export type ViewValues = Record<string, Record<string, string | string[]>>;

/** The values of a rendered view's inputs, keyed like `view.state.values` (block_id → action_id → value). */
export function collectValues(root: ParentNode): ViewValues {
  const values: ViewValues = {};
  for (const control of Array.from(root.querySelectorAll<HTMLElement>('.bk-control'))) {
    const blockId = control.dataset['blockId'] ?? '';
    const actionId = control.dataset['actionId'] ?? '';
    const kind = control.dataset['kind'];
    let value: string | string[] | undefined;
    if (kind === 'text' && (control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement)) value = control.value;
    else if (kind === 'select' && control instanceof HTMLSelectElement) value = control.value;
    else if (kind === 'checkboxes') {
      value = Array.from(control.querySelectorAll<HTMLInputElement>('input[type=checkbox]'))
        .filter((b) => b.checked)
        .map((b) => b.value);
    } else if (kind === 'radio') {
      value = control.querySelector<HTMLInputElement>('input[type=radio]:checked')?.value ?? '';
    }
    if (value === undefined) continue;
    values[blockId] = { ...values[blockId], [actionId]: value };
  }
  return values;
}

/** Puts previously typed values back after a re-render (so submission errors do not wipe the form). */
export function restoreValues(root: ParentNode, values: ViewValues): void {
  for (const control of Array.from(root.querySelectorAll<HTMLElement>('.bk-control'))) {
    const value = values[control.dataset['blockId'] ?? '']?.[control.dataset['actionId'] ?? ''];
    if (value === undefined) continue;
    if ((control instanceof HTMLInputElement || control instanceof HTMLTextAreaElement || control instanceof HTMLSelectElement) && typeof value === 'string') {
      control.value = value;
    } else {
      const chosen = new Set(Array.isArray(value) ? value : [value]);
      for (const box of Array.from(control.querySelectorAll<HTMLInputElement>('input'))) box.checked = chosen.has(box.value);
    }
  }
}

export interface ViewHandlers extends BlockHandlers {
  onSubmit?(values: ViewValues): void;
  onClose?(): void;
}

/**
 * A modal view as a dialog: title bar, blocks with their submission errors, Close and Submit. The
 * caller places it in an overlay; `view.errors` is the sandbox's record of the last `response_action: errors`.
 */
export function renderModal(view: unknown, ctx: RenderContext, handlers: ViewHandlers = {}): HTMLElement {
  const dialog = el('div', 'bk-modal');
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  if (!isObject(view)) {
    dialog.append(unsupported('block', 'view'));
    return dialog;
  }
  if (view['type'] !== undefined && view['type'] !== 'modal') {
    dialog.append(unsupported('block', `view ${String(view['type'])}`));
  }
  const errors = isObject(view['errors'])
    ? Object.fromEntries(Object.entries(view['errors']).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const titleId = `title-${uniqueId()}`;
  const head = el('div', 'bk-modal-head');
  const title = el('h2', 'bk-modal-title', plainText(view['title']));
  title.id = titleId;
  dialog.setAttribute('aria-labelledby', titleId);
  const x = el('button', 'bk-modal-x', '×');
  x.type = 'button';
  x.setAttribute('aria-label', 'Close');
  x.addEventListener('click', () => handlers.onClose?.());
  head.append(title, x);

  const form = el('form', 'bk-modal-body');
  form.noValidate = true;
  form.append(renderBlocks(view['blocks'], ctx, { ...handlers, errors }));
  // Errors for blocks that are not inputs still have to show somewhere.
  const known = new Set(Array.from(form.querySelectorAll<HTMLElement>('.bk-input')).map((n) => n.dataset['blockId']));
  for (const [blockId, message] of Object.entries(errors)) {
    if (!known.has(blockId)) form.append(el('div', 'bk-error', `${blockId}: ${message}`));
  }

  const foot = el('div', 'bk-modal-foot');
  const close = el('button', 'bk-button', plainText(view['close']) || 'Cancel');
  close.type = 'button';
  close.classList.add('bk-modal-close');
  close.addEventListener('click', () => handlers.onClose?.());
  foot.append(close);
  if (view['submit'] !== undefined) {
    const submit = el('button', 'bk-button bk-primary bk-modal-submit', plainText(view['submit']));
    submit.type = 'submit';
    foot.append(submit);
  }
  form.append(foot);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    handlers.onSubmit?.(collectValues(form));
  });
  dialog.append(head, form);
  return dialog;
}

/** A confirm dialog (a button's `confirm`) as a small modal. */
export function renderConfirm(spec: ConfirmSpec, ctx: RenderContext, handlers: { onConfirm(): void; onDeny(): void }): HTMLElement {
  const dialog = el('div', 'bk-modal bk-confirm');
  dialog.setAttribute('role', 'alertdialog');
  dialog.setAttribute('aria-modal', 'true');
  const titleId = `title-${uniqueId()}`;
  const title = el('h2', 'bk-modal-title', spec.title);
  title.id = titleId;
  dialog.setAttribute('aria-labelledby', titleId);
  const head = el('div', 'bk-modal-head');
  head.append(title);
  const body = el('div', 'bk-modal-body');
  body.append(renderText(spec.text, ctx, 'bk-confirm-text'));
  const foot = el('div', 'bk-modal-foot');
  const deny = el('button', 'bk-button bk-confirm-deny', spec.deny);
  deny.type = 'button';
  deny.addEventListener('click', () => handlers.onDeny());
  const confirm = el('button', `bk-button bk-confirm-ok bk-${spec.style ?? 'primary'}`, spec.confirm);
  confirm.type = 'button';
  confirm.addEventListener('click', () => handlers.onConfirm());
  foot.append(deny, confirm);
  body.append(foot);
  dialog.append(head, body);
  return dialog;
}
