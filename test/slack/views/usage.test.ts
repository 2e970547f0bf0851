import { describe, expect, it } from 'vitest';
import { COMMAND_WORDS } from '../../../src/slack/command-parser';
import { renderUnknownCommand, renderUsage, usageOf } from '../../../src/slack/views/usage';

describe('usage', () => {
  it('lists every command of the product with an explanation', () => {
    const text = renderUsage();
    for (const word of COMMAND_WORDS) expect(text).toMatch(new RegExp(`\`/ivs ${word}[\` ].*: \\S`));
    expect(text).toContain('`/ivs create &lt;web,ios,android&gt; &lt;name…&gt; [-- reason]`');
    expect(text).toContain('--force');
  });

  it('contains no raw angle brackets, which Slack would read as links or mentions', () => {
    expect(renderUsage()).not.toMatch(/[<>]/);
  });

  it("gives one command's syntax for an error message", () => {
    expect(usageOf('cancel')).toBe('Usage: `/ivs cancel &lt;request-id&gt;`');
  });

  it('names an unknown command, escaped, before the usage', () => {
    const text = renderUnknownCommand('<!here>');
    expect(text.startsWith("I don't know the command `&lt;!here&gt;`.\n")).toBe(true);
    expect(text).toContain(renderUsage());
    expect(text).not.toContain('<!here>');
  });
});
