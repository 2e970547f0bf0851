import type { AuditEventType } from '../src/core/ports';

/**
 * Which audit event a thread reply tells, read from its text the way a person reads the thread
 * (the reply's metadata names only the outbox item). Each reply starts with the workspace in code
 * and `·`, then an emoji and words particular to its event (src/slack/views/thread-event.ts);
 * test/drill/thread-events.test.ts renders every event type and checks this finds it again.
 */
const PATTERNS: ReadonlyArray<readonly [AuditEventType, RegExp]> = [
  ['requested', /^(:rotating_light: \*COMPROMISED:[^\n]*\n)?:memo: /],
  ['approved', /^:white_check_mark: Approved by /],
  ['withdrawn', /^:leftwards_arrow_with_hook: .* withdrew their approval/],
  ['rolled_back', /^:leftwards_arrow_with_hook: Rolled back/],
  ['rejected', /^:no_entry: Rejected by /],
  ['expired', /^:hourglass: Expired /],
  ['cancelled', /^:heavy_multiplication_x: Cancelled by /],
  ['executing', /^:gear: Executing/],
  ['created', /^:key: Created Intercom secret /],
  ['deleted', /^:wastebasket: Deleted Intercom secret /],
  ['already_gone', /^:ghost: Intercom secret /],
  ['failed', /^:x: \*Failed\*/],
  ['recovered', /^:ambulance: Recovered /],
  ['orphan', /^:rotating_light: \*ORPHAN:\*/],
  ['succeeded', /^(:arrow_right: \*Step 1 done\*|:tada: \*Succeeded\*)/],
  ['finish_requested', /^:arrow_forward: .* asked to finish the rotation/],
  ['abandoned', /^:octagonal_sign: .* abandoned the rotation/],
  ['retrying', /^:repeat: Not finished yet/],
  ['finish_reminder', /^:alarm_clock: /],
  ['approval_reminder', /^:bell: /],
  ['waiting', /^:hourglass_flowing_sand: Approved, and waiting/],
];

/** The note a thread gets when some of its replies were given up. */
const GAP = /^:warning: Some events of this request could not be posted here/;

/** The event type a reply tells, `gap` for the missing-events note, or null for text that is none of them. */
export function eventTypeOfReply(text: string): AuditEventType | 'gap' | null {
  const body = text.replace(/^`[^`]*` · /, '');
  if (GAP.test(body)) return 'gap';
  for (const [type, pattern] of PATTERNS) if (pattern.test(body)) return type;
  return null;
}
