import { performance } from 'node:perf_hooks';
import type { SlackDouble } from '../emulators/slack-api';
import { slashCommand } from '../emulators/slack-payloads';
import { prepare, runClosedLoop, runOpenLoop, type PreparedRequest } from './load';
import type { MeasuredProcess } from './processes';
import { CHANNEL, REQUESTER, SIGNING_SECRET } from './world';
import { mean, percentile } from './stats';

/** What one run against one app produced, raw. */
export interface AckSamples {
  readonly target: string;
  readonly command: string;
  readonly requests: number;
  /** Ack latency of every answered request, ms. */
  readonly latencies: readonly number[];
  readonly elapsedMs: number;
  /** Requests that got no answer or a status other than 200. */
  readonly failures: number;
  /** CPU the app spent during the run, µs (for /ivs list including the work after the ack). */
  readonly cpuMicros: number;
  /** /ivs list on the bot: command sent → list in the ack or at the response_url, ms. */
  readonly endToEnd?: readonly number[];
  /** Commands answered with a body in the ack itself (a list shown again). */
  readonly answeredInAck: number;
  /** First send → last list arrived, ms. */
  readonly endToEndElapsedMs?: number;
}

export interface AckRun {
  readonly target: string;
  readonly command: string;
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  /** Acks per second over the runs. */
  readonly throughput: number;
  readonly failures: number;
  /** CPU the app spent per command, µs. */
  readonly cpuMicrosPerCommand: number;
  /** Share of commands answered in the ack itself. */
  readonly inAckShare: number;
  readonly endToEnd?: { readonly p50: number; readonly p99: number; readonly throughput: number };
}

export type LoadShape = { readonly kind: 'closed'; readonly concurrency: number } | { readonly kind: 'paced'; readonly ratePerSecond: number };

/** Pools the raw samples of several runs of the same command against the same app. */
export function summarize(runs: readonly AckSamples[]): AckRun {
  const first = runs[0];
  if (!first) throw new Error('no runs to summarize');
  const latencies = runs.flatMap((r) => r.latencies);
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const elapsed = runs.reduce((a, r) => a + r.elapsedMs, 0);
  const e2e = runs.flatMap((r) => r.endToEnd ?? []);
  const e2eElapsed = runs.reduce((a, r) => a + (r.endToEndElapsedMs ?? 0), 0);
  return {
    target: first.target,
    command: first.command,
    requests,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean: mean(latencies),
    throughput: (latencies.length / elapsed) * 1000,
    failures: runs.reduce((a, r) => a + r.failures, 0),
    cpuMicrosPerCommand: runs.reduce((a, r) => a + r.cpuMicros, 0) / requests,
    inAckShare: runs.reduce((a, r) => a + r.answeredInAck, 0) / requests,
    ...(e2e.length ? { endToEnd: { p50: percentile(e2e, 50), p99: percentile(e2e, 99), throughput: (e2e.length / e2eElapsed) * 1000 } } : {}),
  };
}

const RESPONSE_WAIT_MS = 120_000;

/** Arrival times of response_url posts, collected from before the commands are sent. */
export interface ResponseCollector {
  /** Resolves once `expected` posts have arrived (known only once every ack is in), with the time each arrived. */
  arrived(expected: number): Promise<Map<string, number>>;
}

/**
 * Records when each post whose response_url id starts with `prefix` reaches the Slack double. Set it
 * up before sending: the predicate sees every post as it arrives.
 */
export function collectResponses(slack: SlackDouble, prefix: string): ResponseCollector {
  const at = new Map<string, number>();
  let expected = Number.POSITIVE_INFINITY;
  const enough = slack.waitForResponse((p) => {
    if (p.id.startsWith(prefix) && !at.has(p.id)) at.set(p.id, performance.now());
    return at.size >= expected;
  }, RESPONSE_WAIT_MS);
  // When every post is in before `expected` is known, this waiter is never needed (nor awaited).
  enough.catch(() => undefined);
  return {
    arrived: (n) => {
      expected = n;
      return at.size >= n ? Promise.resolve(at) : enough.then(() => at);
    },
  };
}

let runSeq = 0;

/** Signed `/ivs <text>` commands whose response_urls are `<tag>.<i>` on the Slack double. */
export function commands(slack: SlackDouble, text: (i: number) => string, n: number, tag: string): PreparedRequest[] {
  return Array.from({ length: n }, (_, i) =>
    prepare(slashCommand({ text: text(i), userId: REQUESTER, channelId: CHANNEL, responseUrl: slack.responseUrl(`${tag}.${i}`) }), SIGNING_SECRET),
  );
}

/**
 * One run of `/ivs <text>` against `target`. With `awaitResponses`, it also waits until every
 * command's response_url post arrived (the list work after the ack), so nothing is left in flight for
 * the next run, and keeps that end-to-end time too.
 */
export async function ackRun(
  slack: SlackDouble,
  target: MeasuredProcess,
  text: string,
  n: number,
  shape: LoadShape,
  awaitResponses: boolean,
): Promise<AckSamples> {
  const tag = `ack${++runSeq}`;
  const requests = commands(slack, () => text, n, tag);
  const posts = awaitResponses ? collectResponses(slack, `${tag}.`) : undefined;
  const before = await target.sample({ gc: false });
  const load =
    shape.kind === 'closed' ? await runClosedLoop(target.url, requests, shape.concurrency) : await runOpenLoop(target.url, requests, shape.ratePerSecond);
  let endToEnd: number[] | undefined;
  let endToEndElapsedMs: number | undefined;
  if (posts) {
    // A list shown again is complete in the ack; any other one arrives later at its response_url.
    const at = await posts.arrived(load.answeredInAck.filter((inAck) => !inAck).length);
    endToEnd = [];
    let last = 0;
    for (let i = 0; i < n; i++) {
      const arrived = load.answeredInAck[i] ? load.answeredAt[i] : at.get(`${tag}.${i}`);
      const sent = load.sentAt[i];
      if (arrived === undefined || sent === undefined || !Number.isFinite(arrived)) continue;
      endToEnd.push(arrived - sent);
      last = Math.max(last, arrived);
    }
    endToEndElapsedMs = last - Math.min(...load.sentAt.filter((t) => Number.isFinite(t)));
  }
  const after = await target.sample({ gc: false });
  return {
    target: target.name,
    command: `/ivs ${text}`,
    requests: n,
    latencies: load.latencies,
    elapsedMs: load.elapsedMs,
    failures: n - (load.statuses.get(200) ?? 0),
    cpuMicros: after.cpuMicros - before.cpuMicros,
    answeredInAck: load.answeredInAck.filter(Boolean).length,
    ...(endToEnd ? { endToEnd, endToEndElapsedMs } : {}),
  };
}
