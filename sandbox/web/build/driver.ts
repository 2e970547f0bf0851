/**
 * Drives the sandbox page in a browser the way a person would (pick who you are, type, click, read),
 * for the browser tests and the screenshot script. Every step waits for what it expects to see.
 */
import type { Locator, Page } from 'playwright-core';

export const STEP_TIMEOUT_MS = 30_000;

export class PageDriver {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('.side-item.person').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await this.page.locator('.wall .tab').first().waitFor({ timeout: STEP_TIMEOUT_MS });
  }

  async actAs(name: string): Promise<void> {
    await this.page.selectOption('#act-as', name);
    await this.page.locator(`.side-item.person[data-person="${name}"][aria-current="true"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
    await this.settle();
  }

  async channel(name: string): Promise<void> {
    await this.page.click(`.side-item[data-channel="${name}"]`);
    await this.page.locator(`.side-item[data-channel="${name}"][aria-current="true"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
    await this.settle();
  }

  /** Types a command into the composer and sends it with Enter. */
  async type(text: string): Promise<void> {
    await this.page.fill('#composer', text);
    await this.page.press('#composer', 'Enter');
    await this.page.waitForFunction(() => (document.getElementById('composer') as HTMLInputElement).value === '', undefined, { timeout: STEP_TIMEOUT_MS });
  }

  /** The channel's messages (not the thread's). */
  channelMessages(): Locator {
    return this.page.locator('.channel .messages > .msg');
  }

  /** The request card of a request id in the channel. */
  card(requestId: string): Locator {
    return this.page.locator('.channel .messages > .msg', { has: this.page.locator('.bk-header', { hasText: requestId }) });
  }

  /** The ids of the request cards in the channel, oldest first. */
  async cardIds(): Promise<string[]> {
    const headers = await this.page.locator('.channel .messages > .msg .bk-header').allTextContents();
    return headers.flatMap((h) => /R-[A-Z0-9]{6}/.exec(h)?.[0] ?? []);
  }

  /** Types a command that opens a request and waits for its new card. */
  request(command: string): Promise<{ card: Locator; id: string }> {
    return this.opensCard(() => this.type(command), `"${command}"`);
  }

  /** Does `act` (a command typed, a button pressed) and waits for the new request card it opens. */
  async opensCard(act: () => Promise<void>, what: string): Promise<{ card: Locator; id: string }> {
    const before = new Set(await this.cardIds());
    await act();
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const fresh = (await this.cardIds()).filter((id) => !before.has(id));
      const id = fresh[fresh.length - 1];
      if (id) return { card: this.card(id), id };
      if (Date.now() > deadline) throw new Error(`No new request card appeared after ${what}.`);
      await this.page.waitForTimeout(100);
    }
  }

  /** Clicks a button of a message; with a confirm dialog, answers it (`confirm` true = its confirm button). */
  async press(message: Locator, button: string, confirm: boolean | 'leave-open' = true): Promise<void> {
    await message
      .locator('.bk-button', { hasText: new RegExp(`^\\s*${escapeRegExp(button)}\\s*$`) })
      .first()
      .click({ timeout: STEP_TIMEOUT_MS });
    const dialog = this.page.locator('.overlay .bk-confirm');
    const hasDialog = await dialog.waitFor({ timeout: 1_500 }).then(
      () => true,
      () => false,
    );
    if (!hasDialog || confirm === 'leave-open') return;
    await dialog.locator(confirm ? '.bk-confirm-ok' : '.bk-confirm-deny').click();
    await dialog.waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS });
  }

  /** Opens a message's thread beside the channel. */
  async openThread(message: Locator): Promise<Locator> {
    const toggle = message.locator('.replies');
    await toggle.waitFor({ timeout: STEP_TIMEOUT_MS });
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    const thread = this.page.locator('.thread .messages');
    await thread.waitFor({ timeout: STEP_TIMEOUT_MS });
    return thread;
  }

  async tab(name: 'intercom' | 'vault' | 'audit' | 'faults'): Promise<Locator> {
    await this.page.click(`.wall .tab[data-tab="${name}"]`);
    const body = this.page.locator(`.wall-body[data-panel="${name}"]`);
    await body.waitFor({ timeout: STEP_TIMEOUT_MS });
    return body;
  }

  async fault(name: string, on: boolean): Promise<void> {
    await this.tab('faults');
    const sw = this.page.locator(`.fault[data-fault="${name}"] input`);
    if ((await sw.isChecked()) !== on) await sw.click();
    await this.page.locator(`.fault[data-fault="${name}"]${on ? '.on' : ':not(.on)'}`).waitFor({ timeout: STEP_TIMEOUT_MS });
  }

  async skip(by: '5m' | '1h' | '1d'): Promise<void> {
    const before = await this.page.evaluate(() => document.body.dataset['seq'] ?? '');
    await this.page.click(`.skip button[data-skip="${by}"]`);
    await this.page.waitForFunction((b) => (document.body.dataset['seq'] ?? '') !== b, before, { timeout: STEP_TIMEOUT_MS });
    await this.page.locator('.banner[data-banner="time"]').waitFor({ timeout: STEP_TIMEOUT_MS });
  }

  /** Waits until the page is not mid-refresh and has caught up with the last change it was told of. */
  async settle(): Promise<void> {
    await this.page.waitForTimeout(150);
    await this.page.waitForFunction(() => document.body.dataset['seq'] !== undefined && document.body.dataset['seq'] !== '', undefined, {
      timeout: STEP_TIMEOUT_MS,
    });
  }

  /** Waits for text to appear somewhere inside `where`. */
  async see(where: Locator, text: string | RegExp, timeout = STEP_TIMEOUT_MS): Promise<void> {
    await where.filter({ hasText: text }).first().waitFor({ timeout });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
