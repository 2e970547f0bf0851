import pino from 'pino';
import { createRedisAuditLog } from '../src/redis/audit-log';
import { dumpRedis } from '../test/support/leak-canary';
import type { AuditedEvent, Snapshot } from './invariants';
import type { RedisView } from './redis-view';
import { KEY_PREFIX, VAULT_BASE, type DrillWorld } from './world';

/** Reads everything the invariants look at, from outside the bot: the stand-ins' records, Redis, logs, metrics. */
export async function takeSnapshot(world: DrillWorld, view: RedisView, answers: readonly string[]): Promise<Snapshot> {
  const { intercom, vault, slack } = world;
  const vaultSecrets = new Map<string, { material: string | undefined; deleted: boolean }>();
  for (const path of vault.paths()) {
    const prefix = `${VAULT_BASE}/secrets/`;
    if (!path.startsWith(prefix)) continue;
    vaultSecrets.set(path.slice(prefix.length), entryOf(world, path));
  }
  const vaultCurrent: Record<string, { id: string; material: string | undefined } | null> = {};
  for (const platform of ['web', 'ios', 'android']) {
    const path = `${VAULT_BASE}/current/${platform}`;
    const entry = entryOf(world, path);
    const id = vault.read(path)?.['intercom_secret_id'];
    vaultCurrent[platform] = entry.deleted || typeof id !== 'string' || id === '' ? null : { id, material: entry.material };
  }

  const [requests, leases, outboxDue, stream, redisDump] = await Promise.all([
    view.requests(),
    view.leases(),
    view.outboxDue(),
    view.stream(),
    dumpRedis(view.redis),
  ]);
  // The bot's own reader verifies the chain (hashes, links, head); any request id reads the whole stream.
  const audit = createRedisAuditLog(view.redis, { keyPrefix: KEY_PREFIX, logger: pino({ level: 'silent' }) });
  const verdict = (await audit.history(requests[0]?.request.id ?? 'R-000000')).chain;
  const byRequest = new Map<string, AuditedEvent[]>();
  for (const e of stream) byRequest.set(e.requestId, [...(byRequest.get(e.requestId) ?? []), { type: e.type, at: e.at }]);

  const threads = new Map<string, string[]>();
  for (const { request } of requests) {
    if (!request.card) continue;
    threads.set(
      request.id,
      slack.threadReplies(request.card.channel, request.card.ts).map((m) => m.text ?? ''),
    );
  }

  const metrics: string[] = [];
  for (const r of world.replicas) {
    try {
      metrics.push(await (await fetch(`${r.url}/metrics`)).text());
    } catch {
      metrics.push(`(replica ${r.name} did not answer /metrics)`);
    }
  }
  const haystacks: Record<string, string> = {
    Redis: redisDump,
    'Slack traffic': slack.everything(),
    'HTTP answers': answers.join('\n'),
    metrics: metrics.join('\n'),
  };
  for (const [name, lines] of world.logs) haystacks[`replica ${name} logs`] = lines.join('\n');

  return {
    intercom: intercom
      .secrets()
      .map((s) => ({ id: s.id, name: s.name, platforms: s.platforms, createdAt: s.createdAt, material: s.material, deleted: s.deleted })),
    seededIds: world.seededIds,
    vaultSecrets,
    vaultCurrent,
    requests,
    leases,
    outboxDue,
    chain: verdict.ok ? { ok: true } : { ok: false, why: `${verdict.why} (at ${verdict.brokenAt})` },
    audit: byRequest,
    threads,
    materials: intercom.issuedMaterial(),
    haystacks,
  };
}

/** A KV entry's newest version: its material, and whether that version is soft-deleted (or absent). */
function entryOf(world: DrillWorld, path: string): { material: string | undefined; deleted: boolean } {
  const meta = world.vault.metadata(path);
  const data = world.vault.read(path);
  const newest = meta?.versions[String(meta.current_version)];
  const material = typeof data?.['secret'] === 'string' ? data['secret'] : undefined;
  return { material, deleted: !meta || !newest || newest.deletion_time !== '' || newest.destroyed };
}
