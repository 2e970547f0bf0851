import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

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
  /** Kills the server but keeps its directory and port; `start()` brings it back (with `persist`, with its data). */
  kill(): Promise<void>;
  /** Starts it again after `kill()`, on the same port. */
  start(): Promise<void>;
}

export interface StartRedisOptions {
  /** Every write fsynced to an append-only file, so a killed and restarted server keeps its data. Default false. */
  readonly persist?: boolean;
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

/** A plain server on `port`: no persistence, its files in `dir`. */
function serverArgs(port: number, dir: string, persist = false): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    ...(persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
}

/** Resolves once the server's output matches `ready`; one that exits or stays silent first is killed and rejected. */
function spawnServer(args: readonly string[], ready: RegExp = READY_LINE): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not become ready in ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
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

export async function startRedis(opts: StartRedisOptions = {}): Promise<TestRedis> {
  const persist = opts.persist ?? false;
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'ivs-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // The free port may be taken between probing and binding; a few attempts make that harmless.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnServer(serverArgs(port, dir, persist));
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
      current = await spawnServer(serverArgs(port, dir, persist));
    },
    async kill() {
      await stopServer(current);
    },
    async start() {
      if (current.exitCode === null && current.signalCode === null) return;
      mkdirSync(dir, { recursive: true });
      current = await spawnServer(serverArgs(port, dir, persist));
    },
    async pause() {
      current.kill('SIGSTOP');
    },
    async resume() {
      current.kill('SIGCONT');
    },
  };
}

/** A redis-server started some other way (a sentinel, a cluster node), on a free port with its own directory. */
export interface RedisProcess {
  readonly port: number;
  stop(): Promise<void>;
}

/** Runs redis-server with `args(port, dir)`; ready once its output matches `ready`. */
export async function startRedisProcess(args: (port: number, dir: string) => readonly string[], ready: RegExp = READY_LINE): Promise<RedisProcess> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'ivs-redis-'));
  const port = await freePort();
  const child = await spawnServer(args(port, dir), ready);
  return {
    port,
    async stop() {
      await stopServer(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
