import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../emulators/free-port';
import { startIntercomDouble, type DoublePlatform, type IntercomDouble } from '../emulators/intercom';
import { startRedis, type TestRedis } from '../emulators/redis-server';
import { startSlackDouble, type SlackDouble } from '../emulators/slack-api';
import { startVaultDouble, type VaultDouble } from '../emulators/vault';
import { dependencyEnv } from '../test/support/bot-dependencies';
import { bundleBot, Replica } from '../sandbox/server/replicas';
import { seedSecretsWithMaterial } from '../sandbox/server/sandbox';

/**
 * What the drill runs: a redis-server with AOF `appendfsync always`, the Slack, Intercom and Vault
 * stand-ins, and R replicas of the real bot (src/main.ts bundled once, as the sandbox runs it),
 * configured through their ordinary settings. Every line every replica writes is kept, across
 * kills and restarts, for the leak canary.
 */

export const TEAM_ID = 'T0DRILL';
/**
 * Three allowed channels: Slack lets a bot post about one message a second per channel (and the
 * bot paces itself to that), so one channel could not carry the thread replies of this many requests.
 */
export const CHANNELS = ['C0DRILL1', 'C0DRILL2', 'C0DRILL3'] as const;
export const KEY_PREFIX = 'ivs:';
export const VAULT_BASE = 'secret/intercom/identity-verification/default';

/** Requesters open requests (and may approve others'); approvers only approve. Two approvals per step. */
export const REQUESTERS = ['U0ALICE', 'U0DAVE', 'U0ERIN'] as const;
export const APPROVERS = ['U0BOB', 'U0CAROL', 'U0FRANK'] as const;
export const PEOPLE = [...REQUESTERS, ...APPROVERS] as const;
export const APPROVALS_REQUIRED = 2;

/**
 * Settings that make a few minutes hold many lifecycles: the overlap a rotation waits before its
 * old secret may go, and the TTL after which a request nobody decided expires (a final outcome).
 */
export const DRILL_SETTINGS = {
  IVS_MIN_OVERLAP: '8s',
  IVS_REQUEST_TTL: '2m',
  IVS_MAX_OPEN_REQUESTS: '6',
} as const;
export const MIN_OVERLAP_MS = 8_000;

/** Secrets that exist before the drill, with their material in Vault and current/<platform> pointing at the newest. */
const SEEDS: ReadonlyArray<{ name: string; platforms: DoublePlatform[]; ageDays: number }> = [
  { name: 'Production Web', platforms: ['web'], ageDays: 200 },
  { name: 'Production iOS', platforms: ['ios'], ageDays: 150 },
  { name: 'Production Android', platforms: ['android'], ageDays: 100 },
  { name: 'Mobile 2026', platforms: ['ios', 'android'], ageDays: 30 },
];

export interface DrillWorld {
  readonly redis: TestRedis;
  readonly slack: SlackDouble;
  readonly intercom: IntercomDouble;
  readonly vault: VaultDouble;
  readonly replicas: readonly Replica[];
  readonly signingSecret: string;
  /** Intercom ids of the secrets seeded before the drill (no request created them). */
  readonly seededIds: ReadonlySet<string>;
  /** Every line each replica wrote, by replica name, across restarts. */
  readonly logs: ReadonlyMap<string, readonly string[]>;
  /** Replica exits the drill did not cause (a crash would show here). */
  readonly unexpectedExits: () => number;
  /** Marks the next exit of `name` as caused by the drill. */
  expectExit(name: string): void;
  close(): Promise<void>;
}

export async function startDrillWorld(replicaCount: number): Promise<DrillWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'ivs-drill-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const [redis, slack, intercom, vault, bundle] = await Promise.all([
      startRedis({ persist: true }),
      startSlackDouble({ token: 'xoxb-drill', teamId: TEAM_ID, strictUsers: true }),
      startIntercomDouble(),
      startVaultDouble(),
      bundleBot(dir),
    ]);
    cleanups.push(
      () => redis.stop(),
      () => slack.close(),
      () => intercom.close(),
      () => vault.close(),
    );
    for (const id of PEOPLE) slack.setUser({ id, teamId: TEAM_ID, name: id.slice(2).toLowerCase() });
    for (const [i, id] of CHANNELS.entries()) slack.setChannel({ id, name: `ops-${i + 1}` });
    const seededIds = seed(intercom, vault);

    const signingSecret = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      ...(process.env['HOME'] ? { HOME: process.env['HOME'] } : {}),
      NODE_ENV: 'development',
      ...dependencyEnv({ redis, slack, intercom, vault }),
      SLACK_SIGNING_SECRET: signingSecret,
      REDIS_KEY_PREFIX: KEY_PREFIX,
      IVS_CHANNELS: CHANNELS.join(','),
      IVS_REQUESTERS: REQUESTERS.join(','),
      IVS_APPROVERS: PEOPLE.join(','),
      IVS_APPROVALS_REQUIRED: String(APPROVALS_REQUIRED),
      ...DRILL_SETTINGS,
      LOG_LEVEL: 'info',
    };

    const logs = new Map<string, string[]>();
    const expected = new Map<string, number>();
    let unexpected = 0;
    const names = Array.from({ length: replicaCount }, (_, i) => String.fromCharCode(65 + i));
    const ports = await Promise.all(names.map(() => freePort()));
    const alive = new Map<string, boolean>();
    const replicas = names.map((name, i) => {
      const lines: string[] = [];
      logs.set(name, lines);
      const replica: Replica = new Replica(
        name,
        ports[i] ?? 0,
        bundle,
        env,
        () => {
          // onChange: a replica that was alive and is not any more exited; was it the drill's doing?
          const was = alive.get(name) ?? false;
          alive.set(name, replica.alive);
          if (!was || replica.alive) return;
          const n = expected.get(name) ?? 0;
          if (n > 0) expected.set(name, n - 1);
          else unexpected += 1;
        },
        (line) => lines.push(line),
      );
      return replica;
    });
    cleanups.push(async () => {
      for (const r of replicas) expected.set(r.name, (expected.get(r.name) ?? 0) + 1);
      await Promise.all(replicas.map((r) => r.stop()));
    });
    await Promise.all(replicas.map((r) => r.start()));

    return {
      redis,
      slack,
      intercom,
      vault,
      replicas,
      signingSecret,
      seededIds,
      logs,
      unexpectedExits: () => unexpected,
      expectExit: (name) => expected.set(name, (expected.get(name) ?? 0) + 1),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The seeded secrets, their material in Vault and current/<platform>; returns their ids. */
function seed(intercom: IntercomDouble, vault: VaultDouble): Set<string> {
  seedSecretsWithMaterial(intercom, vault, VAULT_BASE, SEEDS, CHANNELS[0]);
  return new Set(intercom.secrets().map((s) => s.id));
}
