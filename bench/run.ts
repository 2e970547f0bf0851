import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ackRun, summarize, type AckRun, type AckSamples, type LoadShape } from './ack-latency';
import { approvalRun, type ApprovalSample } from './approvals';
import { deliveryRun, type DeliverySample } from './delivery';
import { measureDoubleRtt } from './doubles-rtt';
import { memoryRun, type MemoryPoint } from './memory';
import { redisRun } from './redis-round-trips';
import type { ProcessSample } from './ipc';
import { markdownTable, mean, median, mib, ms, percentile, signedMib, table } from './stats';
import type { MeasuredProcess } from './processes';
import { checkPathsUnderTest } from './sanity';
import { BOT_LOG_LEVEL, CHANNEL, LISTED_SECRETS, startBenchWorld, type BenchWorld } from './world';

// `npm run bench`: one run, everything on loopback, printed as a report. It exits 0 whatever the numbers
// say (it is a report, not a gate) and 1 only when something crashed.

function setting(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
  return n;
}

const settings = {
  requests: setting('BENCH_REQUESTS', 1500, 100),
  rounds: setting('BENCH_ROUNDS', 4, 1),
  warmup: setting('BENCH_WARMUP', 1500, 0),
  concurrency: setting('BENCH_CONCURRENCY', 16, 1),
  pacedRate: setting('BENCH_PACED_RATE', 100, 1),
  pacedRequests: setting('BENCH_PACED_REQUESTS', 800, 10),
  approvals: setting('BENCH_APPROVALS', 50, 1),
  memoryCommands: setting('BENCH_MEMORY_COMMANDS', 30_000, 200),
  memoryStep: setting('BENCH_MEMORY_STEP', 10_000, 100),
  memoryWarmup: setting('BENCH_MEMORY_WARMUP', 5_000, 0),
  redisRepeats: setting('BENCH_REDIS_REPEATS', 5, 1),
  deliveryChannels: setting('BENCH_DELIVERY_CHANNELS', 10, 1),
  deliveryPerChannel: setting('BENCH_DELIVERY_PER_CHANNEL', 50, 1),
};

/** BENCH_SECTIONS=2,3: run only those report sections (a quicker look at one number); unset: all of them. */
const onlySections = (process.env['BENCH_SECTIONS'] ?? '')
  .split(',')
  .map((x) => x.trim())
  .filter((x) => x !== '');
const runs = (n: number): boolean => onlySections.length === 0 || onlySections.includes(String(n));

/** Targets from issues 6 and 14 (with Slack out of the execution's path, the approval overhead target is 10 ms). */
const TARGET = {
  throughputRatio: 0.7,
  p99Ratio: 2,
  approvalOverheadMs: 10,
  /** Heap growth between the two memory samples that still counts as noise: ~100 bytes a command. */
  memoryNoiseBytesPerCommand: 100,
};

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
/** The report's sections are printed in their numbered order once all have run (they run in another order). */
const sections = new Map<number, string[]>();
let section = 0;
const log = (line = ''): void => {
  const lines = sections.get(section) ?? [];
  lines.push(line);
  sections.set(section, lines);
};
const progress = (line: string): void => {
  process.stderr.write(`… ${line}\n`);
};
const pass = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

interface Verdict {
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  readonly ok: boolean;
  readonly reading: string;
}

interface AckResults {
  readonly help: [AckRun, AckRun];
  /** The bot as deployed (IVS_LIST_MAX_AGE 5s): after the first, lists are answered in the ack. */
  readonly list: [AckRun, AckRun];
  /** The bot with IVS_LIST_MAX_AGE=0s: every list fetched and posted to the response_url. */
  readonly listFetching: [AckRun, AckRun];
  readonly pacedList: [AckRun, AckRun];
}

/**
 * Each comparison runs `rounds` times, the order of the two apps swapped every round so neither always
 * goes first, and the raw samples of all rounds are pooled.
 */
async function compare(world: BenchWorld, bot: MeasuredProcess, text: string, n: number, shape: LoadShape): Promise<[AckRun, AckRun]> {
  const { slack, bare } = world;
  const runs = new Map<string, AckSamples[]>([
    [bare.name, []],
    [bot.name, []],
  ]);
  for (let round = 0; round < settings.rounds; round++) {
    for (const target of round % 2 === 0 ? [bare, bot] : [bot, bare]) {
      runs.get(target.name)?.push(await ackRun(slack, target, text, n, shape, target !== bare && text === 'list'));
    }
  }
  return [summarize(runs.get(bare.name) ?? []), summarize(runs.get(bot.name) ?? [])];
}

async function ackPhase(world: BenchWorld): Promise<AckResults> {
  const { slack, bot, botFetching, bare } = world;
  const { requests: n, warmup, concurrency, rounds } = settings;
  const closed: LoadShape = { kind: 'closed', concurrency };
  progress(`warm-up: ${warmup} × /ivs help and /ivs list against each app`);
  for (const target of [bare, bot, botFetching]) {
    for (const text of ['help', 'list']) if (warmup > 0) await ackRun(slack, target, text, warmup, closed, target !== bare && text === 'list');
  }
  progress(`/ivs help: ${rounds} × ${n} requests per app, ${concurrency} in flight`);
  const help = await compare(world, bot, 'help', n, closed);
  progress(`/ivs list: ${rounds} × ${n} requests per app, ${concurrency} in flight (waiting for every list to arrive)`);
  const list = await compare(world, bot, 'list', n, closed);
  progress(`/ivs list with IVS_LIST_MAX_AGE=0s: ${rounds} × ${n} requests per app, ${concurrency} in flight`);
  const listFetching = await compare(world, botFetching, 'list', n, closed);
  progress(`/ivs list paced: ${settings.pacedRequests} requests per app at ${settings.pacedRate}/s`);
  const pacedList: [AckRun, AckRun] = [
    summarize([await ackRun(slack, bare, 'list', settings.pacedRequests, { kind: 'paced', ratePerSecond: settings.pacedRate }, false)]),
    summarize([await ackRun(slack, bot, 'list', settings.pacedRequests, { kind: 'paced', ratePerSecond: settings.pacedRate }, true)]),
  ];
  return { help, list, listFetching, pacedList };
}

function reportAck({ help, list, listFetching, pacedList }: AckResults, verdicts: Verdict[]): void {
  const row = (r: AckRun, how: string) => [
    r.command,
    how,
    r.target,
    String(r.requests),
    ms(r.p50),
    ms(r.p99),
    `${r.throughput.toFixed(0)}/s`,
    `${r.cpuMicrosPerCommand.toFixed(0)} µs`,
    `${(r.inAckShare * 100).toFixed(0)}%`,
    String(r.failures),
  ];
  const closedHow = `${settings.concurrency} in flight`;
  const pacedHow = `paced ${settings.pacedRate}/s`;
  log('1. Slash-command ack (send → HTTP answer of a signed POST to /slack/events), keep-alive connections');
  log(
    table(
      ['command', 'load', 'app', 'N', 'ack p50', 'ack p99', 'throughput', 'CPU/command', 'body in ack', 'failed'],
      [
        ...help.map((r) => row(r, closedHow)),
        ...list.map((r) => row(r, closedHow)),
        ...listFetching.map((r) => row(r, closedHow)),
        ...pacedList.map((r) => row(r, pacedHow)),
      ],
    ),
  );
  for (const [label, r] of [
    [closedHow, list[1]],
    [`${closedHow}, list max age 0s`, listFetching[1]],
    [pacedHow, pacedList[1]],
  ] as const) {
    if (r.endToEnd) {
      log(
        `   /ivs list end to end, ${label} (command sent → list in the ack or at the response_url): p50 ${ms(r.endToEnd.p50)}, p99 ${ms(r.endToEnd.p99)}, ` +
          `${r.endToEnd.throughput.toFixed(0)} lists/s completed`,
      );
    }
  }
  log(
    `   a fetched list: 1 Intercom list + ${LISTED_SECRETS} Vault metadata reads + 1 response_url post after an empty ack; a list shown again ` +
      `(younger than IVS_LIST_MAX_AGE, nothing written since): rendered into the ack, nothing else`,
  );
  const fetchCpu = listFetching[1].cpuMicrosPerCommand;
  log(
    `   with IVS_LIST_MAX_AGE=0s the list work after the ack shares the bot's one event loop with the acks: at ${fetchCpu.toFixed(0)} µs of CPU per list ` +
      `it can finish about ${(1e6 / fetchCpu).toFixed(0)} lists/s, and with ${settings.concurrency} commands always in flight the acks cannot outrun that`,
  );
  {
    const [bare, bot] = listFetching;
    const tr = bot.throughput / bare.throughput;
    const pr = bot.p99 / bare.p99;
    log(
      `   /ivs list, IVS_LIST_MAX_AGE=0s, ${closedHow}: throughput ratio ${tr.toFixed(2)}, p99 ratio ${pr.toFixed(2)} (information: not the deployed setting)`,
    );
    verdicts.push({
      measure: '/ivs list ack vs bare Bolt, IVS_LIST_MAX_AGE=0s',
      value: `${bot.throughput.toFixed(0)}/s vs ${bare.throughput.toFixed(0)}/s = ${(tr * 100).toFixed(0)}%, p99 ${ms(bot.p99)} vs ${ms(bare.p99)} = ${pr.toFixed(2)}×`,
      target: '(info)',
      ok: true,
      reading:
        'every list fetched from Intercom and Vault and posted to the response_url after the ack: the bot is saturated by that work (see CPU per command)',
    });
  }
  for (const [bare, bot] of [help, list]) {
    const tr = bot.throughput / bare.throughput;
    const pr = bot.p99 / bare.p99;
    log(
      `   ${bot.command}, ${closedHow}: throughput ratio ${tr.toFixed(2)} (target ≥ ${TARGET.throughputRatio}), p99 ratio ${pr.toFixed(2)} (target ≤ ${TARGET.p99Ratio})`,
    );
    verdicts.push({
      measure: `${bot.command} ack throughput vs bare Bolt`,
      value: `${bot.throughput.toFixed(0)}/s vs ${bare.throughput.toFixed(0)}/s = ${(tr * 100).toFixed(0)}%`,
      target: `≥ ${TARGET.throughputRatio * 100}%`,
      ok: tr >= TARGET.throughputRatio,
      reading:
        `acks per second with ${settings.concurrency} requests in flight, bot ÷ a Bolt app that only acks (same Bolt, receiver, signing)` +
        (bot.command === '/ivs list'
          ? `; ${(bot.inAckShare * 100).toFixed(1)}% of the lists were shown again in the ack, the rest fetched (IVS_LIST_MAX_AGE 5s)`
          : ''),
    });
    verdicts.push({
      measure: `${bot.command} ack p99 vs bare Bolt`,
      value: `${ms(bot.p99)} vs ${ms(bare.p99)} = ${pr.toFixed(2)}×`,
      target: `≤ ${TARGET.p99Ratio}×`,
      ok: pr <= TARGET.p99Ratio,
      reading: `99th percentile of send → HTTP answer (the ack Slack waits 3 s for) at ${settings.concurrency} in flight, bot ÷ bare Bolt`,
    });
  }
  const [pacedBare, pacedBot] = pacedList;
  const pacedRatio = pacedBot.p99 / pacedBare.p99;
  log(`   /ivs list, ${pacedHow} (well below the bot's list capacity): p99 ratio ${pacedRatio.toFixed(2)}`);
  verdicts.push({
    measure: `/ivs list ack p99 vs bare Bolt, ${pacedHow}`,
    value: `${ms(pacedBot.p99)} vs ${ms(pacedBare.p99)} = ${pacedRatio.toFixed(2)}×`,
    target: '(info)',
    ok: true,
    reading: 'the same at a steady rate: the ack path without a backlog (p99 of a few ms either way; the ratio of two sub-ms numbers swings between runs)',
  });
  for (const [label, r] of [
    [closedHow, list[1]],
    [`${closedHow}, IVS_LIST_MAX_AGE=0s`, listFetching[1]],
    [pacedHow, pacedBot],
  ] as const) {
    if (!r.endToEnd) continue;
    verdicts.push({
      measure: `/ivs list end to end, ${label}`,
      value: `p50 ${ms(r.endToEnd.p50)}, p99 ${ms(r.endToEnd.p99)}, ${r.endToEnd.throughput.toFixed(0)} lists/s`,
      target: '(info)',
      ok: true,
      reading: 'command sent → rendered list, in the ack or at the response_url (after the ack: Intercom list, Vault reads, respond)',
    });
  }
  verdicts.push({
    measure: 'CPU per command',
    value: `bot: help ${help[1].cpuMicrosPerCommand.toFixed(0)} µs, list ${list[1].cpuMicrosPerCommand.toFixed(0)} µs (max age 0s: ${listFetching[1].cpuMicrosPerCommand.toFixed(0)} µs); bare Bolt: ${help[0].cpuMicrosPerCommand.toFixed(0)} µs`,
    target: '(info)',
    ok: true,
    reading: 'CPU (user+system) the app process used during the closed-loop runs ÷ commands; list includes its work after the ack',
  });
}

function reportMemory(cold: ProcessSample, points: MemoryPoint[], verdicts: Verdict[]): void {
  const first = points[0];
  const mid = points[1];
  const last = points[points.length - 1];
  if (!first || !mid || !last) return;
  log(
    `4. Bot memory over mixed /ivs list + /ivs help, after the runs above and ${settings.memoryWarmup} more to warm up (after a full GC: the bot runs with --expose-gc)`,
  );
  log(`   at start, before any command: rss ${mib(cold.rss)}, heapUsed ${mib(cold.heapUsed)}`);
  log(
    table(
      ['commands', 'rss', 'heapUsed', 'heapTotal', 'external'],
      points.map((p) => [String(p.commands), mib(p.sample.rss), mib(p.sample.heapUsed), mib(p.sample.heapTotal), mib(p.sample.external)]),
    ),
  );
  // After the first part (the 10,000 commands the issue names), the heap must stay put for the rest.
  const steady = last.sample.heapUsed - mid.sample.heapUsed;
  const overall = last.sample.heapUsed - first.sample.heapUsed;
  const commands = last.commands - mid.commands;
  const noise = TARGET.memoryNoiseBytesPerCommand * commands;
  log(
    `   heapUsed ${signedMib(overall)} over ${last.commands} commands, ${signedMib(steady)} from ${mid.commands} to ${last.commands} ` +
      `(${(steady / commands).toFixed(0)} B/command; noise allowance ${signedMib(noise)}); rss ${signedMib(last.sample.rss - first.sample.rss)} overall`,
  );
  if (!last.sample.gcRan) log('   (global.gc was not available: heap numbers include garbage)');
  verdicts.push({
    measure: `bot memory after ${mid.commands.toLocaleString('en')} and ${last.commands.toLocaleString('en')} commands`,
    value:
      `rss ${mib(first.sample.rss)} → ${mib(mid.sample.rss)} → ${mib(last.sample.rss)}, heapUsed ${points.map((p) => mib(p.sample.heapUsed)).join(' → ')} ` +
      `(${(steady / commands).toFixed(0)} B/command from ${mid.commands.toLocaleString('en')} on)`,
    target: `no growth beyond noise (≤ ${TARGET.memoryNoiseBytesPerCommand} B/command)`,
    ok: steady <= noise,
    reading: `after a full GC, every ${settings.memoryStep.toLocaleString('en')} mixed list+help commands (after ${settings.memoryWarmup.toLocaleString('en')} to warm up; cold start: rss ${mib(cold.rss)}); the verdict is the heap growth after the first ${mid.commands.toLocaleString('en')}`,
  });
}

function reportRedis(counts: Awaited<ReturnType<typeof redisRun>>, verdicts: Verdict[]): void {
  log('3. Redis commands per operation (MONITOR on a redis-server only the bot uses)');
  const rows: string[][] = [];
  for (const [op, samples] of counts) {
    const trips = samples.map((s) => s.roundTrips);
    const lua = samples.map((s) => s.insideLua);
    const byCommand = samples[samples.length - 1]?.byCommand ?? {};
    const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`);
    rows.push([
      op,
      range(trips),
      range(lua),
      Object.entries(byCommand)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ') || '—',
    ]);
    verdicts.push({
      measure: `Redis round trips: ${op}`,
      value: range(trips),
      target: '(info)',
      ok: true,
      reading: `commands the bot sent to Redis for it (${range(lua)} more ran inside Lua scripts)`,
    });
  }
  log(table(['operation', 'round trips', 'inside Lua', 'commands sent'], rows));
  log(`   (${settings.redisRepeats} repetitions each; a range means they differed)`);
}

function reportDelivery(sample: DeliverySample, verdicts: Verdict[]): void {
  log('5. Slack delivery through the outbox (in the bench process; not paced, the double does not rate-limit)');
  log(`   ${sample.events} thread replies over ${sample.channels} channels recorded one after another: all delivered in ${ms(sample.ms)}`);
  log(
    `   Redis commands sent: ${Object.entries(sample.byCommand)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ')}`,
  );
  verdicts.push({
    measure: 'Slack delivery through the outbox',
    value: `${sample.eventsPerSecond.toFixed(0)} events/s; ${sample.roundTripsPerEvent.toFixed(2)} Redis round trips per event`,
    target: '(info)',
    ok: true,
    reading:
      `${sample.events} thread replies over ${sample.channels} channels, recorded → posted to the Slack double, without pacing (production paces each channel to about 1 message/s); ` +
      'round trips count recording and delivering (claims, reads, the step that removes a delivered item)',
  });
}

function reportApprovals(samples: ApprovalSample[], rtt: Awaited<ReturnType<typeof measureDoubleRtt>>, verdicts: Verdict[]): void {
  log('2. Decisive Approve click → material written to Vault, one approval after another');
  log(`   doubles' own round trip (median of 150 direct calls each): ${[...rtt].map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} ms`);
  const calls = samples[samples.length - 1]?.calls;
  if (calls) log(`   double calls on the way (last approval): ${[...calls].map(([k, v]) => `${k}×${v}`).join(', ')}`);
  const col = (f: (s: ApprovalSample) => number) => samples.map(f);
  const row = (name: string, xs: number[]) => [name, ms(median(xs)), ms(percentile(xs, 95)), ms(Math.max(...xs)), ms(mean(xs))];
  log(
    table(
      ['', 'p50', 'p95', 'max', 'mean'],
      [
        row(
          'click → Vault write',
          col((s) => s.clickToVaultMs),
        ),
        row(
          "doubles' own time",
          col((s) => s.doublesMs),
        ),
        row(
          'bot overhead',
          col((s) => s.overheadMs),
        ),
        row(
          'click → Succeeded',
          col((s) => s.clickToSucceededMs),
        ),
      ],
    ),
  );
  log("   where the time goes (ms after the click; each span holds the bot's steps and the doubles' answer to the call before it):");
  log(
    table(
      ['span', 'p50', 'p95'],
      [
        ['click → click acked (Bolt)', col((s) => s.phases.ackMs)],
        ['click → Vault preflight arrives', col((s) => s.phases.preflightMs)],
        ['preflight → Intercom create arrives', col((s) => s.phases.createMs - s.phases.preflightMs)],
        ['create → material write arrives', col((s) => s.clickToVaultMs - s.phases.createMs)],
      ].map(([name, xs]) => [name as string, ms(median(xs as number[])), ms(percentile(xs as number[], 95))]),
    ),
  );
  const overhead = median(col((s) => s.overheadMs));
  verdicts.push({
    measure: 'bot overhead per approval',
    value: `p50 ${ms(overhead)}, p95 ${ms(
      percentile(
        col((s) => s.overheadMs),
        95,
      ),
    )} (raw p50 ${ms(median(col((s) => s.clickToVaultMs)))})`,
    target: `≤ ${TARGET.approvalOverheadMs} ms`,
    ok: overhead <= TARGET.approvalOverheadMs,
    reading: `decisive click sent → Vault double records the material write, minus the doubles' raw round trip for each call on the way; over ${samples.length} approvals (Redis time stays in)`,
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpu = os.cpus();
  out(`ivs-bot benchmark — ${new Date().toISOString()}`);
  out(`machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${os.platform()}`);
  out(
    `settings: ${settings.rounds} rounds × ${settings.requests} requests per app and command after ${settings.warmup} warm-up, ${settings.concurrency} in flight; ` +
      `paced list ${settings.pacedRequests} at ${settings.pacedRate}/s; ${settings.approvals} approvals; ${settings.memoryCommands} commands for memory after ${settings.memoryWarmup} to warm up; ` +
      `${settings.redisRepeats} repetitions for Redis counts`,
  );
  out(
    `ivs-bot log level: ${BOT_LOG_LEVEL} (pino JSON to a pipe the bench drains). ` +
      'The bot and the bare Bolt app each run in their own process, redis-server in another; the doubles and the load generator share this one.',
  );
  out();

  progress('starting redis-server, the doubles, ivs-bot and the bare Bolt app');
  const world = await startBenchWorld();
  const verdicts: Verdict[] = [];
  try {
    const cold = await world.bot.sample();
    await checkPathsUnderTest(world);

    section = 1;
    if (runs(1)) reportAck(await ackPhase(world), verdicts);

    section = 4;
    if (runs(4)) {
      progress(`memory: ${settings.memoryWarmup} mixed commands to warm up, then ${settings.memoryCommands} measured`);
      reportMemory(
        cold,
        await memoryRun(world.slack, world.bot, settings.memoryCommands, settings.memoryStep, settings.concurrency, settings.memoryWarmup),
        verdicts,
      );
    }

    section = 3;
    if (runs(3)) {
      progress(`redis: ${settings.redisRepeats} × help, open, non-decisive and decisive approve`);
      reportRedis(await redisRun(world, settings.redisRepeats), verdicts);
    }

    section = 2;
    if (runs(2)) {
      progress("approvals: measuring the doubles' own latency");
      const rtt = await measureDoubleRtt(world, CHANNEL);
      progress(`approvals: ${settings.approvals} create requests approved one after another`);
      reportApprovals(await approvalRun(world, rtt, settings.approvals), rtt, verdicts);
    }

    section = 5;
    if (runs(5)) {
      progress(`delivery: ${settings.deliveryChannels} × ${settings.deliveryPerChannel} thread replies through the outbox`);
      reportDelivery(await deliveryRun(world, settings.deliveryChannels, settings.deliveryPerChannel), verdicts);
    }

    for (const n of [...sections.keys()].sort()) {
      for (const line of sections.get(n) ?? []) out(line);
      out();
    }
    const logged = world.bot.output;
    out(`ivs-bot wrote ${logged.length} log line${logged.length === 1 ? '' : 's'} at ${BOT_LOG_LEVEL} or above during the run${logged.length ? ':' : '.'}`);
    for (const line of logged.slice(0, 5)) out(`   ${line.slice(0, 300)}`);
    out();
    out('Summary');
    const judged = verdicts.filter((v) => v.target !== '(info)');
    out(
      table(
        ['target', 'measured', 'wanted', 'result'],
        judged.map((v) => [v.measure, v.value, v.target, pass(v.ok)]),
      ),
    );
    out(`${judged.filter((v) => v.ok).length} of ${judged.length} targets met; the bench took ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    out();
    out('Markdown (for the README):');
    out();
    out(
      markdownTable(
        ['Measure', 'Result', 'Target', 'Met', 'How to read it'],
        verdicts.map((v) => [v.measure, v.value, v.target, v.target === '(info)' ? '' : pass(v.ok), v.reading]),
      ),
    );
  } finally {
    progress('stopping');
    await world.close();
  }
}

// Ctrl-C or a kill: exit through process.exit so the exit hooks stop redis-server and the measured processes.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
// Every wait has its own timeout; this is the backstop should something still hang.
const WATCHDOG_MS = 10 * 60 * 1000;
setTimeout(() => {
  process.stderr.write(`benchmark crashed: still running after ${WATCHDOG_MS / 60_000} minutes\n`);
  process.exit(1);
}, WATCHDOG_MS).unref();

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`benchmark crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
