import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, REQUESTER, openRequest, startWorld, threadReply, type World } from '../support/bot-harness';

// /metrics, /readyz and /healthz on the bot's own port (HTTP mode), after real traffic.

/** A sample line of the Prometheus text format 0.0.4: name, optional {label="value",…}, a number. */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)( -?\d+)?$/;
const COMMENT = /^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/;

/** The value of the sample whose name and labels (in any order) match exactly; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([^{ ]+)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('GET /metrics after a list, a refused click and an executed create', () => {
  let world: World;
  let requestId: string;
  const scrape = async () => {
    const res = await fetch(`${world.bot.url}/metrics`);
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  beforeAll(async () => {
    world = await startWorld();
    world.intercom.seed({ name: 'Metrics Listed Web', platforms: ['web'] });
    const listed = await world.bot.command('list');
    await listed.reply();

    const { id, card } = await openRequest(world, 'create web Metrics Created -- metrics reason text');
    requestId = id;
    const own = await world.bot.click('ivs_approve', id, REQUESTER);
    expect(await own.reply()).toMatch(/own request/);
    await world.bot.click('ivs_approve', id, APPROVER);
    await threadReply(world, card, /Succeeded/);
  });
  afterAll(async () => {
    await world?.close();
  });

  it('answers 200 in the Prometheus text format', async () => {
    const { status, contentType, text } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const bad = text.split('\n').filter((l) => l !== '' && !SAMPLE.test(l) && !COMMENT.test(l));
    expect(bad).toEqual([]);
    expect(text).toContain('# TYPE ivs_commands_total counter');
    expect(text).toContain('# TYPE ivs_upstream_request_duration_seconds histogram');
  });

  it('counts commands by subcommand and outcome', async () => {
    const { text } = await scrape();
    expect(sample(text, 'ivs_commands_total', { subcommand: 'list', outcome: 'accepted', workspace: 'default' })).toBe(1);
    expect(sample(text, 'ivs_commands_total', { subcommand: 'create', outcome: 'accepted', workspace: 'default' })).toBe(1);
  });

  it('counts clicks by action and outcome, the refused one apart from the one that counted', async () => {
    const { text } = await scrape();
    expect(sample(text, 'ivs_clicks_total', { action: 'ivs_approve', outcome: 'refused', workspace: 'default' })).toBe(1);
    expect(sample(text, 'ivs_clicks_total', { action: 'ivs_approve', outcome: 'ok', workspace: 'default' })).toBe(1);
  });

  it('counts the executed create', async () => {
    const { text } = await scrape();
    expect(sample(text, 'ivs_executions_total', { action: 'create', result: 'succeeded', workspace: 'default' })).toBe(1);
  });

  it('times the calls to Intercom and to Vault', async () => {
    const { text } = await scrape();
    const counts = (service: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('ivs_upstream_request_duration_seconds_count{') && l.includes(`service="${service}"`))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    // Operations are the port's method names: one create at Intercom, its material stored once in Vault.
    expect(sample(text, 'ivs_upstream_request_duration_seconds_count', { service: 'intercom', operation: 'createSecret', workspace: 'default' })).toBe(1);
    expect(sample(text, 'ivs_upstream_request_duration_seconds_count', { service: 'vault', operation: 'storeSecret', workspace: 'default' })).toBe(1);
    expect(counts('intercom')).toBeGreaterThanOrEqual(2);
    expect(counts('vault')).toBeGreaterThanOrEqual(2);
    // Slack by Web API method: the card, its updates and the thread replies.
    expect(
      sample(text, 'ivs_upstream_request_duration_seconds_count', { service: 'slack', operation: 'chat.postMessage', workspace: '' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'ivs_upstream_request_duration_seconds_count', { service: 'slack', operation: 'chat.update', workspace: '' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('reports the secrets per platform seen at the last listing', async () => {
    const { text } = await scrape();
    expect(sample(text, 'ivs_secrets', { platform: 'web', workspace: 'default' })).toBe(1);
    expect(sample(text, 'ivs_secrets', { platform: 'ios', workspace: 'default' })).toBe(0);
  });

  it('contains no token, request id, secret name, reason or secret material', async () => {
    const { text } = await scrape();
    const material = world.intercom.issuedMaterial();
    expect(material.length).toBeGreaterThan(0);
    const forbidden = [
      world.env['SLACK_BOT_TOKEN'],
      world.env['SLACK_SIGNING_SECRET'],
      world.env['INTERCOM_ACCESS_TOKEN'],
      world.env['VAULT_TOKEN'],
      requestId,
      'Metrics Listed Web',
      'Metrics Created',
      'metrics reason text',
      ...material,
    ];
    for (const value of forbidden) {
      expect(value, 'a forbidden value is undefined: the test would prove nothing').toBeTruthy();
      expect(text).not.toContain(value);
    }
  });
});

describe('GET /readyz and /healthz', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${world.bot.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('is ready while Redis answers and Vault is unsealed; names Vault when it is sealed and Redis when it is gone, while /healthz stays 200', async () => {
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready', redis: 'ok', vault: 'ok' } });

    world.vault.seal();
    const sealed = await get('/readyz');
    expect(sealed.status).toBe(503);
    expect(sealed.body).toMatchObject({ status: 'not ready', redis: 'ok' });
    expect(String(sealed.body['vault'])).toMatch(/sealed/);
    expect((await get('/healthz')).status).toBe(200);

    world.vault.unseal();
    expect((await get('/readyz')).status).toBe(200);

    await world.redis.stop();
    const noRedis = await get('/readyz');
    expect(noRedis.status).toBe(503);
    expect(noRedis.body).toMatchObject({ status: 'not ready', redis: 'unavailable', vault: 'ok' });
    expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });
});
