import type { RotationReminder, RotationReminders } from '../core/ports';
import type { OutboxQueue } from '../redis/outbox-queue';
import type { SlackDelivery } from './delivery';
import { renderRotationReminder } from './views/rotation-reminder';

/**
 * The reminder of due secrets through the Slack outbox: rendered now (its due secrets and ages as
 * of this check), recorded with its claim in one step, then delivered like every notice.
 */
export class OutboxRotationReminders implements RotationReminders {
  constructor(
    private readonly queue: OutboxQueue,
    private readonly delivery: SlackDelivery,
  ) {}

  async record(claim: { readonly key: string; readonly now: number; readonly until: number }, channel: string, reminder: RotationReminder): Promise<boolean> {
    const view = renderRotationReminder(reminder);
    const message = JSON.stringify({ text: view.text, blocks: view.blocks });
    const won = await this.queue.pushIfClaimed(claim, channel, [{ requestId: '', kind: 'reminder', text: message }]);
    if (won) this.delivery.kick(channel);
    return won;
  }
}
