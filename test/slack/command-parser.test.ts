import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, MAX_REASON_LENGTH, parseCommand, parsePlatforms, parseRequestId, type ParsedCommand } from '../../src/slack/command-parser';

function invalidMessage(result: ParsedCommand): string {
  if (result.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(result)}`);
  return result.message;
}

describe('simple commands', () => {
  it('reads list, requests and help, in any case', () => {
    expect(parseCommand('list')).toEqual({ kind: 'list' });
    expect(parseCommand('  LIST  ')).toEqual({ kind: 'list' });
    expect(parseCommand('requests')).toEqual({ kind: 'requests' });
    expect(parseCommand('help')).toEqual({ kind: 'help' });
    expect(parseCommand('help create')).toEqual({ kind: 'help' });
  });

  it('treats empty text as a request for help', () => {
    expect(parseCommand('')).toEqual({ kind: 'help' });
    expect(parseCommand('   ')).toEqual({ kind: 'help' });
  });

  it('reports an unknown word so the listener can show usage', () => {
    expect(parseCommand('deploy prod')).toEqual({ kind: 'unknown', word: 'deploy' });
  });

  it('refuses arguments to list and requests', () => {
    expect(parseCommand('list all')).toEqual({ kind: 'invalid', message: '`/ivs list` takes no arguments.', usageFor: 'list' });
    expect(parseCommand('requests mine')).toEqual({
      kind: 'invalid',
      message: '`/ivs requests` takes no arguments.',
      usageFor: 'requests',
    });
  });

  it('refuses text over 1000 characters and says the limit', () => {
    const result = parseCommand(`create web ${'x'.repeat(1000)}`);
    expect(invalidMessage(result)).toBe('That command is 1011 characters long; the limit is 1000.');
  });
});

describe('create', () => {
  it('reads platforms, the rest as the name, and a reason after " -- "', () => {
    expect(parseCommand('create web,ios Production Web -- yearly rotation')).toEqual({
      kind: 'create',
      platforms: ['web', 'ios'],
      name: 'Production Web',
      reason: 'yearly rotation',
    });
  });

  it('without a reason leaves the reason empty', () => {
    expect(parseCommand('create android  Mobile  App ')).toEqual({
      kind: 'create',
      platforms: ['android'],
      name: 'Mobile  App',
      reason: '',
    });
  });

  it('orders platforms web, ios, android, deduplicates them and ignores case', () => {
    const result = parseCommand('create ANDROID,Web,ios,web X');
    expect(result).toMatchObject({ kind: 'create', platforms: ['web', 'ios', 'android'] });
  });

  it('accepts a space after a comma in the platform list', () => {
    expect(parseCommand('create web, ios Production Web')).toMatchObject({ platforms: ['web', 'ios'], name: 'Production Web' });
  });

  it('keeps a name that contains commas or dashes', () => {
    expect(parseCommand('create web Web, EU--West -- why')).toMatchObject({ name: 'Web, EU--West', reason: 'why' });
  });

  it('with no arguments opens the modal', () => {
    expect(parseCommand('create')).toEqual({ kind: 'create_modal' });
    expect(parseCommand('Create  ')).toEqual({ kind: 'create_modal' });
  });

  it('names an unknown platform in its error', () => {
    const result = parseCommand('create web,windows Desktop');
    expect(result).toEqual({
      kind: 'invalid',
      message: 'Unknown platform `windows`: use `web`, `ios` or `android` (comma-separated, e.g. `web,ios`).',
      usageFor: 'create',
    });
  });

  it('escapes an unknown platform echoed back', () => {
    expect(invalidMessage(parseCommand('create <!channel> x'))).toContain('`&lt;!channel&gt;`');
  });

  it('needs at least one platform', () => {
    expect(invalidMessage(parseCommand('create ,'))).toBe('Name at least one platform: `web`, `ios` or `android` (comma-separated, e.g. `web,ios`).');
  });

  it('needs a name', () => {
    const message = 'Give the secret a name, e.g. `/ivs create web Production Web`.';
    expect(invalidMessage(parseCommand('create web'))).toBe(message);
    expect(invalidMessage(parseCommand('create web -- only a reason'))).toBe(message);
  });

  it(`refuses a name over ${MAX_NAME_LENGTH} characters and says the limit`, () => {
    expect(parseCommand(`create web ${'n'.repeat(MAX_NAME_LENGTH)}`)).toMatchObject({ kind: 'create' });
    expect(invalidMessage(parseCommand(`create web ${'n'.repeat(MAX_NAME_LENGTH + 1)}`))).toBe('The name is 81 characters long; the limit is 80.');
  });

  it('refuses a name spanning lines', () => {
    expect(invalidMessage(parseCommand('create web Line one\nline two'))).toBe('The name must be on one line.');
  });

  it('refuses a name carrying a request id tag, which would confuse orphan reconciliation', () => {
    expect(invalidMessage(parseCommand('create web Prod [R-7F3K2Q]'))).toBe(
      'The name may not contain a request id tag such as `[R-7F3K2Q]`: the bot adds its own.',
    );
  });

  it.each([
    ['a right-to-left override', 'Prod\u202Ebew', 'U+202E, at position 5'],
    ['a zero-width space', 'Pro\u200Bd Web', 'U+200B, at position 4'],
    ['a byte-order mark', 'Pr\uFEFFod', 'U+FEFF, at position 3'],
    ['a control character', 'Prod\u0007Web', 'U+0007, at position 5'],
    ['a left-to-right isolate', 'Prod\u2066Web', 'U+2066, at position 5'],
  ])('refuses a name with %s, naming the character and where it is', (_what, name, where) => {
    expect(invalidMessage(parseCommand(`create web ${name}`))).toBe(`The name contains an invisible or control character (${where}); type it without.`);
  });

  it('refuses a reason with a bidi override or zero-width character, but keeps line breaks and tabs', () => {
    expect(invalidMessage(parseCommand('create web X -- fine \u202Eesrever'))).toBe(
      'The reason contains an invisible or control character (U+202E, at position 6); type it without.',
    );
    expect(invalidMessage(parseCommand('delete 102 looks\u200Bsame'))).toMatch(/U\+200B/);
    expect(parseCommand('create web X -- line one\n\tline two')).toMatchObject({ kind: 'create', reason: 'line one\n\tline two' });
  });

  it(`refuses a reason over ${MAX_REASON_LENGTH} characters and says the limit`, () => {
    expect(parseCommand(`create web X -- ${'r'.repeat(MAX_REASON_LENGTH)}`)).toMatchObject({ kind: 'create' });
    expect(invalidMessage(parseCommand(`create web X -- ${'r'.repeat(MAX_REASON_LENGTH + 1)}`))).toBe('The reason is 301 characters long; the limit is 300.');
  });

  it('refuses options such as --force, which belong to delete', () => {
    expect(invalidMessage(parseCommand('create web Prod --force'))).toBe('Create takes no options (got `--force`); a reason goes after ` -- `.');
  });
});

describe('delete', () => {
  it('reads the id and the rest as the reason', () => {
    expect(parseCommand('delete 102 leaked in a screenshot')).toEqual({
      kind: 'delete',
      secretId: '102',
      reason: 'leaked in a screenshot',
      force: false,
    });
  });

  it('sets force for --force anywhere in the arguments', () => {
    expect(parseCommand('delete --force 102 old')).toEqual({ kind: 'delete', secretId: '102', reason: 'old', force: true });
    expect(parseCommand('delete 102 old --force')).toEqual({ kind: 'delete', secretId: '102', reason: 'old', force: true });
    expect(parseCommand('delete 102 --FORCE old')).toMatchObject({ force: true, reason: 'old' });
  });

  it('accepts the em dash a Mac turns "--" into', () => {
    expect(parseCommand('delete 102 —force')).toMatchObject({ force: true });
  });

  it('takes everything after a bare -- as reason text, options included', () => {
    expect(parseCommand('delete 102 -- see --force docs')).toEqual({
      kind: 'delete',
      secretId: '102',
      reason: 'see --force docs',
      force: false,
    });
  });

  it('refuses an unknown option instead of reading a typo as the reason', () => {
    expect(parseCommand('delete 102 --froce')).toEqual({
      kind: 'invalid',
      message: 'Unknown option `--froce`: the only option of delete is `--force`.',
      usageFor: 'delete',
    });
  });

  it('needs a secret id', () => {
    expect(invalidMessage(parseCommand('delete'))).toBe('Which secret? `/ivs delete &lt;id&gt;`; `/ivs list` shows the ids.');
    expect(invalidMessage(parseCommand('delete --force'))).toBe('Which secret? `/ivs delete &lt;id&gt;`; `/ivs list` shows the ids.');
  });

  it('accepts ids of 1 to 32 letters, digits, _ or -', () => {
    expect(parseCommand('delete a')).toMatchObject({ secretId: 'a' });
    expect(parseCommand(`delete ${'A_b-9'.repeat(6)}xy`)).toMatchObject({ secretId: `${'A_b-9'.repeat(6)}xy` });
  });

  it('refuses a malformed or over-long id, escaping it in the message', () => {
    expect(invalidMessage(parseCommand('delete 10<2'))).toBe('`10&lt;2` is not a secret id: ids are 1–32 letters, digits, `_` or `-`. `/ivs list` shows them.');
    expect(invalidMessage(parseCommand(`delete ${'1'.repeat(33)}`))).toContain('is not a secret id');
  });

  it('refuses a reason over the limit', () => {
    expect(invalidMessage(parseCommand(`delete 102 ${'r'.repeat(301)}`))).toBe('The reason is 301 characters long; the limit is 300.');
  });
});

describe('rotate', () => {
  it('reads the id and an optional reason', () => {
    expect(parseCommand('rotate 102 yearly')).toEqual({ kind: 'rotate', secretId: '102', reason: 'yearly', compromised: false });
    expect(parseCommand('rotate 102')).toEqual({ kind: 'rotate', secretId: '102', reason: '', compromised: false });
  });

  it('refuses --force, which only delete has', () => {
    expect(parseCommand('rotate 102 --force')).toEqual({
      kind: 'invalid',
      message:
        'Rotate takes only `--compromised` (`--force` is for delete): `/ivs rotate &lt;id&gt; [reason…]` or `/ivs rotate &lt;id&gt; --compromised &lt;reason…&gt;`.',
      usageFor: 'rotate',
    });
    expect(invalidMessage(parseCommand('rotate 102 --now'))).toBe(
      'Rotate takes only `--compromised` (got `--now`): `/ivs rotate &lt;id&gt; [reason…]` or `/ivs rotate &lt;id&gt; --compromised &lt;reason…&gt;`.',
    );
  });

  it('reads --compromised wherever it stands, with its reason', () => {
    const leaked = { kind: 'rotate', secretId: '102', reason: 'pasted in a gist', compromised: true };
    expect(parseCommand('rotate 102 --compromised pasted in a gist')).toEqual(leaked);
    expect(parseCommand('rotate 102 pasted in a gist --COMPROMISED')).toEqual(leaked);
    expect(parseCommand('rotate 102 —compromised pasted in a gist')).toEqual(leaked);
  });

  it('refuses --compromised without a reason, saying what to type', () => {
    expect(parseCommand('rotate 102 --compromised')).toEqual({
      kind: 'invalid',
      message:
        'A compromised rotation needs a reason: `/ivs rotate 102 --compromised &lt;reason…&gt;` (what leaked, where, when). ' +
        'Its old secret may then be deleted without waiting for the overlap.',
      usageFor: 'rotate',
    });
    expect(invalidMessage(parseCommand('rotate 102 --compromised   '))).toMatch(/needs a reason/);
    expect(invalidMessage(parseCommand('rotate 102 --compromised --'))).toMatch(/needs a reason/);
  });

  it('keeps --compromised to rotate: delete refuses it', () => {
    expect(invalidMessage(parseCommand('delete 102 --compromised leaked'))).toBe(
      'Unknown option `--compromised`: the only option of delete is `--force` (`--compromised` is for rotate).',
    );
  });

  it('needs a valid id', () => {
    expect(invalidMessage(parseCommand('rotate'))).toBe('Which secret? `/ivs rotate &lt;id&gt;`; `/ivs list` shows the ids.');
    expect(invalidMessage(parseCommand('rotate a.b'))).toContain('`a.b` is not a secret id');
  });
});

describe('plan', () => {
  it('wraps a create, delete or rotate command without side effects', () => {
    expect(parseCommand('plan create web,ios Prod -- why')).toEqual({
      kind: 'plan',
      target: { kind: 'create', platforms: ['web', 'ios'], name: 'Prod', reason: 'why' },
    });
    expect(parseCommand('plan delete 102 --force')).toEqual({
      kind: 'plan',
      target: { kind: 'delete', secretId: '102', reason: '', force: true },
    });
    expect(parseCommand('PLAN Rotate 102')).toEqual({ kind: 'plan', target: { kind: 'rotate', secretId: '102', reason: '', compromised: false } });
    // A plan needs no reason, even for a compromised secret.
    expect(parseCommand('plan rotate 102 --compromised')).toEqual({ kind: 'plan', target: { kind: 'rotate', secretId: '102', reason: '', compromised: true } });
  });

  it('says what to plan when the target is missing or unknown', () => {
    expect(parseCommand('plan')).toEqual({ kind: 'invalid', message: 'Plan what? `/ivs plan create|delete|rotate …`.', usageFor: 'plan' });
    expect(invalidMessage(parseCommand('plan list'))).toBe('Plan what? `/ivs plan create|delete|rotate …` (got `list`).');
  });

  it('needs arguments for plan create (there is no modal for a plan)', () => {
    expect(invalidMessage(parseCommand('plan create'))).toBe('`/ivs plan create` needs platforms and a name: `/ivs plan create web,ios Production Web`.');
  });

  it("passes on the inner command's error", () => {
    expect(parseCommand('plan delete')).toMatchObject({ kind: 'invalid', usageFor: 'plan', message: expect.stringContaining('Which secret?') });
    expect(invalidMessage(parseCommand('plan create linux X'))).toContain('Unknown platform `linux`');
  });
});

describe('commands taking a request id', () => {
  it.each(['status', 'audit', 'cancel', 'withdraw'] as const)('%s reads one request id, normalised to upper case', (word) => {
    expect(parseCommand(`${word} r-7f3k2q`)).toEqual({ kind: word, requestId: 'R-7F3K2Q' });
  });

  it('needs the id', () => {
    expect(parseCommand('cancel')).toEqual({
      kind: 'invalid',
      message: 'Which request? `/ivs cancel &lt;request-id&gt;`; `/ivs requests` lists the open ones.',
      usageFor: 'cancel',
    });
  });

  it('takes exactly one id', () => {
    expect(invalidMessage(parseCommand('status R-7F3K2Q R-7F3K2R'))).toBe('`/ivs status` takes exactly one request id, e.g. `/ivs status R-7F3K2Q`.');
  });

  it('refuses ids outside the alphabet (no I or O) or of the wrong length', () => {
    const message = '`R-7F3K2I` is not a request id: request ids look like `R-7F3K2Q` (`/ivs requests` lists the open ones).';
    expect(invalidMessage(parseCommand('audit R-7F3K2I'))).toBe(message);
    expect(invalidMessage(parseCommand('audit R-7F3K2'))).toContain('is not a request id');
    expect(invalidMessage(parseCommand('audit 7F3K2Q'))).toContain('is not a request id');
    expect(invalidMessage(parseCommand('audit R-7F3KO2'))).toContain('is not a request id');
  });
});

describe('helpers', () => {
  it('parseRequestId accepts the alphabet 0-9 A-H J-N P-Z only', () => {
    expect(parseRequestId('R-0123AB')).toBe('R-0123AB');
    expect(parseRequestId(' r-zzzzzz ')).toBe('R-ZZZZZZ');
    expect(parseRequestId('R-IIIIII')).toBeNull();
    expect(parseRequestId('R-ABCDEFG')).toBeNull();
  });

  it('parsePlatforms ignores empty items', () => {
    expect(parsePlatforms('ios,,web,')).toEqual({ ok: true, value: ['web', 'ios'] });
  });
});
