import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TOKEN as VAULT_TOKEN } from '../emulators/vault';
import { dependencyEnv, startBotDependencies, type BotDependencies } from './support/bot-dependencies';
import { freePort } from '../emulators/free-port';
import { blockAction, slashCommand } from '../emulators/slack-payloads';
import { postToBolt } from '../emulators/slack-signer';

/**
 * The real entry point as a child process (`node --import tsx src/main.ts`), as `npm start` runs the
 * built one: what an operator sees when the config is wrong, and the process lifecycle when it is right.
 */

const ROOT = resolve(__dirname, '..');

// Each test starts `node --import tsx src/main.ts`: about 2 s of CPU, and five times that in wall time
// when the two cores are shared with other test runs.
vi.setConfig({ testTimeout: 60_000 });

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface BotProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
}

/** Starts the entry point with exactly `env` (plus PATH, so `node` finds nothing of the parent's settings). */
function startMain(env: Record<string, string>): BotProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  // 'close' comes after both pipes have been read to the end, so the output is complete.
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, exited, stdout: () => out, stderr: () => err };
}

/** Resolves once the process has logged that it serves (JSON log line `ivs-bot started`). */
function started(bot: BotProcess): Promise<void> {
  return new Promise((resolveStarted, reject) => {
    const check = () => {
      if (bot.stdout().includes('"msg":"ivs-bot started"')) {
        bot.child.stdout?.off('data', check);
        resolveStarted();
      }
    };
    bot.child.stdout?.on('data', check);
    void bot.exited.then((exit) => reject(new Error(`ivs-bot exited (${JSON.stringify(exit)}) before it started:\n${bot.stderr()}\n${bot.stdout()}`)));
    check();
  });
}

interface MainUnderTest {
  /** Real Redis and the doubles, started before the describe's tests. */
  readonly dependencies: BotDependencies;
  /** Starts the entry point against them on a free PORT, with `env` on top; resolves once it serves. */
  start(env: Record<string, string>): Promise<{ bot: BotProcess; base: string }>;
}

/** For the describe it is called in: its own Redis and doubles, and the entry point started against them. */
function useMain(): MainUnderTest {
  let dependencies: BotDependencies | undefined;
  let bot: BotProcess | undefined;

  beforeAll(async () => {
    dependencies = await startBotDependencies();
  });

  afterAll(async () => {
    // Only when an assertion failed half-way: the process must not outlive the test run.
    if (bot && bot.child.exitCode === null && bot.child.signalCode === null) {
      bot.child.kill('SIGKILL');
      await bot.exited;
    }
    await dependencies?.close();
  });

  const main: MainUnderTest = {
    get dependencies() {
      if (!dependencies) throw new Error('useMain(): the dependencies start in beforeAll');
      return dependencies;
    },
    async start(env) {
      const port = await freePort();
      bot = startMain({
        ...dependencyEnv(main.dependencies),
        PORT: String(port),
        IVS_CHANNELS: 'C111',
        IVS_APPROVERS: 'U111,U222',
        LOG_LEVEL: 'info',
        ...env,
      });
      await started(bot);
      return { bot, base: `http://127.0.0.1:${port}` };
    },
  };
  return main;
}

describe('main with a bad configuration', () => {
  it('exits 1 with one readable message naming every problem and no stack trace', async () => {
    const bot = startMain({});
    const exit = await bot.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const stderr = bot.stderr();
    expect(stderr.startsWith('ivs-bot cannot start: the configuration has 7 problems:\n')).toBe(true);
    for (const setting of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'INTERCOM_ACCESS_TOKEN', 'VAULT_ADDR', 'VAULT_TOKEN', 'IVS_CHANNELS', 'IVS_APPROVERS']) {
      expect(stderr).toContain(setting);
    }
    expect(stderr.match(/ivs-bot cannot start/g)).toHaveLength(1);
    expect(stderr).not.toContain('    at ');
    expect(bot.stdout()).toBe('');
  });

  it('names malformed values and never echoes a token it was given', async () => {
    const bot = startMain({
      SLACK_BOT_TOKEN: 'xoxp-a-user-token-by-mistake',
      SLACK_SIGNING_SECRET: 'signing-secret-value',
      INTERCOM_ACCESS_TOKEN: 'intercom-token-value',
      VAULT_ADDR: 'https://vault.example.com',
      VAULT_TOKEN: 'hvs.vault-token-value-0123456789',
      IVS_CHANNELS: '#ops',
      IVS_APPROVERS: 'U0AAA',
      IVS_APPROVALS_REQUIRED: '0',
      IVS_REQUEST_TTL: '5x',
    });
    expect((await bot.exited).code).toBe(1);
    const stderr = bot.stderr();
    expect(stderr).toContain('the configuration has 4 problems');
    expect(stderr).toContain('SLACK_BOT_TOKEN must be a bot token');
    expect(stderr).toContain('IVS_CHANNELS not channel ids (C…/G…): #ops');
    expect(stderr).toContain('IVS_APPROVALS_REQUIRED "0"');
    expect(stderr).toContain('IVS_REQUEST_TTL "5x"');
    for (const secret of ['xoxp-a-user-token-by-mistake', 'signing-secret-value', 'intercom-token-value', 'hvs.vault-token-value']) {
      expect(stderr).not.toContain(secret);
    }
    expect(stderr).not.toContain('    at ');
  });
});

describe('main with a good configuration', () => {
  const main = useMain();

  it('serves health, readiness and metrics, reports Redis loss on /readyz, and exits 0 on SIGTERM', async () => {
    const { redis, slack, intercom } = main.dependencies;
    const { bot, base } = await main.start({ SLACK_SIGNING_SECRET: 'main-test-signing-secret', REDIS_KEY_PREFIX: `ivs-main-${process.pid}:` });

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', redis: 'ok', vault: 'ok' });
    expect(ready.status).toBe(200);

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    const exposition = await metrics.text();
    for (const name of ['ivs_commands_total', 'ivs_clicks_total', 'ivs_executions_total', 'ivs_upstream_request_duration_seconds', 'ivs_open_requests']) {
      expect(exposition).toContain(`# TYPE ${name} `);
    }
    expect(exposition).toMatch(/^ivs_process_resident_memory_bytes \d+/m);

    await redis.stop();
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'not ready', redis: 'unavailable', vault: 'ok' });
    // Liveness is about the process, not its dependencies: restarting it would not bring Redis back.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    bot.child.kill('SIGTERM');
    const exit = await bot.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(bot.stdout()).toContain('"msg":"shutting down"');
    expect(bot.stdout()).toContain('"signal":"SIGTERM"');
    expect(bot.stdout()).toContain('"msg":"ivs-bot stopped"');
    expect(bot.stderr()).not.toContain('    at ');
    // Nothing the operator handed the process ends up in its output.
    for (const secret of [slack.token, intercom.token, VAULT_TOKEN, 'main-test-signing-secret']) {
      expect(bot.stdout()).not.toContain(secret);
    }
  }, 60_000);
});

describe('main shutting down during an execution', () => {
  const main = useMain();

  it('SIGTERM lets the running create finish (material in Vault, thread told) before exiting 0', async () => {
    const { slack, intercom, vault } = main.dependencies;
    const secret = 'main-test-signing-secret';
    const { bot, base } = await main.start({ SLACK_SIGNING_SECRET: secret });

    await postToBolt(base, secret, slashCommand({ text: 'create web Drained', userId: 'U111', responseUrl: slack.responseUrl('open') }));
    const opened = await slack.waitForResponse((p) => p.id === 'open');
    const id = /R-[0-9A-Z]{6}/.exec(JSON.stringify(opened.body))?.[0] ?? '';
    expect(id).not.toBe('');
    const card = await slack.waitFor('chat.postMessage', (c) => !c.args['thread_ts'] && String(c.args['text']).includes(id));
    const cardTs = String((card.response as { ts: string }).ts);

    // Intercom answers slowly, so the execution is still running when the signal arrives.
    intercom.latencyMs = 1_500;
    await postToBolt(
      base,
      secret,
      blockAction({
        actionId: 'ivs_approve',
        value: slack.buttonValue('C111', cardTs, 'ivs_approve') ?? id,
        userId: 'U222',
        messageTs: cardTs,
        responseUrl: slack.responseUrl('click'),
      }),
    );
    await intercom.waitFor('create');
    bot.child.kill('SIGTERM');

    expect(await bot.exited).toEqual({ code: 0, signal: null });
    const created = intercom.secrets().find((s) => s.name === `Drained [${id}]`);
    expect(created).toBeDefined();
    expect(vault.read(`secret/intercom/identity-verification/default/secrets/${created?.id}`)?.['secret']).toBe(created?.material);
    expect(slack.threadReplies('C111', cardTs).some((m) => /Succeeded/.test(m.text ?? ''))).toBe(true);
    expect(bot.stdout().indexOf('"msg":"shutting down"')).toBeLessThan(bot.stdout().indexOf('"msg":"ivs-bot stopped"'));
  }, 60_000);
});
