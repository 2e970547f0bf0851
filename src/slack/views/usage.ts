/** `/ivs help`: every command with one line of explanation (sent ephemerally). */
import type { CommandWord } from '../command-parser';
import { MAX_NAME_LENGTH, MAX_REASON_LENGTH } from '../command-parser';
import { escapeBounded } from '../mrkdwn';

interface CommandHelp {
  readonly word: CommandWord;
  /** mrkdwn; `<` and `>` already escaped. */
  readonly syntax: string;
  readonly explanation: string;
}

export const COMMAND_HELP: readonly CommandHelp[] = [
  { word: 'list', syntax: '/ivs list', explanation: 'the secrets: id, name, platforms, age, and whether Vault holds their material.' },
  {
    word: 'create',
    syntax: '/ivs create &lt;web,ios,android&gt; &lt;name…&gt; [-- reason]',
    explanation: `asks to create a secret (name up to ${MAX_NAME_LENGTH} characters); \`/ivs create\` alone opens a form.`,
  },
  {
    word: 'delete',
    syntax: '/ivs delete &lt;id&gt; [--force] [reason…]',
    explanation: '`--force` acknowledges that the delete leaves a platform with no secret.',
  },
  {
    word: 'rotate',
    syntax: '/ivs rotate &lt;id&gt; [--compromised] [reason…]',
    explanation:
      'creates a successor with the same platforms, then, after cut-over and a second approval, deletes the old one. ' +
      '`--compromised &lt;reason…&gt;`: the old secret leaked, so its delete may follow at once (no overlap wait).',
  },
  { word: 'plan', syntax: '/ivs plan create|delete|rotate …', explanation: 'dry run: secrets per platform before and after, guard results. Changes nothing.' },
  { word: 'requests', syntax: '/ivs requests', explanation: 'the open requests.' },
  { word: 'status', syntax: '/ivs status &lt;request-id&gt;', explanation: "one request's state and history." },
  { word: 'audit', syntax: '/ivs audit &lt;request-id&gt;', explanation: "the request's audit entries, with the hash chain verified." },
  { word: 'cancel', syntax: '/ivs cancel &lt;request-id&gt;', explanation: 'the requester cancels their open request.' },
  { word: 'withdraw', syntax: '/ivs withdraw &lt;request-id&gt;', explanation: 'an approver takes their approval back while the request is pending.' },
  { word: 'help', syntax: '/ivs help', explanation: 'this message.' },
];

/** One command's syntax line, for an error message about that command. */
export function usageOf(word: CommandWord): string {
  const help = COMMAND_HELP.find((c) => c.word === word);
  return help ? `Usage: \`${help.syntax}\`` : renderUsage();
}

/** `workspaces`: the Intercom workspaces of the channel asked in, so people know what to type. */
export function renderUsage(workspaces: readonly string[] = []): string {
  const lines = COMMAND_HELP.map((c) => `• \`${c.syntax}\`: ${c.explanation}`);
  return [
    '*ivs-bot* guards Intercom identity verification secrets: every create and delete needs an approval from a second person, and the secret material goes straight into Vault, never into Slack.',
    ...workspacesLine(workspaces),
    ...lines,
    `Request ids look like \`R-7F3K2Q\`. Reasons are up to ${MAX_REASON_LENGTH} characters. Example: \`/ivs create web,ios Production Web -- yearly rotation\``,
  ].join('\n');
}

function workspacesLine(workspaces: readonly string[]): string[] {
  const names = workspaces.map((w) => `\`${escapeBounded(w, 64)}\``);
  if (names.length === 0) return [];
  if (names.length === 1)
    return [
      `This channel serves the Intercom workspace ${names[0]}; a command may name it first (\`/ivs ${escapeBounded(workspaces[0] ?? '', 64)} list\`) or leave it out.`,
    ];
  return [
    `This channel serves the Intercom workspaces ${names.join(', ')}. Name the workspace first, e.g. \`/ivs ${escapeBounded(workspaces[0] ?? '', 64)} create web Web 2027\`; ` +
      '`/ivs list` lists each in turn, and `status`, `audit`, `cancel` and `withdraw` find the workspace from the request.',
  ];
}

/** The answer to `/ivs <unknown word>`: say which word, then the usage. */
export function renderUnknownCommand(word: string): string {
  return `I don't know the command \`${escapeBounded(word.replace(/`/g, "'"), 40)}\`.\n${renderUsage()}`;
}
