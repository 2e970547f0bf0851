import { describe, expect, it } from 'vitest';
import {
  CREATE_MODAL_CALLBACK_ID,
  createRequestModal,
  readCreateModal,
  readRejectModal,
  REJECT_MODAL_CALLBACK_ID,
  rejectReasonModal,
} from '../../../src/slack/views/modals';

function input(value: string | null) {
  return { type: 'plain_text_input', value };
}
function checked(...values: string[]) {
  return { type: 'checkboxes', selected_options: values.map((v) => ({ text: { type: 'plain_text', text: v }, value: v })) };
}

describe('the reject modal', () => {
  it('carries the request id and the step fingerprint the card showed in private_metadata, and asks for a reason of at most 300 characters', () => {
    const view = rejectReasonModal('R-7F3K2Q', '1a2b-3c4d');
    expect(view.callback_id).toBe(REJECT_MODAL_CALLBACK_ID);
    expect(view.callback_id).toBe('ivs_reject_modal');
    expect(view.private_metadata).toBe('R-7F3K2Q/1a2b-3c4d');
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(view.blocks).toHaveLength(1);
    expect(view.blocks[0]).toMatchObject({
      type: 'input',
      block_id: 'reason',
      element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 300 },
    });
  });

  it('reads the reason, trimmed', () => {
    expect(readRejectModal({ reason: { reason: input('  not now  ') } })).toEqual({ ok: true, value: { reason: 'not now' } });
  });

  it('refuses an empty reason with an error on the reason block', () => {
    expect(readRejectModal({ reason: { reason: input('   ') } })).toEqual({
      ok: false,
      errors: { reason: 'Say why, so the requester knows what to change.' },
    });
    expect(readRejectModal({})).toMatchObject({ ok: false, errors: { reason: expect.any(String) } });
  });

  it('refuses a reason over 300 characters', () => {
    expect(readRejectModal({ reason: { reason: input('r'.repeat(301)) } })).toEqual({
      ok: false,
      errors: { reason: 'The reason is 301 characters long; the limit is 300.' },
    });
  });
});

describe('the create modal', () => {
  it('has a name input, platform checkboxes and an optional reason', () => {
    const view = createRequestModal();
    expect(view.callback_id).toBe(CREATE_MODAL_CALLBACK_ID);
    expect(view.callback_id).toBe('ivs_create_modal');
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    expect(view.submit!.text.length).toBeLessThanOrEqual(24);
    expect(view.blocks.map((b) => (b as { block_id?: string }).block_id)).toEqual(['name', 'platforms', 'reason']);
    expect(view.blocks[0]).toMatchObject({ element: { type: 'plain_text_input', action_id: 'name', max_length: 80 } });
    expect(view.blocks[1]).toMatchObject({ element: { type: 'checkboxes', action_id: 'platforms' } });
    const options = (view.blocks[1] as { element: { options: Array<{ value: string }> } }).element.options;
    expect(options.map((o) => o.value)).toEqual(['web', 'ios', 'android']);
    expect(view.blocks[2]).toMatchObject({ optional: true, element: { action_id: 'reason', max_length: 300 } });
  });

  it('reads name, platforms in canonical order, and reason', () => {
    const values = {
      name: { name: input(' Production Web ') },
      platforms: { platforms: checked('android', 'web') },
      reason: { reason: input(null) },
    };
    expect(readCreateModal(values)).toEqual({ ok: true, value: { name: 'Production Web', platforms: ['web', 'android'], reason: '' } });
  });

  it('reports every problem at once, keyed by block id', () => {
    const values = {
      name: { name: input('') },
      platforms: { platforms: checked() },
      reason: { reason: input('r'.repeat(301)) },
    };
    expect(readCreateModal(values)).toEqual({
      ok: false,
      errors: {
        name: 'Give the secret a name.',
        platforms: 'Choose at least one platform.',
        reason: 'The reason is 301 characters long; the limit is 300.',
      },
    });
  });

  it('refuses a name too long, spanning lines or carrying a request id tag', () => {
    const withName = (name: string) => readCreateModal({ name: { name: input(name) }, platforms: { platforms: checked('web') } });
    expect(withName('n'.repeat(81))).toEqual({ ok: false, errors: { name: 'The name is 81 characters long; the limit is 80.' } });
    expect(withName('a\nb')).toEqual({ ok: false, errors: { name: 'The name must be on one line.' } });
    expect(withName('X [R-7F3K2Q]')).toEqual({
      ok: false,
      errors: { name: 'The name may not contain a request id tag such as [R-7F3K2Q]: the bot adds its own.' },
    });
  });

  it('refuses a platform value it did not offer', () => {
    expect(readCreateModal({ name: { name: input('X') }, platforms: { platforms: checked('web', 'windows') } })).toEqual({
      ok: false,
      errors: { platforms: 'Choose from web, ios and android.' },
    });
  });
});

describe("with Bolt's types", () => {
  it('reads view.state.values exactly as Bolt types them', () => {
    const values: import('@slack/bolt').ViewOutput['state']['values'] = {
      name: { name: { type: 'plain_text_input', value: 'Prod' } },
      platforms: { platforms: { type: 'checkboxes', selected_options: [{ text: { type: 'plain_text', text: 'ios' }, value: 'ios' }] } },
      reason: { reason: { type: 'plain_text_input', value: 'why' } },
    };
    expect(readCreateModal(values)).toEqual({ ok: true, value: { name: 'Prod', platforms: ['ios'], reason: 'why' } });
  });
});
