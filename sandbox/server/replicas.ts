import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The bot's replicas: each one `src/main.ts` in its own process, exactly as production starts it
 * (config from the environment, createBot, signals). The sandbox bundles src/main.ts once with
 * esbuild (`bundleBot`), which starts about twice as fast as compiling through tsx in every
 * process. Each replica keeps its port across kill and restart, so the sandbox can always address it.
 */

const ROOT = resolve(__dirname, '..', '..');

/** src/main.ts as one CommonJS file in `dir`; its packages stay in the repository's node_modules. */
export async function bundleBot(dir: string): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = resolve(dir, 'ivs-bot.cjs');
  await esbuild.build({
    entryPoints: [resolve(ROOT, 'src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    outfile,
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return outfile;
}
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;
const LOG_LINES = 200;

export interface ReplicaState {
  name: string;
  alive: boolean;
  pid: number | null;
  port: number;
  /** The replica id the bot logs (`<pid>-…`), to tell which one holds a lease. */
  startedAt: number | null;
}

const everyChild = new Set<ChildProcess>();
let exitHook = false;

export class Replica {
  private child: ChildProcess | undefined;
  private startedAt: number | null = null;
  private readonly logs: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly bundle: string,
    private readonly env: Record<string, string>,
    private readonly onChange: () => void,
    /** Every line the replica writes, as it comes (the drill keeps them all for its leak canary). */
    private readonly onLine?: (line: string) => void,
  ) {
    if (!exitHook) {
      exitHook = true;
      // Whatever happens to the sandbox, no replica outlives it.
      process.on('exit', () => {
        for (const c of everyChild) c.kill('SIGKILL');
      });
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | null {
    return this.alive ? (this.child?.pid ?? null) : null;
  }

  state(): ReplicaState {
    return { name: this.name, alive: this.alive, pid: this.pid, port: this.port, startedAt: this.alive ? this.startedAt : null };
  }

  /** The last lines the replica wrote (pino JSON; the bot redacts its secrets by construction). */
  recentLogs(): string[] {
    return [...this.logs];
  }

  async start(): Promise<void> {
    if (this.alive) return;
    const child = spawn(process.execPath, ['--enable-source-maps', this.bundle], {
      cwd: ROOT,
      env: { ...this.env, PORT: String(this.port), NODE_PATH: resolve(ROOT, 'node_modules') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    everyChild.add(child);
    this.child = child;
    const keepLine = (line: string) => {
      if (line.trim() === '') return;
      this.onLine?.(line);
      this.logs.push(line);
      if (this.logs.length > LOG_LINES) this.logs.shift();
    };
    // A chunk may end inside a line: its tail waits for the rest, so no line is ever cut in two.
    const lineReader = () => {
      let partial = '';
      return {
        data: (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) keepLine(line);
        },
        end: () => keepLine(partial),
      };
    };
    const out = lineReader();
    const err = lineReader();
    child.stdout?.on('data', out.data);
    child.stdout?.on('end', out.end);
    child.stderr?.on('data', err.data);
    child.stderr?.on('end', err.end);
    child.once('exit', () => {
      everyChild.delete(child);
      this.onChange();
    });
    await this.waitReady(child);
    this.startedAt = Date.now();
    this.onChange();
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`replica ${this.name} exited before it was ready:\n${this.logs.slice(-10).join('\n')}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`replica ${this.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${this.logs.slice(-10).join('\n')}`);
  }

  /** SIGKILL: a crash, mid-execution if it is executing. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGKILL');
    });
  }

  /** SIGTERM (the bot drains), then SIGKILL after a short grace: the sandbox does not wait 20 s to quit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.kill('SIGTERM');
    });
  }
}
