import { describe, expect, it } from 'vitest';
import { COMMAND_WORDS } from '../../src/slack/command-parser';
import { createRequestModal, readCreateModal } from '../../src/slack/views/modals';
import { renderUsage } from '../../src/slack/views/usage';
import { splitWorkspaceWord } from '../../src/slack/workspaces';

const names = ['us', 'eu', 'list-archive'];
const resolve = (word: string) => names.find((n) => n === word.toLowerCase());
const isCommand = (word: string) => (COMMAND_WORDS as readonly string[]).includes(word);

describe('the workspace word in front of a command', () => {
  it.each([
    ['eu list', { workspace: 'eu', rest: 'list' }],
    ['EU rotate 102 yearly', { workspace: 'eu', rest: 'rotate 102 yearly' }],
    ['  us   create web Web 2027', { workspace: 'us', rest: 'create web Web 2027' }],
    ['eu', { workspace: 'eu', rest: '' }],
    ['list', { rest: 'list' }],
    ['au list', { rest: 'au list' }],
    ['', { rest: '' }],
  ])('%j → %j', (text, expected) => {
    expect(splitWorkspaceWord(text, resolve, isCommand)).toEqual(expected);
  });

  it('a subcommand word is always the subcommand, even where a workspace has that name', () => {
    expect(splitWorkspaceWord('list', () => 'list', isCommand)).toEqual({ rest: 'list' });
  });
});

describe("help and the create form name the channel's workspaces", () => {
  it('help says which workspaces the channel serves and how to name one', () => {
    expect(renderUsage(['us', 'eu'])).toContain('This channel serves the Intercom workspaces `us`, `eu`. Name the workspace first');
    expect(renderUsage(['eu'])).toContain('This channel serves the Intercom workspace `eu`; a command may name it first');
    expect(renderUsage()).not.toContain('This channel serves');
  });

  it('the form offers a choice only when there is one to make, and reads it', () => {
    expect(JSON.stringify(createRequestModal({ workspaces: ['eu'] }))).not.toContain('static_select');
    const view = createRequestModal({ workspaces: ['us', 'eu'] });
    expect(view.blocks[0]).toMatchObject({ block_id: 'workspace', element: { type: 'static_select', options: [{ value: 'us' }, { value: 'eu' }] } });
    const read = readCreateModal({
      workspace: { workspace: { selected_option: { value: 'eu' } } },
      name: { name: { value: 'Web' } },
      platforms: { platforms: { selected_options: [{ value: 'web' }] } },
    });
    expect(read).toEqual({ ok: true, value: { name: 'Web', platforms: ['web'], reason: '', workspace: 'eu' } });
  });
});
