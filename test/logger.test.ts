import { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { SecretMaterial } from '../src/core/secret-material';
import { boltLogger, makeScrubber } from '../src/logger';
import { freePort } from '../emulators/free-port';
import { captureLogs } from './support/log-capture';

const SIGNING_SECRET = 'configured-signing-secret-4f2a';
const INTERCOM_TOKEN = 'dG9rOmNvbmZpZ3VyZWQtaW50ZXJjb20tdG9rZW4=';
const BOT_TOKEN = 'xoxb-1111-2222-AbCdEfGhIjKl';
const APP_TOKEN = 'xapp-1-A0123-4567-abcdef0123';
const VAULT_TOKEN = 'hvs.CAESIJ0123456789abcdefghijklmnop';
/** The shape Intercom's material has: 256 bits, base64url, 43 characters. */
const MATERIAL = 'q3Zt9x-Lw_0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345';

function logsWith(secrets: readonly string[] = [SIGNING_SECRET, INTERCOM_TOKEN]) {
  return captureLogs(secrets, 'debug');
}

describe('createLogger redaction', () => {
  it('a real Slack client error (bot token in its request headers) is logged without the token or the request', async () => {
    const logs = logsWith([]);
    const client = new WebClient(BOT_TOKEN, { slackApiUrl: `http://127.0.0.1:${await freePort()}/api/`, retryConfig: { retries: 0 } });
    const err = await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    logs.logger.error({ err }, 'slack call failed');
    const text = logs.text();
    expect(text).not.toContain(BOT_TOKEN.slice(5));
    expect(text).toContain('slack call failed');
    expect(logs.records()[0]?.['err']).not.toHaveProperty('original');
  });

  it('objects with toJSON (like AxiosHeaders) are scrubbed as what they serialise to', () => {
    const logs = logsWith([]);
    const headers = { toJSON: () => ({ Authorization: `Bearer ${BOT_TOKEN}`, Accept: 'application/json' }) };
    logs.logger.info({ headers, when: new Date(0) }, 'sent');
    expect(logs.text()).not.toContain(BOT_TOKEN.slice(5));
    expect(logs.records()[0]).toMatchObject({ when: '1970-01-01T00:00:00.000Z' });
  });

  it('writes JSON lines naming the service', () => {
    const logs = logsWith();
    logs.logger.info({ requestId: 'R-7F3K2Q' }, 'request opened');
    expect(logs.records()[0]).toMatchObject({ service: 'ivs-bot', requestId: 'R-7F3K2Q', msg: 'request opened', level: 30 });
  });

  it('redacts configured secret values wherever they appear in a message', () => {
    const logs = logsWith();
    logs.logger.warn(`slack said the secret ${SIGNING_SECRET} was wrong; intercom token ${INTERCOM_TOKEN}`);
    const text = logs.text();
    expect(text).not.toContain(SIGNING_SECRET);
    expect(text).not.toContain(INTERCOM_TOKEN);
    expect(logs.records()[0]?.['msg']).toBe('slack said the secret [redacted] was wrong; intercom token [redacted]');
  });

  it('redacts secret-shaped values it was never told about: Slack, Vault and bearer tokens, 43-character material', () => {
    const logs = logsWith([]);
    logs.logger.info(`bot ${BOT_TOKEN} app ${APP_TOKEN} vault ${VAULT_TOKEN} header "Bearer abc.def-ghi" material ${MATERIAL}`);
    const msg = String(logs.records()[0]?.['msg']);
    for (const leaked of [BOT_TOKEN, APP_TOKEN, VAULT_TOKEN, 'abc.def-ghi', MATERIAL]) expect(msg).not.toContain(leaked);
    expect(msg).toBe('bot [redacted] app [redacted] vault [redacted] header "[redacted]" material [redacted]');
  });

  it('leaves ordinary words, ids and short strings alone', () => {
    const logs = logsWith([]);
    logs.logger.info(
      { secretId: '102', requestId: 'R-7F3K2Q', path: 'secret/data/intercom/identity-verification/default/current/web' },
      'Production Web created',
    );
    expect(logs.records()[0]).toMatchObject({
      secretId: '102',
      requestId: 'R-7F3K2Q',
      path: 'secret/data/intercom/identity-verification/default/current/web',
      msg: 'Production Web created',
    });
  });

  it('never writes a configured secret nested deeper than the scrubber walks', () => {
    const logs = logsWith();
    logs.logger.info({ a: { b: { c: { d: { e: { f: { g: { h: SIGNING_SECRET } } } } } } } }, 'deep');
    expect(logs.text()).not.toContain(SIGNING_SECRET);
    expect(logs.text()).toContain('[truncated]');
  });

  it('redacts inside nested objects and arrays', () => {
    const logs = logsWith();
    logs.logger.info(
      {
        call: { url: 'https://api.intercom.io/secure_mode_secrets', body: { note: `material=${MATERIAL}` }, tries: [`auth ${SIGNING_SECRET}`] },
        config: { headers: { Authorization: `Bearer ${INTERCOM_TOKEN}` } },
      },
      'upstream call',
    );
    const text = logs.text();
    for (const leaked of [MATERIAL, SIGNING_SECRET, INTERCOM_TOKEN]) expect(text).not.toContain(leaked);
    const record = logs.records()[0] as { call: { url: string; body: { note: string }; tries: string[] } };
    expect(record.call.url).toBe('https://api.intercom.io/secure_mode_secrets');
    expect(record.call.body.note).toBe('material=[redacted]');
    expect(record.call.tries).toEqual(['auth [redacted]']);
  });

  it('redacts well-known secret field names whatever their value', () => {
    const logs = logsWith([]);
    logs.logger.info({ token: 'short', secret: 'x', headers: { authorization: 'Basic Zm9v' }, slack: { signingSecret: 'abc' } }, 'fields');
    expect(logs.records()[0]).toMatchObject({
      token: '[redacted]',
      secret: '[redacted]',
      headers: { authorization: '[redacted]' },
      slack: { signingSecret: '[redacted]' },
    });
  });

  it('redacts Error messages and stacks, logged as err or nested', () => {
    const logs = logsWith();
    const err = new Error(`vault write failed with ${VAULT_TOKEN} for ${MATERIAL}`);
    logs.logger.error({ err }, 'create failed');
    logs.logger.error({ cause: { inner: new Error(`token ${SIGNING_SECRET} refused`) } }, 'nested');
    const text = logs.text();
    for (const leaked of [VAULT_TOKEN, MATERIAL, SIGNING_SECRET]) expect(text).not.toContain(leaked);
    const [first, second] = logs.records() as Array<Record<string, { message?: string; stack?: string; inner?: { message: string } }>>;
    expect(first?.['err']?.message).toBe('vault write failed with [redacted] for [redacted]');
    expect(first?.['err']?.stack).toContain('vault write failed with [redacted] for [redacted]');
    expect(first?.['err']?.stack).toContain('    at ');
    expect(second?.['cause']?.inner?.message).toBe('token [redacted] refused');
  });

  it('redacts an Error passed as the only argument', () => {
    const logs = logsWith();
    logs.logger.error(new Error(`intercom said no to ${INTERCOM_TOKEN}`));
    expect(logs.text()).not.toContain(INTERCOM_TOKEN);
    expect(logs.text()).toContain('intercom said no to [redacted]');
  });

  it('redacts own properties an HTTP client error carries', () => {
    const logs = logsWith();
    const err = Object.assign(new Error('Request failed with status code 401'), {
      config: { headers: { Authorization: `Bearer ${INTERCOM_TOKEN}` }, data: JSON.stringify({ secret: MATERIAL }) },
    });
    logs.logger.warn({ err }, 'intercom call failed');
    const text = logs.text();
    expect(text).not.toContain(INTERCOM_TOKEN);
    expect(text).not.toContain(MATERIAL);
    expect(text).toContain('Request failed with status code 401');
  });

  it('shows a SecretMaterial as [redacted], never its value', () => {
    const logs = logsWith([]);
    // Not a 43-character run, so only the type keeps it out of the log.
    const raw = 'material-that-is-not-secret-shaped';
    logs.logger.info({ created: { id: '103', material: SecretMaterial.of(raw) }, list: [SecretMaterial.of(raw)] }, 'created');
    logs.logger.info(`interpolated ${String(SecretMaterial.of(raw))}`);
    expect(logs.text()).not.toContain(raw);
    const [first, second] = logs.records();
    expect(first).toMatchObject({ created: { id: '103', material: '[redacted]' }, list: ['[redacted]'] });
    expect(second?.['msg']).toBe('interpolated [redacted]');
  });

  it('ignores configured secrets too short to redact safely', () => {
    // A 2-character "secret" would otherwise blank out every occurrence of those letters.
    expect(makeScrubber(['ab'])('about tabs')).toBe('about tabs');
  });

  it('drops records below the configured level', () => {
    const logs = captureLogs([], 'warn');
    logs.logger.info('chatty');
    logs.logger.warn('kept');
    expect(logs.records().map((r) => r['msg'])).toEqual(['kept']);
  });
});

describe('boltLogger', () => {
  it('folds Bolt messages into one pino line, tagged as Bolt, with redaction', () => {
    const logs = logsWith();
    boltLogger(logs.logger).warn('signature check failed for', { secret: SIGNING_SECRET }, new Error(`bad ${SIGNING_SECRET}`));
    const [record] = logs.records() as Array<Record<string, unknown>>;
    expect(record).toMatchObject({ component: 'bolt', level: 40 });
    expect(String(record?.['msg'])).toContain('signature check failed for');
    expect((record?.['err'] as { message?: string } | undefined)?.message).toBe('bad [redacted]');
    expect(logs.text()).not.toContain(SIGNING_SECRET);
  });
});
