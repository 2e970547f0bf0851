import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { freePort } from '../../emulators/free-port';
import { READ_SCOPE, startIntercomDouble, WRITE_SCOPE, type DoublePlatform, type IntercomDouble } from '../../emulators/intercom';
import { startRedis, type TestRedis } from '../../emulators/redis-server';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { postToBolt, type BoltAnswer } from '../../emulators/slack-signer';
import { DEFAULT_TOKEN as VAULT_TOKEN, startVaultDouble, type VaultDouble } from '../../emulators/vault';
import { parseDuration } from '../../src/duration';
import { createRedisAuditLog } from '../../src/redis/audit-log';
import { connectRedis } from '../../src/redis/connection';
import { startControlServer, type ControlServer } from './api';
import { auditPanel, intercomPanel, VaultPanel, type AuditPanelEntry, type Workspace } from './panels';
import { BOT_USER_ID, CHANNELS, channelsOf, GROUP_MEMBERS, PEOPLE, RIGHTS, TEAM_ID, WORKSPACE_NAMES, type WorkspaceName } from './people';
import { bundleBot, Replica } from './replicas';
import { SlackWorld, RefusedError } from './slack-world';

export const FAULT_NAMES = [
  'vault_sealed',
  'vault_write_failing',
  'intercom_429',
  'intercom_5xx',
  'intercom_hang_next_create',
  'slack_down',
  'redis_stopped',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/**
 * The sandbox's settings for the bot (SPEC §7): what production sets, pointed at the stand-ins. With
 * IVS_CONFIG they are per workspace, so they go into the file (min_overlap, request_ttl), the same in both.
 */
export const SANDBOX_SETTINGS = { IVS_MIN_OVERLAP: '5m', IVS_REQUEST_TTL: '30m' } as const;

/**
 * `rotate_after` per workspace (SPEC §10): us's 400-day-old "Production Web" is due, so the rotation
 * reminder and its Rotate button show in #ops from the start; eu has no policy, as a workspace may.
 */
export const SANDBOX_ROTATE_AFTER: Readonly<Partial<Record<WorkspaceName, string>>> = { us: '365d' };

/** The environment variable holding each workspace's Intercom token (`token_env` in the file). */
const tokenEnv = (name: WorkspaceName) => `INTERCOM_TOKEN_${name.toUpperCase()}`;

/** The IVS_CONFIG file (SPEC §9) the replicas read: two workspaces, each with its own Intercom double and token. */
export function workspacesYaml(urls: Readonly<Record<WorkspaceName, string>>): string {
  const list = (ids: readonly string[]) => `[${ids.join(', ')}]`;
  const lines = ['workspaces:'];
  for (const name of WORKSPACE_NAMES) {
    lines.push(
      `  - name: ${name}`,
      '    intercom:',
      `      url: ${urls[name]}`,
      `      token_env: ${tokenEnv(name)}`,
      `    channels: ${list(channelsOf(name))}`,
      `    requesters: ${list(RIGHTS.requesters)}`,
      `    approvers: ${list(RIGHTS.approvers)}`,
      `    request_ttl: ${SANDBOX_SETTINGS.IVS_REQUEST_TTL}`,
      `    min_overlap: ${SANDBOX_SETTINGS.IVS_MIN_OVERLAP}`,
    );
    const rotateAfter = SANDBOX_ROTATE_AFTER[name];
    if (rotateAfter) lines.push(`    rotate_after: ${rotateAfter}`);
  }
  return `${lines.join('\n')}\n`;
}

const KEY_PREFIX = 'ivs:';
const VAULT_PREFIX = 'secret/intercom/identity-verification';
const AUDIT_POLL_MS = 100;

export interface SandboxOptions {
  /** 0 for a free port. Default 3030. */
  readonly port?: number;
  /** Keep a copy of every byte the control server sent, for the leak canary (tests). */
  readonly recordServed?: boolean;
  /** Where the page lives. Default `sandbox/web`. */
  readonly webDir?: string;
}

export interface Sandbox {
  readonly url: string;
  /** Milliseconds from the call to a usable sandbox. */
  readonly startupMs: number;
  /** Everything the control server sent so far (with `recordServed`). */
  served(): string;
  /** Every material the Intercom stand-ins ever minted: what must never appear in `served()`. */
  materials(): string[];
  /** The last log lines of a replica, for diagnosing a failing test. */
  replicaLogs(name: string): string[];
  stop(): Promise<void>;
}

export interface SandboxCore {
  readonly world: SlackWorld;
  readonly slack: SlackDouble;
  readonly workspaces: readonly Workspace[];
  readonly vault: VaultDouble;
  readonly replicas: readonly Replica[];
  state(): Promise<Record<string, unknown>>;
  seq(): number;
  onSeq(listener: (seq: number) => void): () => void;
  deliver(body: string): Promise<BoltAnswer>;
  setFault(name: string, on: boolean): Promise<Record<FaultName, boolean>>;
  skip(by: string): { skippedMs: number; now: number };
  clock(): { skippedMs: number; now: number };
  intercomPanel(): ReturnType<typeof intercomPanel>;
  vaultPanel(): { entries: ReturnType<VaultPanel['entries']> };
  auditPanel(): Promise<{ entries: AuditPanelEntry[]; chain: { ok: true } | { ok: false; problem: string }; unavailable?: boolean }>;
  replica(name: string): Replica | undefined;
  reset(): Promise<void>;
}

/** `redis-server` must be on the PATH; say so in one line rather than with a spawn stack trace. */
function assertRedisServer(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('redis-server is not on the PATH: install Redis (e.g. `apt-get install redis-server` or `brew install redis`) and run again.');
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const started = Date.now();
  if (process.env['NODE_ENV'] === 'production') {
    throw new Error('The sandbox refuses to run with NODE_ENV=production: it is a development and demonstration tool.');
  }
  assertRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'ivs-sandbox-'));
  const clockFile = join(dir, 'clock-offset-ms');
  let offset = 0;
  writeFileSync(clockFile, '0');
  const now = () => Date.now() + offset;

  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const parts = await Promise.allSettled([
      startRedis({ persist: true }),
      startSlackDouble({ token: 'xoxb-sandbox', teamId: TEAM_ID, botUserId: BOT_USER_ID, strictUsers: true }),
      startIntercomDouble({ now, tokens: { 'ic-sandbox-us': { scopes: [READ_SCOPE, WRITE_SCOPE] } } }),
      startIntercomDouble({ now, tokens: { 'ic-sandbox-eu': { scopes: [READ_SCOPE, WRITE_SCOPE] } } }),
      startVaultDouble({ now }),
      bundleBot(dir),
    ] as const);
    const [redisPart, slackPart, intercomPart, euIntercomPart, vaultPart, bundlePart] = parts;
    // Whatever did start is stopped again, also when something else failed.
    if (redisPart.status === 'fulfilled') cleanups.push(() => redisPart.value.stop());
    if (slackPart.status === 'fulfilled') cleanups.push(() => slackPart.value.close());
    if (intercomPart.status === 'fulfilled') cleanups.push(() => intercomPart.value.close());
    if (euIntercomPart.status === 'fulfilled') cleanups.push(() => euIntercomPart.value.close());
    if (vaultPart.status === 'fulfilled') cleanups.push(() => vaultPart.value.close());
    const failed = parts.find((p) => p.status === 'rejected');
    if (failed?.status === 'rejected') throw failed.reason;
    if (
      redisPart.status !== 'fulfilled' ||
      slackPart.status !== 'fulfilled' ||
      intercomPart.status !== 'fulfilled' ||
      euIntercomPart.status !== 'fulfilled' ||
      vaultPart.status !== 'fulfilled' ||
      bundlePart.status !== 'fulfilled'
    ) {
      throw new Error('unreachable');
    }
    const [redis, slack, vault, bundle] = [redisPart.value, slackPart.value, vaultPart.value, bundlePart.value];
    const intercoms: Record<WorkspaceName, IntercomDouble> = { us: intercomPart.value, eu: euIntercomPart.value };

    const setUpSlack = () => {
      for (const p of PEOPLE) slack.setUser({ id: p.userId, teamId: TEAM_ID, name: p.name, realName: p.name[0]?.toUpperCase() + p.name.slice(1) });
      for (const [group, members] of Object.entries(GROUP_MEMBERS)) slack.setGroup(group, members);
      for (const c of CHANNELS) slack.setChannel({ id: c.id, name: c.name });
    };
    setUpSlack();

    const workspaces: Workspace[] = WORKSPACE_NAMES.map((name) => ({ name, intercom: intercoms[name], vaultBase: `${VAULT_PREFIX}/${name}` }));
    for (const w of workspaces) seedWorkspace(w, vault);
    const configFile = join(dir, 'workspaces.yaml');
    writeFileSync(configFile, workspacesYaml({ us: intercoms.us.url, eu: intercoms.eu.url }));

    const signingSecret = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      ...(process.env['HOME'] ? { HOME: process.env['HOME'] } : {}),
      NODE_ENV: 'development',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.url,
      SLACK_SIGNING_SECRET: signingSecret,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: KEY_PREFIX,
      IVS_CONFIG: configFile,
      ...Object.fromEntries(WORKSPACE_NAMES.map((name) => [tokenEnv(name), intercoms[name].token])),
      VAULT_ADDR: vault.url,
      VAULT_TOKEN,
      IVS_SANDBOX_CLOCK_FILE: clockFile,
      LOG_LEVEL: 'info',
    };

    let seq = 1;
    const listeners = new Set<(seq: number) => void>();
    let localVersion = 0;
    const bump = () => {
      localVersion += 1;
    };
    const ports = await Promise.all([freePort(), freePort()]);
    const replicas = ['A', 'B'].map((name, i) => new Replica(name, ports[i] ?? 0, bundle, env, bump));
    cleanups.push(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
    });

    let world = new SlackWorld(slack, CHANNELS, now, bump);
    const faults: Record<FaultName, boolean> = Object.fromEntries(FAULT_NAMES.map((f) => [f, false])) as Record<FaultName, boolean>;
    // Per Intercom double, where its calls stood when the hang was armed (-1: not armed).
    let hangArmedAt: number[] = workspaces.map(() => -1);
    const vaultPanel = new VaultPanel(vault, workspaces, now);

    // The sandbox's own view of Redis, for the audit panel: reads only.
    const panelRedis = connectRedis(redis.url, { logger: pino({ level: 'silent' }), commandTimeoutMs: 1_000 });
    panelRedis.on('error', () => undefined);
    cleanups.push(() => void panelRedis.disconnect());
    const audit = createRedisAuditLog(panelRedis, { keyPrefix: KEY_PREFIX, logger: pino({ level: 'silent' }) });
    let auditHead = '';
    let lastAudit: AuditPanelEntry[] = [];

    let rr = 0;
    const deliver = async (body: string): Promise<BoltAnswer> => {
      const alive = replicas.filter((r) => r.alive);
      if (alive.length === 0) throw new RefusedError(503, 'No bot replica is running: restart one first (POST /api/replicas/A/restart).');
      // Round robin, and on to the next when one does not answer, as Slack's load balancer would.
      for (let i = 0; i < alive.length; i++) {
        const r = alive[(rr + i) % alive.length];
        if (!r) continue;
        try {
          const answer = await postToBolt(r.url, signingSecret, body);
          rr = (rr + i + 1) % Math.max(1, alive.length);
          return answer;
        } catch {
          // Connection refused or reset: try the other one.
        }
      }
      throw new RefusedError(503, 'No bot replica answered.');
    };

    // Intercom faults apply to both workspaces' doubles; the hang is spent by the first create in either.
    const hangConsumed = () =>
      workspaces.some((w, i) => {
        const at = hangArmedAt[i] ?? -1;
        return at >= 0 && w.intercom.calls.slice(at).some((c) => c.op === 'create' && c.fault === 'apply-then-stall');
      });
    const currentFaults = (): Record<FaultName, boolean> => {
      if (faults.intercom_hang_next_create && hangConsumed()) {
        faults.intercom_hang_next_create = false;
        for (const w of workspaces) w.intercom.clearFaults();
        hangArmedAt = workspaces.map(() => -1);
      }
      return { ...faults };
    };
    const standing = () => {
      for (const w of workspaces) w.intercom.setStandingFault(faults.intercom_429 ? { status: 429 } : faults.intercom_5xx ? { status: 503 } : null);
    };

    const setFault = async (name: string, on: boolean): Promise<Record<FaultName, boolean>> => {
      if (!(FAULT_NAMES as readonly string[]).includes(name)) {
        throw new RefusedError(404, `Unknown fault "${name}": one of ${FAULT_NAMES.join(', ')}.`);
      }
      const f = name as FaultName;
      switch (f) {
        case 'vault_sealed':
          if (on) vault.seal();
          else vault.unseal();
          break;
        case 'vault_write_failing':
          vault.failWrites(on ? Number.POSITIVE_INFINITY : 0);
          break;
        case 'intercom_429':
        case 'intercom_5xx':
          faults[f] = on;
          standing();
          break;
        case 'intercom_hang_next_create':
          for (const w of workspaces) w.intercom.clearFaults();
          hangArmedAt = workspaces.map((w) => (on ? w.intercom.calls.length : -1));
          // Creates the secret, then never answers: the bot must time out and reconcile by listing.
          if (on) for (const w of workspaces) w.intercom.failNext('create', { kind: 'apply-then-stall', ms: 24 * 3_600_000 });
          break;
        case 'slack_down':
          slack.setDown(on);
          break;
        case 'redis_stopped':
          if (on) await redis.kill();
          else await redis.start();
          break;
      }
      faults[f] = on;
      bump();
      return currentFaults();
    };

    const clock = () => ({ skippedMs: offset, now: now() });
    const skip = (by: string) => {
      const ms = parseDuration(by);
      if (ms === null || ms <= 0) throw new RefusedError(400, `"${by}" is not a duration like 90s, 5m, 1h or 2d.`);
      offset += ms;
      writeFileSync(clockFile, String(offset));
      bump();
      return clock();
    };

    const auditPanelNow = async () => {
      if (faults.redis_stopped) {
        return {
          entries: lastAudit,
          chain: { ok: false as const, problem: 'Redis is stopped (fault redis_stopped): the stream cannot be read.' },
          unavailable: true,
        };
      }
      try {
        const panel = await auditPanel((key) => panelRedis.xrange(key, '-', '+'), audit, `${KEY_PREFIX}audit`);
        lastAudit = panel.entries;
        return panel;
      } catch {
        return { entries: lastAudit, chain: { ok: false as const, problem: 'Redis does not answer: the stream cannot be read.' }, unavailable: true };
      }
    };

    // One change sequence for everything: the page re-reads what it shows when it moves.
    let lastDigest = '';
    const digest = async () => {
      if (!faults.redis_stopped) {
        try {
          auditHead = `${(await panelRedis.get(`${KEY_PREFIX}audit:head`)) ?? ''}`;
        } catch {
          // Keep the last head.
        }
      }
      return [slack.calls.length, slack.responses.length, ...workspaces.map((w) => w.intercom.calls.length), vault.calls.length, auditHead, localVersion].join(
        '/',
      );
    };
    let polling = true;
    const poll = async () => {
      while (polling) {
        const d = await digest();
        if (d !== lastDigest) {
          lastDigest = d;
          seq += 1;
          for (const l of listeners) l(seq);
        }
        await new Promise((r) => setTimeout(r, AUDIT_POLL_MS));
      }
    };
    cleanups.push(() => {
      polling = false;
    });

    /** Each replica, with the requests it holds the execution lease of (watch failover happen). */
    const replicaStates = async () => {
      const owners = new Map<string, string[]>();
      if (!faults.redis_stopped) {
        try {
          const ids = await panelRedis.zrange(`${KEY_PREFIX}leases`, '0', '-1');
          for (const id of ids) {
            const [state, owner] = await panelRedis.hmget(`${KEY_PREFIX}req:${id}`, 'state', 'lease_owner');
            if (state === 'executing' && owner) owners.set(owner, [...(owners.get(owner) ?? []), id]);
          }
        } catch {
          // Redis is not answering: no lease information.
        }
      }
      return replicas.map((r) => {
        const pid = r.pid;
        const executing = pid === null ? [] : [...owners].filter(([owner]) => owner.startsWith(`${pid}-`)).flatMap(([, ids]) => ids);
        return { ...r.state(), executing };
      });
    };

    /** Back to the seeded start: every fault off, no time skipped, empty Redis and channels, fresh replicas. */
    const reset = async () => {
      for (const f of FAULT_NAMES) if (faults[f]) await setFault(f, false);
      await Promise.all(replicas.map((r) => r.kill()));
      await panelRedis.flushall();
      lastAudit = [];
      slack.reset();
      slack.setDown(false);
      setUpSlack();
      vault.reset();
      for (const w of workspaces) {
        w.intercom.reset();
        seedWorkspace(w, vault);
      }
      offset = 0;
      writeFileSync(clockFile, '0');
      world = new SlackWorld(slack, CHANNELS, now, bump);
      await Promise.all(replicas.map((r) => r.start()));
      bump();
    };

    const core: SandboxCore = {
      get world() {
        return world;
      },
      reset,
      slack,
      workspaces,
      vault,
      replicas,
      seq: () => seq,
      onSeq: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      deliver,
      setFault,
      skip,
      clock,
      state: async () => ({
        people: PEOPLE.map((p) => ({ ...p })),
        channels: CHANNELS.map((c) => ({ ...c })),
        workspaces: workspaces.map((w) => w.name),
        replicas: await replicaStates(),
        faults: currentFaults(),
        clock: clock(),
        settings: { ...SANDBOX_SETTINGS },
        seq,
      }),
      intercomPanel: () => intercomPanel(workspaces),
      vaultPanel: () => ({ entries: vaultPanel.entries(seq) }),
      auditPanel: auditPanelNow,
      replica: (name) => replicas.find((r) => r.name === name),
    };

    await Promise.all(replicas.map((r) => r.start()));
    const server: ControlServer = await startControlServer(core, { port: opts.port ?? 3030, recordServed: opts.recordServed ?? false, webDir: opts.webDir });
    cleanups.push(() => server.close());
    void poll();

    return {
      url: server.url,
      startupMs: Date.now() - started,
      served: () => server.served(),
      materials: () => workspaces.flatMap((w) => w.intercom.issuedMaterial()),
      replicaLogs: (name) => replicas.find((r) => r.name === name)?.recentLogs() ?? [],
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Seeds per workspace and platform, with their material in Vault and current/<platform> as the bot would
 * have left them. Each double numbers its own secrets, so the first ids repeat across workspaces.
 */
const SEEDS: Readonly<Record<WorkspaceName, ReadonlyArray<{ name: string; platforms: DoublePlatform[]; ageDays: number }>>> = {
  us: [
    { name: 'Production Web', platforms: ['web'], ageDays: 400 },
    { name: 'Production Web 2026', platforms: ['web'], ageDays: 40 },
    { name: 'Production iOS', platforms: ['ios'], ageDays: 300 },
    { name: 'Production iOS 2026', platforms: ['ios'], ageDays: 35 },
    { name: 'Production Android', platforms: ['android'], ageDays: 200 },
  ],
  eu: [
    { name: 'EU Web', platforms: ['web'], ageDays: 90 },
    { name: 'EU iOS and Android', platforms: ['ios', 'android'], ageDays: 60 },
  ],
};

function seedWorkspace(w: Workspace, vault: VaultDouble): void {
  seedSecretsWithMaterial(w.intercom, vault, w.vaultBase, SEEDS[w.name as WorkspaceName] ?? [], channelsOf(w.name)[0] ?? '');
}

/**
 * Seeds secrets at Intercom with their material in Vault under `vaultBase`, and current/<platform>
 * pointing at the newest of each platform, as the bot would have left them (the drill seeds the same way).
 */
export function seedSecretsWithMaterial(
  intercom: IntercomDouble,
  vault: VaultDouble,
  vaultBase: string,
  seeds: ReadonlyArray<{ name: string; platforms: DoublePlatform[]; ageDays: number }>,
  channel: string,
): void {
  const nowSeconds = Math.floor(Date.now() / 1000);
  for (const s of seeds) intercom.seed({ name: s.name, platforms: s.platforms, createdAt: nowSeconds - s.ageDays * 86_400 });
  const secrets = intercom.secrets();
  for (const s of secrets) {
    vault.seed(
      `${vaultBase}/secrets/${s.id}`,
      {
        secret: s.material,
        intercom_secret_id: s.id,
        name: s.name,
        supports_android: s.supports_android,
        supports_ios: s.supports_ios,
        supports_web: s.supports_web,
        created_at: s.createdAt,
      },
      { customMetadata: { request_id: 'seeded', requester: 'U0ALICE', approvers: 'U0BOB', slack_channel: channel } },
    );
  }
  for (const platform of ['web', 'ios', 'android'] as const) {
    const newest = secrets.filter((s) => s.platforms.includes(platform)).sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!newest) continue;
    vault.seed(`${vaultBase}/current/${platform}`, {
      secret: newest.material,
      intercom_secret_id: newest.id,
      name: newest.name,
      created_at: newest.createdAt,
      platform,
    });
  }
}

export type { TestRedis };
