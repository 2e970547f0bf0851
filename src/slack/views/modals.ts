/**
 * Modals: the reject-reason form (opened by the Reject button) and the create form (`/ivs create`
 * with no arguments). `read*` turn `view.state.values` into typed input or errors keyed by block_id,
 * ready for `ack({ response_action: 'errors', errors })`.
 */
import { PLATFORMS, isPlatform, type Platform, type RequestId } from '../../core/types';
import { MAX_NAME_LENGTH, MAX_REASON_LENGTH, validateName, validateReason } from '../command-parser';
import type { ModalView } from './block-kit';

export const REJECT_MODAL_CALLBACK_ID = 'ivs_reject_modal';
export const CREATE_MODAL_CALLBACK_ID = 'ivs_create_modal';

/** Block and action ids of the inputs (the same string for both, as Slack keys values by both). */
export const REASON_INPUT = 'reason';
export const NAME_INPUT = 'name';
export const PLATFORMS_INPUT = 'platforms';
export const WORKSPACE_INPUT = 'workspace';

/** The part of `view.state.values` these modals read; Bolt's `ViewOutput['state']['values']` fits it. */
export type ModalStateValues = Readonly<
  Record<
    string,
    Readonly<
      Record<
        string,
        {
          readonly value?: string | null;
          readonly selected_options?: ReadonlyArray<{ readonly value?: string }>;
          readonly selected_option?: { readonly value?: string } | null;
        }
      >
    >
  >
>;

export type ModalResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: Record<string, string> };

export interface CreateInput {
  readonly name: string;
  readonly platforms: Platform[];
  readonly reason: string;
  /** The workspace chosen in the form; absent when the form offered no choice. */
  readonly workspace?: string;
}

/** Modal errors are plain text in Slack; the parser's messages are mrkdwn, so drop the markup. */
function plain(message: string): string {
  return message.replace(/`/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** `step`: the fingerprint of the step the clicked card showed; the submission rejects only that step. */
export function rejectReasonModal(requestId: RequestId, step: string): ModalView {
  return {
    type: 'modal',
    callback_id: REJECT_MODAL_CALLBACK_ID,
    // The same `id/step` form as the button's value (readDecisionValue reads both).
    private_metadata: `${requestId}/${step}`,
    title: { type: 'plain_text', text: `Reject ${requestId}`.slice(0, 24) },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: REASON_INPUT,
        label: { type: 'plain_text', text: 'Why reject it?' },
        hint: { type: 'plain_text', text: 'Posted in the request thread for everyone to read.' },
        element: {
          type: 'plain_text_input',
          action_id: REASON_INPUT,
          multiline: true,
          max_length: MAX_REASON_LENGTH,
        },
      },
    ],
  };
}

export function readRejectModal(values: ModalStateValues): ModalResult<{ reason: string }> {
  const raw = values[REASON_INPUT]?.[REASON_INPUT]?.value ?? '';
  const reason = raw.trim();
  if (reason === '') return { ok: false, errors: { [REASON_INPUT]: 'Say why, so the requester knows what to change.' } };
  const checked = validateReason(reason);
  if (!checked.ok) return { ok: false, errors: { [REASON_INPUT]: plain(checked.message) } };
  return { ok: true, value: { reason: checked.value } };
}

/**
 * `workspaces`: the choices when the channel serves several Intercom workspaces (SPEC §9); with none
 * or one, the form asks nothing about it.
 */
export function createRequestModal(opts: { readonly workspaces?: readonly string[] } = {}): ModalView {
  const choices = opts.workspaces ?? [];
  const workspaceBlock =
    choices.length > 1
      ? [
          {
            type: 'input' as const,
            block_id: WORKSPACE_INPUT,
            label: { type: 'plain_text' as const, text: 'Intercom workspace' },
            hint: { type: 'plain_text' as const, text: 'The secret is created in this workspace, with its approvers.' },
            element: {
              type: 'static_select' as const,
              action_id: WORKSPACE_INPUT,
              placeholder: { type: 'plain_text' as const, text: 'Choose a workspace' },
              options: choices.slice(0, 100).map((w) => ({ text: { type: 'plain_text' as const, text: w.slice(0, 75) }, value: w })),
            },
          },
        ]
      : [];
  return {
    type: 'modal',
    callback_id: CREATE_MODAL_CALLBACK_ID,
    title: { type: 'plain_text', text: 'New secret' },
    submit: { type: 'plain_text', text: 'Request approval' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      ...workspaceBlock,
      {
        type: 'input',
        block_id: NAME_INPUT,
        label: { type: 'plain_text', text: 'Name' },
        hint: { type: 'plain_text', text: 'As Intercom will list it; the bot appends the request id.' },
        element: {
          type: 'plain_text_input',
          action_id: NAME_INPUT,
          max_length: MAX_NAME_LENGTH,
          placeholder: { type: 'plain_text', text: 'Production Web' },
        },
      },
      {
        type: 'input',
        block_id: PLATFORMS_INPUT,
        label: { type: 'plain_text', text: 'Platforms' },
        element: {
          type: 'checkboxes',
          action_id: PLATFORMS_INPUT,
          options: PLATFORMS.map((p) => ({ text: { type: 'plain_text' as const, text: p }, value: p })),
        },
      },
      {
        type: 'input',
        block_id: REASON_INPUT,
        optional: true,
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'plain_text_input',
          action_id: REASON_INPUT,
          multiline: true,
          max_length: MAX_REASON_LENGTH,
        },
      },
    ],
  };
}

export function readCreateModal(values: ModalStateValues): ModalResult<CreateInput> {
  const errors: Record<string, string> = {};
  const name = validateName(values[NAME_INPUT]?.[NAME_INPUT]?.value ?? '');
  if (!name.ok) errors[NAME_INPUT] = plain(name.message).replace(/, e\.g\. .*$/, '.');

  const selected = (values[PLATFORMS_INPUT]?.[PLATFORMS_INPUT]?.selected_options ?? []).map((o) => o.value ?? '');
  const unknown = selected.find((v) => !isPlatform(v));
  const platforms = PLATFORMS.filter((p) => selected.includes(p));
  if (unknown !== undefined) errors[PLATFORMS_INPUT] = 'Choose from web, ios and android.';
  else if (platforms.length === 0) errors[PLATFORMS_INPUT] = 'Choose at least one platform.';

  const reason = validateReason(values[REASON_INPUT]?.[REASON_INPUT]?.value ?? '');
  if (!reason.ok) errors[REASON_INPUT] = plain(reason.message);

  const workspace = values[WORKSPACE_INPUT]?.[WORKSPACE_INPUT]?.selected_option?.value ?? undefined;

  if (!name.ok || !reason.ok || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name: name.value, platforms, reason: reason.value, ...(workspace ? { workspace } : {}) } };
}
