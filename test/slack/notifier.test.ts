import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../src/slack/notifier';
import { NOW, makeRequest } from './views/fixtures';

/** A Web API client that records what it was asked to send and answers like Slack. */
function recordingClient() {
  const sent: string[] = [];
  const client = {
    chat: {
      postMessage: async (args: { text?: string }) => {
        sent.push(args.text ?? '');
        return { ok: true, ts: '1700000000.000100', channel: 'C111' };
      },
      update: async (args: { text?: string }) => {
        sent.push(args.text ?? '');
        return { ok: true };
      },
    },
  };
  return { client: client as unknown as WebClient, sent };
}

function capturingLog() {
  const errors: string[] = [];
  return { log: { info: () => undefined, warn: () => undefined, error: (_: object, msg?: string) => errors.push(msg ?? '') }, errors };
}

describe('the Slack notifier', () => {
  it('a card that cannot render (an expiry beyond what a Date holds) is reported as not posted, never thrown', async () => {
    const { client, sent } = recordingClient();
    const { log, errors } = capturingLog();
    const notifier = new SlackNotifier(client, { now: () => NOW, sleep: async () => undefined }, log, () => 3_600_000);
    const unrenderable = makeRequest({ expiresAt: 1e20 });

    await expect(notifier.postCard(unrenderable)).resolves.toBeNull();
    await expect(notifier.updateCard({ ...unrenderable, card: { channel: 'C111', ts: '1700000000.000100' } })).resolves.toBeUndefined();
    expect(sent).toEqual([]);
    expect(errors).toEqual(['posting the request card failed', 'updating the request card failed']);
  });

  it('a card that renders is posted and its place returned', async () => {
    const { client, sent } = recordingClient();
    const notifier = new SlackNotifier(client, { now: () => NOW, sleep: async () => undefined }, capturingLog().log, () => 3_600_000);
    expect(await notifier.postCard(makeRequest())).toEqual({ channel: 'C111', ts: '1700000000.000100' });
    expect(sent).toHaveLength(1);
  });
});
