import { performance } from 'node:perf_hooks';
import type { BenchWorld } from './world';
import { APPROVER, APPROVER_2 } from './world';
import { approveClick, openCreateRequest, threadReply } from './slack-flow';
import { kindOfIntercomCall, kindOfSlackCall, kindOfVaultCall, type CallKind, type DoubleRtt } from './doubles-rtt';

export interface ApprovalSample {
  /** Decisive click sent → the material's POST recorded by the Vault double, ms. */
  readonly clickToVaultMs: number;
  /** The doubles' own time for the calls seen on the way (their raw round trip, measured apart). */
  readonly doublesMs: number;
  readonly overheadMs: number;
  /** Decisive click sent → the "Succeeded" thread reply, ms (the whole execution). */
  readonly clickToSucceededMs: number;
  /** The double calls on the way, by kind. */
  readonly calls: ReadonlyMap<string, number>;
  /**
   * Where the time went, ms from the click to each landmark the doubles see: the click's HTTP
   * answer (Bolt's ack), the Vault preflight, Intercom's create, the material's write. Between two
   * landmarks lie the bot's Redis steps and the doubles' own round trip of the earlier call.
   */
  readonly phases: { readonly ackMs: number; readonly preflightMs: number; readonly createMs: number };
}

const SECRETS_PREFIX = 'secret/data/intercom/identity-verification/default/secrets/';

/**
 * `count` create requests, one after another: open, a first (non-decisive) approval, then the timed
 * decisive approval. The Vault double's call event fires synchronously when it records the write, so
 * the predicate below timestamps the write itself, not whenever this loop next runs.
 */
export async function approvalRun(world: BenchWorld, rtt: DoubleRtt, count: number): Promise<ApprovalSample[]> {
  const { slack, intercom, vault, bot } = world;
  const samples: ApprovalSample[] = [];
  for (let i = 1; i <= count; i++) {
    const request = await openCreateRequest(slack, bot.url, `Bench Approval ${i}`);
    const firstFrom = slack.calls.length;
    const firstRid = await approveClick(slack, bot.url, request, APPROVER);
    await threadReply(slack, request, /Approved by <@U222>/, firstFrom, firstRid);

    const slackFrom = slack.calls.length;
    const intercomFrom = intercom.calls.length;
    const vaultFrom = vault.calls[vault.calls.length - 1]?.seq ?? 0;
    let written: { at: number; seq: number; slackTo: number; intercomTo: number } | undefined;
    let preflightAt = Number.NaN;
    let createAt = Number.NaN;
    // waitFor first looks through the calls made so far: only one made from now on counts.
    let armed = false;
    const created = intercom.waitFor(
      'create',
      () => {
        if (!armed) return false;
        createAt = performance.now();
        return true;
      },
      15_000,
    );
    armed = true;
    const write = vault.waitFor((c) => {
      if (c.seq > vaultFrom && c.path === 'sys/capabilities-self' && Number.isNaN(preflightAt)) preflightAt = performance.now();
      if (c.seq <= vaultFrom || c.method !== 'POST' || !c.path.startsWith(SECRETS_PREFIX)) return false;
      written = { at: performance.now(), seq: c.seq, slackTo: slack.calls.length, intercomTo: intercom.calls.length };
      return true;
    }, 15_000);
    const t0 = performance.now();
    const rid = await approveClick(slack, bot.url, request, APPROVER_2);
    const ackMs = performance.now() - t0;
    await Promise.all([write, created]);
    const done = await threadReply(slack, request, /Succeeded|Failed/, slackFrom, rid);
    const t2 = performance.now();
    if (!/Succeeded/.test(String(done.args['text']))) throw new Error(`${request.id} did not succeed: ${String(done.args['text'])}`);
    if (!written) throw new Error('unreachable: the write resolved without being seen');

    const calls = new Map<string, number>();
    let doublesMs = 0;
    const tally = (kind: CallKind | undefined, label: string): void => {
      const name = kind ?? `${label} (not subtracted)`;
      calls.set(name, (calls.get(name) ?? 0) + 1);
      if (kind) doublesMs += rtt.get(kind) ?? 0;
    };
    for (const c of slack.calls.slice(slackFrom, written.slackTo)) tally(kindOfSlackCall(c.method), `slack ${c.method}`);
    for (const c of intercom.calls.slice(intercomFrom, written.intercomTo)) tally(kindOfIntercomCall(c.op), `intercom ${c.op}`);
    const w = written;
    for (const c of vault.calls.filter((v) => v.seq > vaultFrom && v.seq < w.seq)) tally(kindOfVaultCall(c.method, c.path), `vault ${c.method} ${c.path}`);

    const clickToVaultMs = w.at - t0;
    samples.push({
      clickToVaultMs,
      doublesMs,
      overheadMs: clickToVaultMs - doublesMs,
      clickToSucceededMs: t2 - t0,
      calls,
      phases: { ackMs, preflightMs: preflightAt - t0, createMs: createAt - t0 },
    });
  }
  return samples;
}
