import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { slackSignature, SLACK_FORM_CONTENT_TYPE, nowInSeconds } from '../emulators/slack-signer';

/** One signed Slack request, built before the clock starts so the load generator only sends. */
export interface PreparedRequest {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** Signs `body` the way Slack does (contract slack.md §1), for Bolt's default `/slack/events`. */
export function prepare(body: string, secret: string): PreparedRequest {
  const ts = nowInSeconds();
  const buf = Buffer.from(body, 'utf8');
  return {
    body: buf,
    headers: {
      'content-type': SLACK_FORM_CONTENT_TYPE,
      'content-length': String(buf.length),
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(secret, body, ts),
    },
  };
}

export interface LoadResult {
  /** Ack latency per request, ms, in sending order. */
  readonly latencies: number[];
  /** performance.now() at which each request was sent. */
  readonly sentAt: number[];
  readonly statuses: Map<number, number>;
  /** performance.now() at which each answer had arrived (NaN if none did). */
  readonly answeredAt: number[];
  /** Whether each answer carried a body (a command answered in the ack itself), in sending order. */
  readonly answeredInAck: boolean[];
  /** Wall time from the first send to the last answer, ms. */
  readonly elapsedMs: number;
  readonly errors: number;
}

/** POSTs one prepared request and resolves with its HTTP status, and whether it had a body, once the whole answer has arrived. */
function send(agent: Agent, host: string, port: number, req: PreparedRequest): Promise<{ status: number; hasBody: boolean }> {
  return new Promise((resolve, reject) => {
    const r = request({ agent, host, port, method: 'POST', path: '/slack/events', headers: req.headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, hasBody: bytes > 0 }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Per-request results of one load run, filled in as answers arrive. */
function recorder(n: number) {
  const latencies = new Array<number>(n).fill(Number.NaN);
  const sentAt = new Array<number>(n).fill(Number.NaN);
  const answeredInAck = new Array<boolean>(n).fill(false);
  const answeredAt = new Array<number>(n).fill(Number.NaN);
  const statuses = new Map<number, number>();
  let errors = 0;
  return {
    sent: (i: number): number => (sentAt[i] = performance.now()),
    answered: (i: number, t0: number, { status, hasBody }: { status: number; hasBody: boolean }): void => {
      const now = performance.now();
      answeredAt[i] = now;
      latencies[i] = now - t0;
      answeredInAck[i] = hasBody;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    },
    failed: (): void => {
      errors += 1;
    },
    result: (elapsedMs: number): LoadResult => ({
      latencies: latencies.filter((l) => Number.isFinite(l)),
      sentAt,
      answeredAt,
      answeredInAck,
      statuses,
      elapsedMs,
      errors,
    }),
  };
}

/**
 * Closed loop: `concurrency` senders, each sending its next request as soon as its previous one was
 * answered, over keep-alive connections, until every prepared request was sent once.
 */
export async function runClosedLoop(baseUrl: string, requests: readonly PreparedRequest[], concurrency: number): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const port = Number(url.port);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const rec = recorder(requests.length);
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const req = requests[i];
      if (req === undefined) return;
      const t0 = rec.sent(i);
      try {
        rec.answered(i, t0, await send(agent, url.hostname, port, req));
      } catch {
        rec.failed();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return rec.result(elapsedMs);
}

/**
 * Open loop: request i is sent at start + i / rate whatever happened to the earlier ones (so a slow
 * answer cannot hold the next requests back and hide itself), over keep-alive connections.
 */
export async function runOpenLoop(baseUrl: string, requests: readonly PreparedRequest[], ratePerSecond: number): Promise<LoadResult> {
  const url = new URL(baseUrl);
  const port = Number(url.port);
  const agent = new Agent({ keepAlive: true });
  const rec = recorder(requests.length);
  const interval = 1000 / ratePerSecond;
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < requests.length; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const req = requests[i] as PreparedRequest;
    const t0 = rec.sent(i);
    inFlight.push(
      send(agent, url.hostname, port, req).then(
        (answer) => rec.answered(i, t0, answer),
        () => rec.failed(),
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return rec.result(elapsedMs);
}
