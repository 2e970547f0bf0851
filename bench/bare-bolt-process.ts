import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { reportFailure, reportReady, serveParent } from './ipc';

// The baseline: the same @slack/bolt, the same HTTPReceiver and signature check, the same token
// against the same Slack double, and listeners that do nothing but ack().

async function main(): Promise<void> {
  const env = process.env;
  const app = new App({
    token: env['SLACK_BOT_TOKEN'] ?? '',
    signingSecret: env['SLACK_SIGNING_SECRET'] ?? '',
    logLevel: LogLevel.WARN,
    deferInitialization: true,
    clientOptions: { slackApiUrl: env['SLACK_API_URL'] ?? '' },
  });
  app.command('/ivs', async ({ ack }) => {
    await ack();
  });
  app.action(/.*/, async ({ ack }) => {
    await ack();
  });
  serveParent(() => app.stop().then(() => undefined));
  await app.init();
  const server = (await app.start(0)) as unknown as Server;
  reportReady((server.address() as AddressInfo).port);
}

main().catch((err: unknown) => {
  reportFailure(err);
  process.exit(1);
});
