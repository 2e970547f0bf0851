import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  everything,
  fingerprintOf,
  messages,
  openRequest,
  replyMatching,
  startSandbox,
  thread,
  until,
  type Client,
  type Message,
  type Sandbox,
} from './support';

// The sandbox as a person uses it, through the control API only (the page uses the same API):
// real redis-server, the stand-ins, two bot replicas as processes, signed HTTP to the bot.

let sandbox: Sandbox;
let api: Client;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, recordServed: true });
  api = client(sandbox.url);
  // The figure the issue asks for (target: under 10 s on the CI machine).
  process.stdout.write(`sandbox usable after ${sandbox.startupMs} ms\n`);
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
}, 30_000);

interface VaultEntry {
  path: string;
  workspace?: string;
  key: string;
  fingerprint?: string;
  intercomId?: string;
  deleted: boolean;
  version: number;
  customMetadata?: Record<string, string>;
}

// The `us` workspace (#ops) unless another is named: keys and secret ids repeat across workspaces.
const vaultEntries = (workspace = 'us') =>
  api.get<{ entries: VaultEntry[] }>('/api/panels/vault').then((r) => r.entries.filter((e) => e.workspace === workspace));
const intercomSecrets = (workspace = 'us') =>
  api
    .get<{ workspaces: Array<{ name: string; secrets: Array<{ id: string; name: string; platforms: string[]; deleted: boolean }> }> }>('/api/panels/intercom')
    .then((r) => r.workspaces.filter((w) => w.name === workspace).flatMap((w) => w.secrets));

describe('the sandbox', () => {
  it('starts usable with the seeded world: people, channels, two live replicas, secrets in Intercom and Vault', async () => {
    const state = await api.get<{
      people: Array<{ name: string; userId: string }>;
      channels: Array<{ name: string; allowed: boolean }>;
      replicas: Array<{ name: string; alive: boolean }>;
      workspaces: string[];
    }>('/api/state');
    expect(state.people.map((p) => p.name)).toEqual(['alice', 'bob', 'carol', 'mallory']);
    expect(state.channels).toEqual([
      expect.objectContaining({ name: 'ops', allowed: true, workspace: 'us' }),
      expect.objectContaining({ name: 'ops-eu', allowed: true, workspace: 'eu' }),
      expect.objectContaining({ name: 'random', allowed: false }),
    ]);
    expect(state.replicas.map((r) => [r.name, r.alive])).toEqual([
      ['A', true],
      ['B', true],
    ]);
    expect(state.workspaces).toEqual(['us', 'eu']);
    const secrets = await intercomSecrets();
    expect(secrets.filter((s) => s.platforms.includes('web'))).toHaveLength(2);
    const entries = await vaultEntries();
    const current = entries.find((e) => e.key === 'current/web');
    expect(current?.path).toBe('secret/data/intercom/identity-verification/us/current/web');
    expect(current?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(entries.find((e) => e.key === `secrets/${current?.intercomId}`)?.fingerprint).toBe(current?.fingerprint);
    // eu: its own, fewer secrets, whose ids repeat us's (ids are per workspace), and its own Vault subtree.
    const eu = await intercomSecrets('eu');
    expect(eu.map((s) => s.name)).toEqual(['EU Web', 'EU iOS and Android']);
    expect(eu.map((s) => s.id).every((id) => secrets.some((s) => s.id === id))).toBe(true);
    const euEntries = await vaultEntries('eu');
    expect(euEntries.map((e) => e.key).sort()).toEqual(['current/android', 'current/ios', 'current/web', ...eu.map((s) => `secrets/${s.id}`)].sort());
    expect(euEntries.every((e) => e.path.startsWith('secret/data/intercom/identity-verification/eu/'))).toBe(true);
    expect(sandbox.startupMs).toBeLessThan(30_000);
  });

  it('the rotation reminder: us’s 400-day-old Production Web is due (rotate_after 365d); Rotate is refused to mallory and opens the rotation for alice', async () => {
    const reminder = await until('the rotation reminder in #ops', async () =>
      (await messages(api, 'alice')).find((m) => m.isBot && /due for rotation in us/.test(m.text ?? '')),
    );
    const old = (await intercomSecrets()).find((s) => s.name === 'Production Web');
    if (!old) throw new Error('seeded secret missing');
    expect(everything(reminder)).toContain('400 days old');
    expect(everything(reminder)).toContain(`${old.id}`);
    // Nothing in eu is older than a year, and eu has no policy: no reminder in #ops-eu.
    expect((await messages(api, 'alice', 'ops-eu')).some((m) => /due for rotation/.test(m.text ?? ''))).toBe(false);

    await api.post('/api/click', { as: 'mallory', channel: 'ops', ts: reminder.ts, button: 'Rotate' });
    await until('mallory’s refusal', async () => (await messages(api, 'mallory')).find((m) => m.ephemeral && /cannot open requests/.test(everything(m))));

    const before = new Set((await messages(api, 'alice')).map((m) => m.ts));
    await api.post('/api/click', { as: 'alice', channel: 'ops', ts: reminder.ts, button: 'Rotate' });
    const card = await until('the rotation’s card', async () =>
      (await messages(api, 'alice')).find((m) => !before.has(m.ts) && m.isBot && !m.ephemeral && /R-[0-9A-Z]{6}/.test(everything(m))),
    );
    expect(everything(card)).toContain('<@U0ALICE>');
    expect(everything(card)).toMatch(/[Rr]otat/);
    // Leave the world as it was for the rotation test below: alice cancels it.
    const id = /R-[0-9A-Z]{6}/.exec(everything(card))?.[0] ?? '';
    await api.post('/api/command', { as: 'alice', channel: 'ops', text: `/ivs cancel ${id}` });
    await replyMatching(api, card, 'alice', /[Cc]ancelled/);
  }, 60_000);

  it('in #ops-eu: alice creates, bob approves, the secret is only in the eu Intercom and under …/eu/secrets/<id>; /ivs list in #ops lists only us', async () => {
    const usBefore = await intercomSecrets('us');
    const { id, card } = await openRequest(api, 'alice', '/ivs create web Demo', 'ops-eu');
    expect(everything(card)).toContain('eu');
    await api.post('/api/click', { as: 'bob', channel: 'ops-eu', ts: card.ts, button: 'Approve', confirm: true });
    await replyMatching(api, card, 'bob', /Succeeded/, 20_000, 'ops-eu');

    const made = (await intercomSecrets('eu')).find((s) => s.name.includes(id));
    expect(made?.platforms).toEqual(['web']);
    expect((await intercomSecrets('us')).map((s) => s.id)).toEqual(usBefore.map((s) => s.id));
    const euEntries = await vaultEntries('eu');
    const stored = euEntries.find((e) => e.key === `secrets/${made?.id}`);
    expect(stored?.path).toBe(`secret/data/intercom/identity-verification/eu/secrets/${made?.id}`);
    expect(stored?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(euEntries.find((e) => e.key === 'current/web')?.intercomId).toBe(made?.id);
    expect((await vaultEntries('us')).some((e) => e.customMetadata?.['request_id'] === id)).toBe(false);

    const before = new Set((await messages(api, 'alice')).map((m) => m.ts));
    await api.post('/api/command', { as: 'alice', channel: 'ops', text: '/ivs list' });
    const list = await until('the list in #ops', async () =>
      (await messages(api, 'alice')).find((m) => !before.has(m.ts) && m.isBot && /Production Web/.test(everything(m))),
    );
    expect(everything(list)).toContain('us');
    expect(everything(list)).not.toMatch(/EU Web|EU iOS/);
    expect(everything(list)).not.toContain(id);
  });

  it('create → own approval refused (only alice sees why) → bob approves through the confirm → Succeeded, Intercom and Vault show it', async () => {
    const { id, card } = await openRequest(api, 'alice', '/ivs create web Demo');
    expect(everything(card)).toContain('Demo');
    // bob sees the card too, but not alice's own command echo.
    const bobSees = await messages(api, 'bob');
    expect(bobSees.some((m) => m.ts === card.ts)).toBe(true);
    expect(bobSees.some((m) => m.isCommand)).toBe(false);

    // The confirm dialog comes first: nothing is sent without confirm:true.
    const unconfirmed = await api.post<{ error: string; confirm: { title: string; confirm: string } }>('/api/click', {
      as: 'alice',
      channel: 'ops',
      ts: card.ts,
      button: 'Approve',
    });
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.body.confirm.confirm).toBe('Approve');

    const own = await api.post('/api/click', { as: 'alice', channel: 'ops', ts: card.ts, button: 'approve', confirm: true });
    expect(own.status).toBe(200);
    const refusal = await until('alice sees the refusal', async () =>
      (await messages(api, 'alice')).find((m) => m.ephemeral && m.isBot && /cannot approve or reject your own request/.test(everything(m))),
    );
    expect(refusal.ephemeral).toBe(true);
    expect((await messages(api, 'bob')).some((m) => /cannot approve or reject your own request/.test(everything(m)))).toBe(false);

    const unknown = await api.post<{ error: string }>('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Launch' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/"Approve".*"Reject"/);

    const first = await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve' });
    expect(first.status).toBe(409);
    const approved = await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
    expect(approved.status).toBe(200);

    await replyMatching(api, card, 'bob', /Succeeded/);
    const secret = (await intercomSecrets()).find((s) => s.name.includes('Demo'));
    expect(secret?.name).toContain(id);
    const entries = await vaultEntries();
    const stored = entries.find((e) => e.key === `secrets/${secret?.id}`);
    const current = entries.find((e) => e.key === 'current/web');
    expect(stored?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(current?.intercomId).toBe(secret?.id);
    expect(current?.fingerprint).toBe(stored?.fingerprint);
    // The fingerprint is of the very material Intercom minted (the newest one).
    expect(sandbox.materials().map(fingerprintOf)).toContain(stored?.fingerprint);

    const card2 = (await thread(api, card.ts, 'carol')).parent;
    expect(card2.edited).toBe(true);
    const audit = await api.get<{ entries: Array<{ requestId: string; type: string }>; chain: { ok: boolean } }>('/api/panels/audit');
    expect(audit.chain).toEqual({ ok: true });
    expect(audit.entries.filter((e) => e.requestId === id).map((e) => e.type)).toEqual(
      expect.arrayContaining(['requested', 'approved', 'created', 'succeeded']),
    );
  }, 60_000);

  it('mallory is refused, and in #random the bot posts nothing visible', async () => {
    await api.post('/api/command', { as: 'mallory', channel: 'ops', text: '/ivs create web Sneaky' });
    await until('mallory sees a refusal', async () => (await messages(api, 'mallory')).find((m) => m.isBot && m.ephemeral));
    expect((await intercomSecrets()).some((s) => s.name.includes('Sneaky'))).toBe(false);

    await api.post('/api/command', { as: 'alice', channel: 'random', text: 'list' });
    await until('alice sees the refusal in #random', async () => (await messages(api, 'alice', 'random')).find((m) => m.isBot && m.ephemeral));
    expect((await messages(api, 'bob', 'random')).filter((m) => m.isBot)).toEqual([]);
  }, 30_000);

  it('the create modal: opened by /ivs create, errors shown in it, a submission opens the request', async () => {
    await api.post('/api/command', { as: 'alice', channel: 'ops', text: '/ivs create' });
    const view = await until('the modal', async () => (await api.get<{ view: Record<string, unknown> | null }>('/api/modal?as=alice')).view ?? undefined);
    expect(view['callback_id']).toBeTruthy();
    expect((await api.get<{ view: unknown }>('/api/modal?as=bob')).view).toBeNull();
    const blocks = view['blocks'] as Array<{ block_id: string; type: string; element?: { type: string; action_id: string } }>;
    const input = (type: string) => blocks.find((b) => b.type === 'input' && b.element?.type === type);
    const name = input('plain_text_input');
    const platforms = input('checkboxes');
    expect(name && platforms).toBeTruthy();
    if (!name?.element || !platforms?.element) return;

    const empty = await api.post<{ ok: boolean; errors?: Record<string, string> }>('/api/modal/submit', { as: 'alice', values: {} });
    expect(empty.body.ok).toBe(false);
    expect(Object.keys(empty.body.errors ?? {}).length).toBeGreaterThan(0);
    expect((await api.get<{ view: { errors?: unknown } }>('/api/modal?as=alice')).view.errors).toEqual(empty.body.errors);

    const done = await api.post<{ ok: boolean }>('/api/modal/submit', {
      as: 'alice',
      values: { [name.block_id]: { [name.element.action_id]: 'Modal Made' }, [platforms.block_id]: { [platforms.element.action_id]: ['web'] } },
    });
    expect(done.body).toEqual({ ok: true });
    expect((await api.get<{ view: unknown }>('/api/modal?as=alice')).view).toBeNull();
    await until('the card of the modal request', async () =>
      (await messages(api, 'bob')).find((m) => m.isBot && !m.ephemeral && everything(m).includes('Modal Made')),
    );
  }, 30_000);

  it('fault switch: with Vault sealed the approved create fails closed and the thread says so; nothing reaches Intercom', async () => {
    const { card } = await openRequest(api, 'alice', '/ivs create web Sealed Demo');
    const faults = await api.post<{ faults: Record<string, boolean> }>('/api/faults', { name: 'vault_sealed', on: true });
    expect(faults.body.faults['vault_sealed']).toBe(true);
    try {
      await api.post('/api/click', { as: 'carol', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
      const failed = await replyMatching(api, card, 'alice', /Failed/);
      expect(everything(failed)).toMatch(/seal/i);
      expect((await intercomSecrets()).some((s) => s.name.includes('Sealed Demo'))).toBe(false);
    } finally {
      await api.post('/api/faults', { name: 'vault_sealed', on: false });
    }
    const bad = await api.post<{ error: string }>('/api/faults', { name: 'vault_on_fire', on: true });
    expect(bad.status).toBe(404);
    expect(bad.body.error).toContain('vault_sealed');
  }, 60_000);

  it('skipping time moves the bot’s clock: a pending request expires after IVS_REQUEST_TTL (30m) without waiting', async () => {
    const { card } = await openRequest(api, 'alice', '/ivs create ios Too Late');
    const before = (await api.get<{ clock: { skippedMs: number; now: number } }>('/api/state')).clock;
    const skipped = await api.post<{ clock: { skippedMs: number; now: number } }>('/api/time/skip', { by: '31m' });
    expect(skipped.body.clock.skippedMs - before.skippedMs).toBe(31 * 60_000);
    expect(skipped.body.clock.now).toBeGreaterThanOrEqual(before.now + 31 * 60_000);
    await replyMatching(api, card, 'bob', /Expired/, 30_000);
    const late = await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
    // The card has lost its buttons.
    expect(late.status).toBe(404);

    const bad = await api.post<{ error: string }>('/api/time/skip', { by: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('duration');
  }, 60_000);

  it('a rotation finished after skipping IVS_MIN_OVERLAP (5m): current/web moves to the successor, the old secret is deleted', async () => {
    const old = (await intercomSecrets()).find((s) => s.name === 'Production Web');
    if (!old) throw new Error('seeded secret missing');
    const currentBefore = (await vaultEntries()).find((e) => e.key === 'current/web')?.intercomId;
    const { card } = await openRequest(api, 'alice', `/ivs rotate ${old.id} yearly rotation`);
    await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
    await replyMatching(api, card, 'alice', /Step 1 done/);
    const successor = await until('the successor at current/web', async () => {
      const current = (await vaultEntries()).find((e) => e.key === 'current/web');
      return current && current.intercomId !== old.id && current.intercomId !== currentBefore ? current : undefined;
    });

    // Too early: both secrets must coexist for 5m.
    await api.post('/api/click', { as: 'alice', channel: 'ops', ts: card.ts, button: 'Finish rotation', confirm: true });
    await until('the too-early refusal', async () => (await messages(api, 'alice')).find((m) => m.ephemeral && /Too early/.test(everything(m))));

    await api.post('/api/time/skip', { by: '6m' });
    await api.post('/api/click', { as: 'alice', channel: 'ops', ts: card.ts, button: 'Finish rotation', confirm: true });
    await replyMatching(api, card, 'bob', /asked to finish the rotation/);
    await until(
      'the delete step’s Approve button',
      async () => ((await thread(api, card.ts, 'bob')).parent.blocks ?? []).some((b) => JSON.stringify(b).includes('"Approve"')) || undefined,
    );
    await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
    await replyMatching(api, card, 'alice', /Succeeded/);

    const after = await intercomSecrets();
    expect(after.find((s) => s.id === old.id)?.deleted).toBe(true);
    const entries = await vaultEntries();
    expect(entries.find((e) => e.key === `secrets/${old.id}`)?.deleted).toBe(true);
    expect(entries.find((e) => e.key === 'current/web')?.fingerprint).toBe(successor.fingerprint);
  }, 90_000);

  it('Slack down for a while: an approved create still runs through Intercom and Vault', async () => {
    const { card } = await openRequest(api, 'alice', '/ivs create web Outage Demo');
    await api.post('/api/faults', { name: 'slack_down', on: true });
    try {
      await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
      const made = await until('the secret at Intercom', async () => (await intercomSecrets()).find((s) => s.name.includes('Outage Demo')));
      await until('its material in Vault', async () => (await vaultEntries()).find((e) => e.key === `secrets/${made.id}` && e.fingerprint));
    } finally {
      await api.post('/api/faults', { name: 'slack_down', on: false });
    }
  }, 60_000);

  it('Redis stopped: the bot says its store is down; started again, nothing was lost', async () => {
    const auditBefore = await api.get<{ entries: unknown[] }>('/api/panels/audit');
    const stopped = await api.post<{ faults: Record<string, boolean> }>('/api/faults', { name: 'redis_stopped', on: true });
    expect(stopped.body.faults['redis_stopped']).toBe(true);
    try {
      const panel = await api.get<{ chain: { ok: boolean }; unavailable?: boolean }>('/api/panels/audit');
      expect(panel.unavailable).toBe(true);
      const before = (await messages(api, 'alice')).length;
      await api.post('/api/command', { as: 'alice', channel: 'ops', text: '/ivs requests' });
      await until('the store-down answer', async () => {
        const now = await messages(api, 'alice');
        return now.length > before + 1 && now.slice(before).find((m) => m.isBot && /Redis|store|try again/i.test(everything(m)));
      });
    } finally {
      await api.post('/api/faults', { name: 'redis_stopped', on: false });
    }
    const auditAfter = await until('the audit stream back', async () => {
      const a = await api.get<{ entries: unknown[]; chain: { ok: boolean }; unavailable?: boolean }>('/api/panels/audit');
      return a.unavailable ? undefined : a;
    });
    expect(auditAfter.entries.length).toBeGreaterThanOrEqual(auditBefore.entries.length);
    expect(auditAfter.chain).toEqual({ ok: true });
  }, 60_000);

  it('answers bad input with one clear sentence', async () => {
    const who = await api.post<{ error: string }>('/api/command', { as: 'eve', channel: 'ops', text: 'list' });
    expect(who.status).toBe(400);
    expect(who.body.error).toMatch(/alice, bob, carol, mallory/);
    const where = await api.post<{ error: string }>('/api/command', { as: 'alice', channel: 'general', text: 'list' });
    expect(where.status).toBe(404);
    const replica = await api.post<{ error: string }>('/api/replicas/C/kill', {});
    expect(replica.status).toBe(404);
    const nothing = await api.post<{ error: string }>('/api/modal/submit', { as: 'bob', values: {} });
    expect(nothing.status).toBe(409);
  });

  it('takes orders only from this machine: a form post (what another web site could send) and a foreign Host are refused', async () => {
    const form = await fetch(`${sandbox.url}/api/command`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ as: 'alice', channel: 'ops', text: 'list' }),
    });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error: string }).error).toContain('Content-Type: application/json');
    const port = new URL(sandbox.url).port;
    const rebound = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/state', headers: { host: `evil.example:${port}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('alice');
  });

  it('live updates: the event stream moves when something changes, also for what only one person sees', async () => {
    const res = await fetch(`${sandbox.url}/api/events`);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no stream');
    const decoder = new TextDecoder();
    let buffered = '';
    /** The newest seq in the stream once at least one more event has come. */
    const next = async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffered += decoder.decode(value);
        const events = [...buffered.matchAll(/^data: (.*)$/gm)];
        const last = events[events.length - 1]?.[1];
        if (last) {
          buffered = '';
          return (JSON.parse(last) as { seq: number }).seq;
        }
      }
    };
    const first = await next();
    // `/ivs help` is answered in the ack alone: no Slack call, still a change on bob's screen.
    await api.post('/api/command', { as: 'bob', channel: 'ops', text: 'help' });
    expect(await next()).toBeGreaterThan(first);
    await reader.cancel();
  });

  it('leak canary: no byte the control API served carries any material', async () => {
    // Read everything once more, as each person, so every view is in the record.
    for (const as of ['alice', 'bob', 'carol', 'mallory']) {
      for (const m of (await messages(api, as)) as Message[]) await thread(api, m.ts, as).catch(() => undefined);
    }
    await Promise.all([vaultEntries(), intercomSecrets(), api.get('/api/panels/audit'), api.get('/api/state')]);
    const served = sandbox.served();
    expect(served).toContain('Demo');
    const materials = sandbox.materials();
    expect(materials.length).toBeGreaterThan(5);
    for (const material of materials) expect(served).not.toContain(material);
    // The bots' own logs too (the last lines each replica wrote).
    const logs = [...sandbox.replicaLogs('A'), ...sandbox.replicaLogs('B')].join('\n');
    expect(logs).toContain('ivs-bot started');
    for (const material of materials) expect(logs).not.toContain(material);
  });

  it('reset: back to the seeded start (no messages, no skipped time, seeded secrets, empty audit), and usable again', async () => {
    await api.post('/api/faults', { name: 'vault_sealed', on: true });
    const reset = await api.post<{ clock: { skippedMs: number }; faults: Record<string, boolean>; replicas: Array<{ alive: boolean }> }>('/api/reset', {});
    expect(reset.status).toBe(200);
    expect(reset.body.clock.skippedMs).toBe(0);
    expect(Object.values(reset.body.faults).some(Boolean)).toBe(false);
    expect(reset.body.replicas.every((r) => r.alive)).toBe(true);
    // The fresh replicas post the seeded world's rotation reminder again (its claim went with Redis), and nothing else.
    await until('the rotation reminder after the reset', async () => (await messages(api, 'alice')).find((m) => /due for rotation in us/.test(m.text ?? '')));
    expect((await messages(api, 'alice')).map((m) => m.text)).toEqual([expect.stringMatching(/^1 secret due for rotation in us: /)]);
    expect((await intercomSecrets()).map((s) => s.name)).toEqual([
      'Production Web',
      'Production Web 2026',
      'Production iOS',
      'Production iOS 2026',
      'Production Android',
    ]);
    expect((await api.get<{ entries: unknown[] }>('/api/panels/audit')).entries).toEqual([]);
    const { card } = await openRequest(api, 'alice', '/ivs create web After Reset');
    await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
    await replyMatching(api, card, 'alice', /Succeeded/);
  }, 60_000);
});
