import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { fileOffsetClock } from '../../src/sandbox-clock';
import { startSandbox } from '../../sandbox/server/sandbox';

/** `npm run sandbox` as a person runs it, and the refusals that keep it out of production. */

const ROOT = resolve(__dirname, '..', '..');

function run(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', TMPDIR: env['TMPDIR'] ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }));
  return { child, exited, out: () => out, err: () => err };
}

const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run sandbox', () => {
  it('prints exactly one URL line; Ctrl-C stops every process it started and removes its temporary files', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ivs-sandbox-cli-'));
    try {
      const sandbox = run(['sandbox/server/main.ts', '--port', '0'], { TMPDIR: tmp });
      const url = await new Promise<string>((done, fail) => {
        const check = () => {
          const m = /^ivs-bot sandbox: (http:\/\/127\.0\.0\.1:\d+)\n/.exec(sandbox.out());
          if (m?.[1]) done(m[1]);
        };
        sandbox.child.stdout?.on('data', check);
        void sandbox.exited.then((e) => fail(new Error(`sandbox exited ${JSON.stringify(e)}: ${sandbox.err()}`)));
      });
      const state = (await (await fetch(`${url}/api/state`)).json()) as { replicas: Array<{ pid: number; port: number }> };
      const pids = state.replicas.map((r) => r.pid);
      expect(pids.every(alive)).toBe(true);
      // tsx keeps a compile cache of its own there: not the sandbox's.
      const ours = () => readdirSync(tmp).filter((n) => !n.startsWith('tsx-'));
      expect(ours().length).toBeGreaterThan(0);

      sandbox.child.kill('SIGINT');
      const exit = await sandbox.exited;
      expect(exit.code).toBe(0);
      expect(sandbox.out().trim().split('\n')).toEqual([`ivs-bot sandbox: ${url}`]);
      expect(pids.some(alive)).toBe(false);
      for (const r of state.replicas) expect(await listening(r.port)).toBe(false);
      expect(ours()).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to run with NODE_ENV=production, in one line', async () => {
    const sandbox = run(['sandbox/server/main.ts', '--port', '0'], { NODE_ENV: 'production' });
    const exit = await sandbox.exited;
    expect(exit.code).toBe(1);
    expect(sandbox.err()).toBe('sandbox: The sandbox refuses to run with NODE_ENV=production: it is a development and demonstration tool.\n');
    expect(sandbox.out()).toBe('');
  }, 30_000);

  it('says in one line that redis-server is missing when it is not on the PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ivs-no-redis-'));
    try {
      const sandbox = run(['sandbox/server/main.ts', '--port', '0'], { PATH: empty });
      expect((await sandbox.exited).code).toBe(1);
      expect(sandbox.err()).toMatch(/^sandbox: redis-server is not on the PATH: install Redis .*\n$/);
      expect(sandbox.out()).toBe('');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 30_000);

  it('a bad --port is named', async () => {
    const sandbox = run(['sandbox/server/main.ts', '--port', 'eighty'], {});
    expect((await sandbox.exited).code).toBe(2);
    expect(sandbox.err()).toContain('--port takes a port number');
  }, 30_000);

  it('startSandbox refuses NODE_ENV=production too', async () => {
    const before = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      await expect(startSandbox({ port: 0 })).rejects.toThrow(/refuses to run with NODE_ENV=production/);
    } finally {
      if (before === undefined) delete process.env['NODE_ENV'];
      else process.env['NODE_ENV'] = before;
    }
  });
});

describe('the bot in sandbox mode (IVS_SANDBOX_CLOCK_FILE)', () => {
  const base = {
    SLACK_BOT_TOKEN: 'xoxb-x',
    SLACK_SIGNING_SECRET: 's',
    INTERCOM_ACCESS_TOKEN: 'i',
    VAULT_ADDR: 'http://127.0.0.1:8200',
    VAULT_TOKEN: 't',
    IVS_CHANNELS: 'C0OPS',
    IVS_APPROVERS: 'U0BOB',
  };

  it('is refused by config validation with NODE_ENV=production', () => {
    const loaded = loadConfig({ ...base, IVS_SANDBOX_CLOCK_FILE: '/tmp/clock', NODE_ENV: 'production' });
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.problems).toEqual(['IVS_SANDBOX_CLOCK_FILE is a sandbox setting (npm run sandbox) and is refused with NODE_ENV=production']);
  });

  it('is accepted otherwise, and absent by default', () => {
    const sandboxed = loadConfig({ ...base, IVS_SANDBOX_CLOCK_FILE: '/tmp/clock', NODE_ENV: 'development' });
    expect(sandboxed.ok && sandboxed.config.sandbox).toEqual({ clockFile: '/tmp/clock' });
    const plain = loadConfig({ ...base, NODE_ENV: 'production' });
    expect(plain.ok && plain.config.sandbox).toBeUndefined();
  });

  it('the real entry point stops at start with that message', async () => {
    const bot = run(['src/main.ts'], { ...base, IVS_SANDBOX_CLOCK_FILE: '/tmp/clock', NODE_ENV: 'production' });
    expect((await bot.exited).code).toBe(1);
    expect(bot.err()).toContain('IVS_SANDBOX_CLOCK_FILE is a sandbox setting (npm run sandbox) and is refused with NODE_ENV=production');
  }, 30_000);

  it('runs on real time plus the offset in the file, read afresh each time; a missing file keeps the last offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ivs-clock-'));
    const file = join(dir, 'offset');
    try {
      const clock = fileOffsetClock(file);
      expect(Math.abs(clock.now() - Date.now())).toBeLessThan(1_000);
      writeFileSync(file, String(3_600_000));
      expect(clock.now() - Date.now()).toBeGreaterThan(3_599_000);
      rmSync(file);
      expect(existsSync(file)).toBe(false);
      expect(clock.now() - Date.now()).toBeGreaterThan(3_599_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
