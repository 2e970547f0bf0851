import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, SIGNING_SECRET, VAULT_BASE, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';
import { freePort } from '../../emulators/free-port';
import { blockAction } from '../../emulators/slack-payloads';
import { postToBolt } from '../../emulators/slack-signer';

const ROOT = resolve(__dirname, '../..');

describe('a replica killed with SIGKILL in the middle of a create', () => {
  let world: World;
  beforeAll(async () => {
    // The survivor sweeps often, so it notices the dead replica's lease soon after it runs out.
    world = await startWorld({ bot: { sweepIntervalMs: 250 } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('is taken over by another replica: the secret Intercom created without material in Vault is reported as an orphan and a delete request opened', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/bot-child.ts'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...world.env, PORT: String(port), LOG_LEVEL: 'info', BOT_CHILD_LEASE_MS: '1500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = once(child, 'exit');
    try {
      await new Promise<void>((ready, fail) => {
        const check = () => (out.includes('"msg":"ivs-bot started"') ? ready() : undefined);
        child.stdout?.on('data', check);
        void exited.then(() => fail(new Error(`bot child exited before it started:\n${out}`)));
      });

      const { id, card } = await openRequest(world, 'create web Killed Midway');
      // Intercom creates the secret but its answer never reaches the replica before it dies.
      world.intercom.failNext('create', { kind: 'apply-then-stall', ms: 60_000 });
      const click = blockAction({
        actionId: 'ivs_approve',
        value: world.slack.buttonValue(card.channel, card.ts, 'ivs_approve') ?? id,
        userId: APPROVER,
        messageTs: card.ts,
        responseUrl: world.slack.responseUrl(`crash-${id}`),
      });
      expect((await postToBolt(`http://127.0.0.1:${port}`, SIGNING_SECRET, click)).status).toBe(200);
      await world.intercom.waitFor('create');
      child.kill('SIGKILL');
      expect(await exited).toEqual([null, 'SIGKILL']);

      const orphan = await threadReply(world, card, /ORPHAN/, 15_000);
      const created = world.intercom.secrets().find((s) => s.name === `Killed Midway [${id}]`);
      expect(created).toBeDefined();
      expect(orphan).toContain(created?.id);
      expect(world.vault.read(`${VAULT_BASE}/secrets/${created?.id}`)).toBeUndefined();
      expect(await threadReply(world, card, /Recovered/)).toMatch(/took over/);
      const failed = await threadReply(world, card, /Failed/);
      expect(failed).toMatch(/died before its material reached Vault/);
      // The follow-up: a delete request for the orphan, with its own card.
      const followUp = /Delete request `(R-[0-9A-Z]{6})`/.exec(orphan)?.[1];
      expect(followUp).toBeDefined();
      expect((await world.bot.bot.requests.get(followUp ?? ''))?.operation).toMatchObject({ action: 'delete', secretId: created?.id });
      expect(world.intercom.callsTo('create')).toHaveLength(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
