import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FromChild, ProcessSample, ToChild } from './ipc';

/** A measured process (the bot or the bare Bolt app) run by the bench, reachable over HTTP and IPC. */
export interface MeasuredProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Memory and CPU used so far; with `gc` (the default) after a full collection. */
  sample(opts?: { gc?: boolean }): Promise<ProcessSample>;
  /** Lines the process wrote to stdout/stderr (its log at the configured level). */
  readonly output: readonly string[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A crashed bench must not leave measured processes behind; each is killed by its own pid.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Forks `script` (a .ts file in bench/) under the same tsx loader as the bench, with --expose-gc, and
 * only the given environment (so nothing from the caller's shell, a SLACK_APP_TOKEN say, changes the mode).
 */
export async function startMeasuredProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  opts: { cpuProfileDir?: string } = {},
): Promise<MeasuredProcess> {
  installExitHook();
  const profile = opts.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`] : [];
  const child = fork(join(__dirname, script), [], {
    execArgv: [...process.execArgv, '--expose-gc', ...profile],
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));

  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) output.push(line);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const pending = new Map<number, (s: ProcessSample) => void>();
  let nextId = 0;
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${output.join('\n')}`)), START_TIMEOUT_MS);
    child.on('message', (raw: unknown) => {
      const m = raw as FromChild;
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.port);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`${name} failed to start: ${m.message}\n${output.join('\n')}`));
      } else if (m.type === 'sample') {
        pending.get(m.id)?.(m.sample);
        pending.delete(m.id);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready:\n${output.join('\n')}`));
    });
  });
  const port = await ready;
  const send = (m: ToChild): void => {
    child.send(m);
  };

  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    output,
    sample: (opts = {}) =>
      new Promise<ProcessSample>((resolve, reject) => {
        if (child.exitCode !== null) {
          reject(new Error(`${name} has exited`));
          return;
        }
        const id = ++nextId;
        pending.set(id, resolve);
        send({ type: 'sample', id, gc: opts.gc ?? true });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        send({ type: 'stop' });
      }),
  };
}
