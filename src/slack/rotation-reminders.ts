import type { WebClient } from '@slack/web-api';
import type { Log, RotationReminder, RotationReminders } from '../core/ports';
import { slackError } from './delivery-errors';
import { renderRotationReminder } from './views/rotation-reminder';

/** The reminder of due secrets, posted straight through the Web API (a refusal is logged and retried by the next check). */
export class SlackRotationReminders implements RotationReminders {
  constructor(
    private readonly client: WebClient,
    private readonly log: Log,
  ) {}

  async post(channel: string, reminder: RotationReminder): Promise<boolean> {
    const view = renderRotationReminder(reminder);
    try {
      const res = await this.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
      return Boolean(res.ts);
    } catch (err) {
      this.log.error({ err: slackError(err), channel, workspace: reminder.workspace }, 'posting the rotation reminder failed');
      return false;
    }
  }
}
