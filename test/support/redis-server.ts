import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway redis-server for one test file: no persistence, its own port and directory. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops and starts again on the same port (data is gone: nothing is persisted). */
  restart(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers, as with a hung server. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): Promise<void>;
}

const READY_LINE = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed or interrupted test run must not leave redis-servers behind.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function spawnServer(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not become ready in ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (READY_LINE.test(output)) {
        cleanup();
        resolve(child);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    const onError = (err: Error): void => fail(err);
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining so a full pipe never blocks the server.
      child.stdout?.resume();
      child.stderr?.resume();
    }
    function fail(err: Error): void {
      cleanup();
      child.kill('SIGKILL');
      reject(err);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    // A paused server cannot handle SIGTERM; SIGKILL works in any state and nothing is persisted.
    child.kill('SIGKILL');
  });
}

export async function startRedis(): Promise<TestRedis> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'ivs-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // The free port may be taken between probing and binding; a few attempts make that harmless.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(port, dir);
    } catch (err) {
      if (attempt === 4) throw err;
    }
  }
  let current = child as ChildProcess;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await stopServer(current);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopServer(current);
      mkdirSync(dir, { recursive: true });
      current = await spawnServer(port, dir);
    },
    async pause() {
      current.kill('SIGSTOP');
    },
    async resume() {
      current.kill('SIGCONT');
    },
  };
}
