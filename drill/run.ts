import { FaultInjector } from './faults';
import { auditOutOfOrder, checkInvariants, INVARIANTS, outcomes, type Snapshot, type Violations } from './invariants';
import { People } from './people';
import { seededRandom } from './random';
import { RedisView } from './redis-view';
import { FAULT_KINDS, faultSchedule, type FaultKind } from './schedule';
import { takeSnapshot } from './snapshot';
import { settleEverything, watchBotRequests, Workload } from './workload';
import { startDrillWorld, type DrillWorld } from './world';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DrillOptions {
  readonly durationMs: number;
  readonly replicas: number;
  readonly seed: number;
  /** How long the final wait for every request to be final may take. */
  readonly settleTimeoutMs: number;
  readonly log: (line: string) => void;
  /** Where to write the evidence of a failed drill (replica logs, audit stream, threads, violations). */
  readonly keepDir?: string;
}

export interface DrillResult {
  readonly seed: number;
  readonly replicas: number;
  readonly scheduleMs: number;
  readonly settleMs: number;
  readonly wallMs: number;
  readonly outcomes: ReadonlyMap<string, number>;
  /** What the failed requests say went wrong (ids and numbers masked), by how many said it. */
  readonly failures: ReadonlyMap<string, number>;
  readonly opened: { create: number; delete: number; rotate: number; refused: number };
  readonly executions: { creates: number; deletes: number; vaultWrites: number };
  readonly commands: number;
  readonly clicks: number;
  readonly unanswered: number;
  readonly patterns: Readonly<Record<string, number>>;
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Of the one-shot Intercom faults armed, how many a create actually met. */
  readonly intercomFaultsMet: number;
  readonly skippedKills: number;
  readonly unexpectedExits: number;
  readonly settled: boolean;
  /** Audit entries appended after a later event of the same request (a note; see auditOutOfOrder). */
  readonly auditOutOfOrder: number;
  readonly violations: Violations;
}

/**
 * One drill: the world, the workload and the seeded faults for `durationMs`, then every fault off,
 * the people finish what is open (bounded), and the invariants are checked from outside.
 */
export async function runDrill(opts: DrillOptions): Promise<DrillResult> {
  const started = Date.now();
  const random = seededRandom(opts.seed);
  const schedule = faultSchedule(random.fork(), opts.durationMs, opts.replicas);
  opts.log(`starting redis-server (AOF appendfsync always), the stand-ins and ${opts.replicas} bot replicas`);
  const world = await startDrillWorld(opts.replicas);
  const view = new RedisView(world.redis.url);
  try {
    const people = new People(world, random.fork());
    const workload = new Workload(world, people, random.fork(), { meanGapMs: 3_500 });
    const faults = new FaultInjector(world, random.fork(), opts.log);
    opts.log(`drill: ${Math.round(opts.durationMs / 1000)} s of workload and ${schedule.length} scheduled faults (seed ${opts.seed})`);
    const scheduleStart = Date.now();
    const working = workload.run();
    let watching = true;
    const watcher = watchBotRequests(people, view, workload.ours, () => watching);
    await Promise.all([faults.run(schedule), new Promise((r) => setTimeout(r, opts.durationMs))]);
    workload.stop();
    await working;
    watching = false;
    await watcher;
    opts.log('schedule over: every fault off, waiting for every request to be final');
    await faults.stop();
    const scheduleMs = Date.now() - scheduleStart;

    // The stories under way go on while the final round brings whatever they leave to an end; once
    // everything is final they stop waiting, and one more look makes sure none of them opened
    // something at the last moment.
    const settleStart = Date.now();
    const deadline = settleStart + opts.settleTimeoutMs;
    let outcome = await settleEverything(people, view, opts.settleTimeoutMs, opts.log);
    people.closing = true;
    const stillTelling = await workload.settle(Math.max(1_000, deadline - Date.now()));
    if (stillTelling > 0) opts.log(`${stillTelling} request stories were still under way at the deadline`);
    if (outcome.settled) outcome = await settleEverything(people, view, Math.max(5_000, deadline - Date.now()), opts.log);
    const { settled, open } = outcome;
    if (!settled) opts.log(`not settled within the final wait; still open: ${open.slice(0, 10).join(', ')}${open.length > 10 ? ', …' : ''}`);
    const settleMs = Date.now() - settleStart;

    const snapshot = await takeSnapshot(world, view, people.answers);
    const violations = checkInvariants(snapshot);
    if (violations.some((v) => v.length > 0) && opts.keepDir) keepEvidence(opts.keepDir, world, snapshot, violations, opts.log);
    const calls = world.intercom.calls;
    return {
      seed: opts.seed,
      replicas: opts.replicas,
      scheduleMs,
      settleMs,
      wallMs: Date.now() - started,
      outcomes: outcomes(snapshot),
      failures: failureReasons(snapshot),
      opened: workload.opened,
      executions: {
        creates: snapshot.intercom.filter((s) => !world.seededIds.has(s.id)).length,
        deletes: calls.filter((c) => c.op === 'delete' && (c.status === 204 || c.fault === 'apply-then-drop')).length,
        vaultWrites: world.vault.calls.filter(
          (c) => c.method !== 'GET' && c.path.includes('/data/') && c.path.includes('/secrets/') && c.status >= 200 && c.status < 300,
        ).length,
      },
      commands: people.stats.commands,
      clicks: people.stats.clicks,
      unanswered: people.stats.unanswered,
      patterns: people.stats.patterns,
      faults: faults.applied,
      intercomFaultsMet: calls.filter((c) => c.op === 'create' && (c.fault === 'apply-then-drop' || c.fault === 'apply-then-stall')).length,
      skippedKills: faults.skippedKills,
      unexpectedExits: world.unexpectedExits(),
      settled,
      auditOutOfOrder: auditOutOfOrder(snapshot),
      violations,
    };
  } finally {
    view.close();
    await world.close();
  }
}

/** The table the drill prints. */
export function formatResult(r: DrillResult): string {
  const lines: string[] = [];
  const row = (k: string, v: string | number) => lines.push(`  ${k.padEnd(58)} ${v}`);
  lines.push(
    '',
    `Fault drill: seed ${r.seed}, ${r.replicas} replicas, ${Math.round(r.scheduleMs / 1000)} s of faults, settled in ${Math.round(r.settleMs / 1000)} s, ${Math.round(r.wallMs / 1000)} s in all`,
    '',
  );
  lines.push(' Requests by outcome');
  for (const [k, v] of [...r.outcomes].sort()) row(k, v);
  for (const [k, v] of [...r.failures].sort((a, b) => b[1] - a[1])) lines.push(`    ${v} × failed: ${k}`);
  row('opened (create / delete / rotate) · refused at the command', `${r.opened.create} / ${r.opened.delete} / ${r.opened.rotate} · ${r.opened.refused}`);
  lines.push(' Executions');
  row('Intercom creates (bot-made secrets)', r.executions.creates);
  row('Intercom deletes answered or applied', r.executions.deletes);
  row('Vault material writes (secrets/<id>) accepted', r.executions.vaultWrites);
  row('commands / clicks / posts no replica answered', `${r.commands} / ${r.clicks} / ${r.unanswered}`);
  row(
    'click patterns',
    Object.entries(r.patterns)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  lines.push(' Faults');
  for (const k of FAULT_KINDS) row(k, r.faults[k]);
  row('one-shot Intercom faults a create met', r.intercomFaultsMet);
  row('kills skipped (no other replica alive)', r.skippedKills);
  row('replica exits the drill did not cause', r.unexpectedExits);
  row('audit entries appended after a later event of their request (note)', r.auditOutOfOrder);
  lines.push(' Invariants (violations)');
  for (const [i, name] of INVARIANTS.entries()) row(name, r.violations[i]?.length ?? 0);
  const total = totalViolations(r);
  for (const [i, list] of r.violations.entries()) for (const v of list.slice(0, 20)) lines.push(`    [${i + 1}] ${v}`);
  lines.push(
    '',
    total === 0 && r.unexpectedExits === 0
      ? `PASS: zero violations (seed ${r.seed})`
      : `FAIL: ${total} violation(s), ${r.unexpectedExits} unexpected exit(s); replay with --seed ${r.seed}`,
  );
  return lines.join('\n');
}

/** The evidence a failed drill leaves behind, to read what happened (no material: the canary checked these same logs). */
function keepEvidence(dir: string, world: DrillWorld, s: Snapshot, violations: Violations, log: (line: string) => void): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, lines] of world.logs) writeFileSync(join(dir, `replica-${name}.log`), `${lines.join('\n')}\n`);
  const requests = s.requests.map(({ request: r }) => ({
    id: r.id,
    action: r.operation.action,
    state: r.state,
    outcome: r.outcome,
    audit: s.audit.get(r.id),
    thread: s.threads.get(r.id),
  }));
  writeFileSync(join(dir, 'requests.json'), JSON.stringify(requests, null, 2));
  writeFileSync(join(dir, 'violations.txt'), violations.flatMap((list, i) => list.map((v) => `[${i + 1}] ${v}`)).join('\n'));
  log(`evidence of the violations kept in ${dir}`);
}

function failureReasons(s: Snapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const { request } of s.requests) {
    if (request.state !== 'failed') continue;
    const why = (request.outcome ?? '(no outcome)')
      .replace(/R-[0-9A-Z]{6}/g, 'R-…')
      .replace(/\d+/g, 'N')
      .slice(0, 140);
    out.set(why, (out.get(why) ?? 0) + 1);
  }
  return out;
}

export function totalViolations(r: Pick<DrillResult, 'violations'>): number {
  return r.violations.reduce((n, list) => n + list.length, 0);
}
