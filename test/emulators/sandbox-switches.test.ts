import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startIntercomDouble, type IntercomDouble } from '../../emulators/intercom';
import { startRedis } from '../../emulators/redis-server';
import { startSlackDouble, type SlackDouble } from '../../emulators/slack-api';
import { DEFAULT_TOKEN, startVaultDouble } from '../../emulators/vault';

// What the sandbox added to the stand-ins: switches that stay on, a clock that can be moved, and
// listings for its panels.

const intercomHeaders = (token: string) => ({ authorization: `Bearer ${token}`, accept: 'application/json', 'intercom-version': 'Preview' });

describe('Intercom double: a standing fault', () => {
  let intercom: IntercomDouble;
  beforeAll(async () => {
    intercom = await startIntercomDouble();
  });
  afterAll(() => intercom.close());

  it('answers every call with it while set, and normally once cleared; queued faults come first and clearFaults drops them', async () => {
    const list = () => fetch(`${intercom.url}/secure_mode_secrets`, { headers: intercomHeaders(intercom.token) }).then((r) => r.status);
    intercom.setStandingFault({ status: 503 });
    expect([await list(), await list()]).toEqual([503, 503]);
    intercom.failNext('list', { status: 429 });
    expect(await list()).toBe(429);
    intercom.setStandingFault(null);
    expect(await list()).toBe(200);
    intercom.failNext('list', { status: 500 });
    intercom.clearFaults();
    expect(await list()).toBe(200);
  });

  it('dates secrets by its own clock', async () => {
    const shifted = await startIntercomDouble({ now: () => Date.UTC(2030, 0, 1) });
    try {
      const id = shifted.seed({ name: 'x', platforms: ['web'] });
      expect(shifted.secrets().find((s) => s.id === id)?.createdAt).toBe(Date.UTC(2030, 0, 1) / 1000);
    } finally {
      await shifted.close();
    }
  });
});

describe('Vault double: its clock and its listing', () => {
  it('records times by the clock it is given, and lists every stored path', async () => {
    let now = Date.UTC(2030, 0, 1);
    const vault = await startVaultDouble({ now: () => now });
    try {
      vault.seed('secret/intercom/identity-verification/us/secrets/1', { secret: 'a' });
      vault.seed('secret/intercom/identity-verification/us/current/web', { secret: 'a' });
      expect(vault.paths()).toEqual(['secret/intercom/identity-verification/us/current/web', 'secret/intercom/identity-verification/us/secrets/1']);
      const meta = vault.metadata('secret/intercom/identity-verification/us/secrets/1');
      expect(meta?.created_time).toBe('2030-01-01T00:00:00.000Z');
      now += 60_000;
      const res = await fetch(`${vault.url}/v1/secret/data/intercom/identity-verification/us/secrets/1`, {
        method: 'DELETE',
        headers: { 'X-Vault-Token': DEFAULT_TOKEN },
      });
      expect(res.status).toBe(204);
      expect(vault.metadata('secret/intercom/identity-verification/us/secrets/1')?.versions['1']?.deletion_time).toBe('2030-01-01T00:01:00.000Z');
    } finally {
      await vault.close();
    }
  });
});

describe('Slack double: an outage and the other view methods', () => {
  let slack: SlackDouble;
  beforeAll(async () => {
    slack = await startSlackDouble();
  });
  afterAll(() => slack.close());

  const api = (method: string, args: Record<string, unknown>) =>
    fetch(`${slack.url}${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${slack.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });

  it('answers 503 to everything while down and posts nothing; back to normal after', async () => {
    slack.setDown(true);
    expect((await api('chat.postMessage', { channel: 'C1', text: 'hi' })).status).toBe(503);
    expect((await fetch(slack.responseUrl('x'), { method: 'POST', body: '{}' })).status).toBe(503);
    expect(slack.messages()).toEqual([]);
    slack.setDown(false);
    expect(await (await api('chat.postMessage', { channel: 'C1', text: 'hi' })).json()).toMatchObject({ ok: true });
  });

  it('views.push stacks a new view and views.update replaces a known one', async () => {
    const opened = (await (await api('views.open', { trigger_id: 't1', view: { type: 'modal', title: { type: 'plain_text', text: 'A' } } })).json()) as {
      view: { id: string };
    };
    const pushed = (await (await api('views.push', { trigger_id: 't2', view: { type: 'modal', title: { type: 'plain_text', text: 'B' } } })).json()) as {
      ok: boolean;
      view: { id: string };
    };
    expect(pushed.ok).toBe(true);
    expect(pushed.view.id).not.toBe(opened.view.id);
    const updated = (await (
      await api('views.update', { view_id: opened.view.id, view: { type: 'modal', title: { type: 'plain_text', text: 'C' } } })
    ).json()) as { ok: boolean; view: { id: string } };
    expect(updated).toMatchObject({ ok: true, view: { id: opened.view.id } });
    expect(await (await api('views.update', { view_id: 'V404', view: { type: 'modal' } })).json()).toEqual({ ok: false, error: 'not_found' });
  });
});

describe('redis-server: killed and started again', () => {
  it('keeps its data across kill() and start() with persist, on the same port', async () => {
    const redis = await startRedis({ persist: true });
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    try {
      await client.set('k', 'v');
      await redis.kill();
      await expect(client.get('k')).rejects.toThrow();
      await redis.start();
      await expect.poll(() => client.get('k').catch(() => null), { timeout: 10_000 }).toBe('v');
    } finally {
      client.disconnect();
      await redis.stop();
    }
  }, 20_000);
});
