/**
 * Emoji shortcodes → Unicode: every shortcode the bot's views use (grep `:[a-z_]+:` in
 * src/slack/views/), plus a few people type. An unknown shortcode stays as typed, as in Slack.
 */
const EMOJI: Readonly<Record<string, string>> = {
  // Used by the bot.
  alarm_clock: '⏰',
  ambulance: '🚑',
  arrow_forward: '▶️',
  arrow_right: '➡️',
  arrows_counterclockwise: '🔄',
  calendar: '📅',
  gear: '⚙️',
  ghost: '👻',
  grey_question: '❔',
  heavy_multiplication_x: '✖️',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ️',
  key: '🔑',
  leftwards_arrow_with_hook: '↩️',
  memo: '📝',
  no_entry: '⛔',
  octagonal_sign: '🛑',
  repeat: '🔁',
  rotating_light: '🚨',
  tada: '🎉',
  warning: '⚠️',
  wastebasket: '🗑️',
  white_check_mark: '✅',
  x: '❌',
  // Common in what people type.
  '+1': '👍',
  '-1': '👎',
  thumbsup: '👍',
  thumbsdown: '👎',
  eyes: '👀',
  lock: '🔒',
  unlock: '🔓',
  heavy_check_mark: '✔️',
  smile: '😄',
  slightly_smiling_face: '🙂',
  fire: '🔥',
  rocket: '🚀',
  bell: '🔔',
  clock1: '🕐',
  stopwatch: '⏱️',
  shield: '🛡️',
  robot_face: '🤖',
};

/** The Unicode for a shortcode name (without colons), or undefined when unknown. */
export function emojiText(name: string): string | undefined {
  return Object.hasOwn(EMOJI, name) ? EMOJI[name] : undefined;
}

/** Replaces known `:name:` shortcodes in plain text (plain_text objects with `emoji: true`). */
export function replaceEmoji(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => emojiText(name) ?? whole);
}

/** The shortcodes this table knows: the rendering test checks every one the views use is here. */
export const KNOWN_EMOJI: readonly string[] = Object.keys(EMOJI);
