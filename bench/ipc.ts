/** Messages between the bench (parent) and the processes it measures (bot, bare Bolt), over fork()'s IPC channel. */

export interface ProcessSample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Microseconds of CPU (user + system) this process used since it started. */
  readonly cpuMicros: number;
  /** Whether global.gc ran before the sample (the process was started with --expose-gc). */
  readonly gcRan: boolean;
}

/** `gc: false` samples CPU without forcing a collection (a forced GC would be billed to the run being measured). */
export type ToChild = { readonly type: 'sample'; readonly id: number; readonly gc: boolean } | { readonly type: 'stop' };

export type FromChild =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'sample'; readonly id: number; readonly sample: ProcessSample }
  | { readonly type: 'failed'; readonly message: string };

/** Runs in the child: answers sample requests and stops on request or when the parent goes away. */
export function serveParent(stop: () => Promise<void>): void {
  const send = (m: FromChild): void => {
    process.send?.(m);
  };
  process.on('message', (raw: unknown) => {
    const m = raw as ToChild;
    if (m.type === 'sample') {
      const gc = m.gc ? (globalThis as { gc?: () => void }).gc : undefined;
      // Twice: the first pass may only promote what the second one frees.
      if (gc) {
        gc();
        gc();
      }
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      send({
        type: 'sample',
        id: m.id,
        sample: {
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          heapTotal: mem.heapTotal,
          external: mem.external,
          cpuMicros: cpu.user + cpu.system,
          gcRan: Boolean(gc),
        },
      });
    } else if (m.type === 'stop') {
      stop().finally(() => process.exit(0));
    }
  });
  // The bench crashed or was interrupted: do not outlive it.
  process.on('disconnect', () => process.exit(0));
}

export function reportReady(port: number): void {
  process.send?.({ type: 'ready', port } satisfies FromChild);
}

export function reportFailure(err: unknown): void {
  process.send?.({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromChild);
}
