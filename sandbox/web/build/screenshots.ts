/**
 * `npm run sandbox:screenshots`: starts a sandbox, walks the README's "Try it" in headless Chromium
 * and writes docs/screenshots/*.png (the rotation reminder, request, refusal, approval, Vault panel, a fault, the eu workspace). Made by a
 * script so they stay true to the page; look at them after a change to the page.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandbox } from '../../server/sandbox';
import { launchBrowser } from './chromium';
import { PageDriver } from './driver';

const OUT = join(__dirname, '../../../docs/screenshots');

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const sandbox = await startSandbox({ port: 0 });
  const browser = await launchBrowser({ width: 1360, height: 1060 });
  try {
    const page = await browser.context.newPage();
    const ui = new PageDriver(page);
    const shot = async (name: string) => {
      await page.waitForTimeout(400);
      // The "Acting as …" notice is for the person at the keyboard, not for the picture.
      await page.evaluate(() => document.querySelector('.toast')?.replaceChildren());
      await page.screenshot({ path: join(OUT, `${name}.png`) });
      process.stdout.write(`docs/screenshots/${name}.png\n`);
    };
    await ui.open(sandbox.url);

    // 0. What greets a new user: us's year-old secret is due, and the reminder offers Rotate.
    await ui.actAs('alice');
    await ui.see(ui.channelMessages().first(), 'due for rotation');
    await shot('0-reminder');

    // 1. alice asks for a new web secret: the card, with its fingerprint and buttons.
    await ui.actAs('alice');
    const { card } = await ui.request('/ivs create web Web 2027 -- yearly rotation');
    await ui.see(card, 'Approve');
    await shot('1-request');

    // 2. alice cannot approve her own request: the refusal only she sees.
    await ui.press(card, 'Approve');
    await ui.see(ui.channelMessages().last(), /own request/i);
    await shot('2-refusal');

    // 3. bob approves through the confirm dialog; the thread tells the story.
    await ui.actAs('bob');
    await ui.press(card, 'Approve', 'leave-open');
    await shot('3-confirm');
    await page.click('.overlay .bk-confirm-ok');
    const thread = await ui.openThread(card);
    await ui.see(thread, 'Succeeded');
    await ui.tab('intercom');
    await shot('4-approval');

    // 4. The Vault panel: current/web moved to the new secret (fingerprints only, never material).
    await ui.tab('vault');
    await ui.see(page.locator('.wall-body'), 'was ');
    await page.waitForTimeout(200);
    await shot('5-vault');

    // 5. A fault: Vault sealed, the next create fails closed and the thread says so.
    await ui.fault('vault_sealed', true);
    await ui.actAs('alice');
    await ui.openThread(card).then(() => page.click('.thread .close'));
    const sealed = await ui.request('/ivs create web Sealed Test');
    await ui.actAs('bob');
    await ui.press(sealed.card, 'Approve');
    const sealedThread = await ui.openThread(sealed.card);
    await ui.see(sealedThread, 'Failed');
    await shot('6-fault');
    await ui.fault('vault_sealed', false);

    // 6. Another workspace: #ops-eu serves eu, its list and its Intercom table.
    await page.click('.thread .close');
    await ui.channel('ops-eu');
    await ui.actAs('alice');
    await ui.type('/ivs list');
    await ui.see(ui.channelMessages().last(), 'EU Web');
    await ui.tab('intercom');
    await shot('7-workspace-eu');
  } finally {
    await browser.close();
    await sandbox.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`sandbox:screenshots: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
