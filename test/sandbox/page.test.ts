/**
 * The sandbox as people use it: the whole product (private Redis, the stand-ins, two real bot
 * replicas, the control API) driven through its page in a real headless Chromium, acting as two
 * people. The tests run in order on one sandbox, as one demo would; the last one reads every byte
 * the page and the control API served during them and finds no material.
 */
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../sandbox/web/build/chromium';
import { PageDriver } from '../../sandbox/web/build/driver';
import { startSandbox, type Sandbox } from '../../sandbox/server/sandbox';

const FLOW_TIMEOUT_MS = 150_000;

let sandbox: Sandbox;
let browser: Browser;
let page: Page;
let ui: PageDriver;
const received: string[] = [];
const pending: Array<Promise<void>> = [];

let startupMs = 0;
let pageMs = 0;

beforeAll(async () => {
  const started = Date.now();
  sandbox = await startSandbox({ port: 0, recordServed: true });
  browser = await launchBrowser({ width: 1440, height: 1000 });
  page = await browser.context.newPage();
  page.on('response', (response: Response) => {
    // The event stream never ends; the server's own record (served()) has those bytes.
    if ((response.headers()['content-type'] ?? '').includes('text/event-stream')) return;
    pending.push(
      response.body().then(
        (body) => void received.push(body.toString('utf8')),
        () => undefined,
      ),
    );
  });
  ui = new PageDriver(page);
  const opening = Date.now();
  await ui.open(sandbox.url);
  pageMs = Date.now() - opening;
  startupMs = Date.now() - started;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.stop();
});

async function vaultRow(path: string, workspace = 'us'): Promise<{ fingerprint: string; state: string; version: string }> {
  const body = await ui.tab('vault');
  const row = body.locator(`tr[data-workspace="${workspace}"][data-path="${path}"]`);
  await row.waitFor({ timeout: 30_000 });
  return {
    fingerprint: ((await row.locator('.fp').first().textContent()) ?? '').trim(),
    state: ((await row.locator('td.state').textContent()) ?? '').trim(),
    version: ((await row.locator('td').nth(1).textContent()) ?? '').trim(),
  };
}

async function intercomIdOf(requestId: string): Promise<string> {
  const body = await ui.tab('intercom');
  const row = body.locator('tr[data-workspace="us"]', { hasText: requestId });
  await row.waitFor({ timeout: 30_000 });
  const id = await row.getAttribute('data-secret-id');
  if (!id) throw new Error(`no Intercom secret row for ${requestId}`);
  return id;
}

describe('the sandbox page, in a real Chromium', () => {
  it('starts to a usable page quickly', () => {
    // SPEC target: under 10 s on the CI machine; generous here because the test machine is shared.
    process.stdout.write(
      `sandbox: ${sandbox.startupMs} ms to start; the page usable ${pageMs} ms after the browser asked for it; ${startupMs} ms in all with the browser launch\n`,
    );
    expect(pageMs).toBeLessThan(20_000);
    expect(startupMs).toBeLessThan(120_000);
  });

  it(
    'alice asks to create a web secret, is refused her own approval (only she sees why), bob approves through the confirm dialog, and Intercom and Vault show the new secret',
    async () => {
      await ui.actAs('alice');
      const { card, id } = await ui.request('/ivs create web Demo');
      await ui.see(card, 'Create secret');
      await ui.see(card, 'Demo');
      await ui.see(card, 'waiting for approval');

      await ui.press(card, 'Approve');
      const refusal = ui.channelMessages().filter({ hasText: 'own request' });
      await refusal.first().waitFor({ timeout: 30_000 });
      expect(await refusal.first().locator('.only-you').textContent()).toBe('Only visible to you');

      await ui.actAs('bob');
      await ui.see(card, 'waiting for approval');
      expect(await page.locator('.channel .messages').textContent()).not.toContain('own request');

      await ui.press(card, 'Approve', 'leave-open');
      const dialog = page.locator('.overlay .bk-confirm');
      expect(await dialog.locator('.bk-modal-title').textContent()).toBe(`Approve ${id}?`);
      expect(await dialog.textContent()).toContain('Fingerprint');
      await dialog.locator('.bk-confirm-ok').click();

      const thread = await ui.openThread(card);
      await ui.see(thread, 'Succeeded');
      await ui.see(thread, `Approved by @bob`);
      await ui.see(card, '(edited)');

      const secretId = await intercomIdOf(id);
      const created = await vaultRow(`secrets/${secretId}`);
      expect(created.fingerprint).toMatch(/^[0-9a-f]{8}$/);
      const current = await vaultRow('current/web');
      expect(current.fingerprint).toBe(created.fingerprint);
      await page.locator('.thread .close').click();
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    '#ops-eu is in the channel list and serves the eu workspace: /ivs list there shows eu secrets only; both workspaces have their Intercom and Vault tables',
    async () => {
      await ui.channel('ops-eu');
      await ui.see(page.locator('.pane-head').first(), 'Intercom workspace eu');
      await ui.actAs('alice');
      await ui.type('/ivs list');
      const list = ui.channelMessages().filter({ hasText: 'EU Web' });
      await list.first().waitFor({ timeout: 30_000 });
      expect(await list.first().textContent()).not.toContain('Production Web');
      const intercom = await ui.tab('intercom');
      await intercom.locator('tr[data-workspace="eu"]', { hasText: 'EU Web' }).waitFor({ timeout: 30_000 });
      expect(await intercom.locator('tr[data-workspace="us"]', { hasText: 'EU Web' }).count()).toBe(0);
      expect((await vaultRow('current/web', 'eu')).fingerprint).toMatch(/^[0-9a-f]{8}$/);
      await ui.channel('ops');
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    '`/ivs create` alone opens the create modal; a submission without name and platform shows the errors on those fields; a corrected one opens the request',
    async () => {
      await ui.actAs('alice');
      await ui.type('/ivs create');
      const modal = page.locator('.overlay .bk-modal:not(.bk-confirm)');
      await modal.waitFor({ timeout: 30_000 });
      expect(await modal.locator('.bk-modal-title').textContent()).toBe('New secret');

      await modal.locator('.bk-modal-submit').click();
      await modal.locator('.bk-input[data-block-id="platforms"] .bk-error').waitFor({ timeout: 30_000 });
      expect(await modal.locator('.bk-input[data-block-id="name"] .bk-error').count()).toBe(1);

      await modal.locator('.bk-input[data-block-id="name"] input').fill('Modal Web');
      await modal.locator('.bk-input[data-block-id="platforms"] input[value="web"]').check();
      const before = new Set(await ui.cardIds());
      await modal.locator('.bk-modal-submit').click();
      await modal.waitFor({ state: 'detached', timeout: 30_000 });
      await expect.poll(async () => (await ui.cardIds()).filter((x) => !before.has(x)).length, { timeout: 30_000 }).toBe(1);
      const id = (await ui.cardIds()).filter((x) => !before.has(x))[0] as string;
      await ui.see(ui.card(id), 'Modal Web');

      // By keyboard: Enter on Approve opens its confirm dialog with the focus on its button; Escape closes it and sends nothing.
      await ui.actAs('bob');
      await ui.card(id).locator('.bk-button', { hasText: 'Approve' }).focus();
      await page.keyboard.press('Enter');
      await page.locator('.overlay .bk-confirm').waitFor({ timeout: 30_000 });
      await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains('bk-confirm-ok'))).toBe(true);
      await page.keyboard.press('Escape');
      await page.locator('.overlay .bk-confirm').waitFor({ state: 'detached', timeout: 30_000 });
      await ui.see(ui.card(id), 'waiting for approval');
      expect(await ui.card(id).textContent()).toContain('0/1');

      await ui.actAs('alice');
      await ui.type(`/ivs cancel ${id}`);
      await ui.see(ui.card(id), 'Cancelled');
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'with Vault sealed a create fails closed: the banner says so, the thread says nothing was created',
    async () => {
      await ui.fault('vault_sealed', true);
      await page.locator('.banner[data-banner="fault"]', { hasText: 'Vault sealed' }).waitFor({ timeout: 30_000 });
      await ui.actAs('alice');
      const { card } = await ui.request('/ivs create web Sealed');
      await ui.actAs('bob');
      await ui.press(card, 'Approve');
      const thread = await ui.openThread(card);
      await ui.see(thread, 'Failed');
      await ui.see(thread, /sealed/i);
      await ui.see(thread, 'nothing was created');
      await page.locator('.thread .close').click();

      // Off again by keyboard: Space on the focused switch; the live re-render keeps the focus on it.
      await ui.tab('faults');
      await page.locator('.fault[data-fault="vault_sealed"] input').focus();
      await page.keyboard.press('Space');
      await page.locator('.fault[data-fault="vault_sealed"]:not(.on)').waitFor({ timeout: 30_000 });
      await page.locator('.banner[data-banner="fault"]').waitFor({ state: 'detached', timeout: 30_000 });
      expect(await page.evaluate(() => document.activeElement?.closest<HTMLElement>('.fault')?.dataset['fault'])).toBe('vault_sealed');
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'a rotation from the reminder’s Rotate button: bob approves the successor, time is skipped past IVS_MIN_OVERLAP, alice finishes, bob approves the delete; Vault moves current/web and marks the old secret deleted',
    async () => {
      await ui.actAs('alice');
      const reminder = ui.channelMessages().filter({ hasText: 'Secrets due for rotation' }).first();
      await ui.see(reminder, '400 days old');
      const { card, id } = await ui.opensCard(() => ui.press(reminder, 'Rotate'), 'Rotate on the reminder');
      await ui.see(card, 'Rotate secret');
      await ui.see(card, 'Production Web');
      await ui.actAs('bob');
      await ui.press(card, 'Approve');
      await ui.see(card, 'Finish rotation', 60_000);
      await ui.see(card, 'Finishing is allowed from');

      await ui.skip('1h');
      await page.locator('.banner[data-banner="time"]', { hasText: '+1 h skipped' }).waitFor({ timeout: 30_000 });

      await ui.actAs('alice');
      await ui.press(card, 'Finish rotation');
      await ui.see(card, 'step 2 of 2', 60_000);
      await ui.actAs('bob');
      await ui.press(card, 'Approve');
      const thread = await ui.openThread(card);
      await ui.see(thread, 'Deleted Intercom secret 100', 60_000);
      await ui.see(card, 'Succeeded', 60_000);

      const successor = await intercomIdOf(id);
      expect(successor).not.toBe('100');
      expect((await vaultRow('secrets/100')).state).toBe('deleted');
      const current = await vaultRow('current/web');
      expect(current.fingerprint).toBe((await vaultRow(`secrets/${successor}`)).fingerprint);
      await page.locator('.thread .close').click();
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'a replica killed in the middle of an execution: the other one takes it over and the thread says so',
    async () => {
      await ui.actAs('alice');
      const { card } = await ui.request('/ivs create ios Failover');
      // Only A takes bob's click (B is down), and Intercom keeps A waiting on the create.
      await page.click('.replica[data-replica="B"] button');
      await page.locator('.replica[data-replica="B"].dead').waitFor({ timeout: 30_000 });
      await ui.fault('intercom_hang_next_create', true);
      await ui.actAs('bob');
      await ui.press(card, 'Approve');
      await ui.see(card, 'executing', 30_000);

      await page.click('.replica[data-replica="A"] button');
      await page.locator('.replica[data-replica="A"].dead').waitFor({ timeout: 30_000 });
      await page.locator('.banner[data-banner="replica"]', { hasText: 'A and B are down' }).waitFor({ timeout: 30_000 });
      await page.click('.replica[data-replica="B"] button');
      await page.locator('.replica[data-replica="B"].alive').waitFor({ timeout: 60_000 });

      const thread = await ui.openThread(card);
      await ui.see(thread, 'Recovered an interrupted execution', 90_000);
      // The create reached Intercom but its answer (the material) never came: an orphan, said loudly.
      await ui.see(thread, 'ORPHAN', 60_000);
      await page.locator('.thread .close').click();
      await page.click('.replica[data-replica="A"] button');
      await page.locator('.replica[data-replica="A"].alive').waitFor({ timeout: 60_000 });
    },
    FLOW_TIMEOUT_MS,
  );

  it('the leak canary: nothing the page or the control API served contains material', async () => {
    await Promise.all(pending);
    const materials = sandbox.materials();
    expect(materials.length).toBeGreaterThanOrEqual(7); // five seeds, Demo, the rotation's successor
    const browserSaw = received.join('\n');
    const serverSent = sandbox.served();
    expect(browserSaw.length).toBeGreaterThan(10_000);
    expect(serverSent.length).toBeGreaterThan(browserSaw.length / 2);
    expect(browserSaw).toContain('secrets/');
    for (const material of materials) {
      expect(browserSaw.includes(material), 'material in what the browser received').toBe(false);
      expect(serverSent.includes(material), 'material in what the control server sent').toBe(false);
    }
  });
});
