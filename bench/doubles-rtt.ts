import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { SlackDouble } from '../emulators/slack-api';
import type { IntercomDouble } from '../emulators/intercom';
import { DEFAULT_TOKEN as VAULT_TOKEN, type VaultDouble } from '../emulators/vault';
import { median } from './stats';

/**
 * The doubles' own latency: the same calls the bot makes on the way from a click to the Vault write,
 * made directly from here over keep-alive connections, with nothing of the bot in between. The median
 * of each kind is what the approval benchmark subtracts for every such call it saw in its window.
 */
export type CallKind =
  | 'slack chat.update'
  | 'slack chat.postMessage'
  | 'slack users.info'
  | 'vault sys/health'
  | 'vault sys/capabilities-self'
  | 'vault kv read'
  | 'vault kv write'
  | 'intercom list'
  | 'intercom create';

export type DoubleRtt = ReadonlyMap<CallKind, number>;

const WARMUP = 20;
const SAMPLES = 150;

interface Answer {
  readonly status: number;
  readonly text: string;
}

function call(agent: Agent, method: string, url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
  return new Promise((resolve, reject) => {
    const r = request(
      {
        agent,
        host: u.hostname,
        port: Number(u.port),
        method,
        path: `${u.pathname}${u.search}`,
        headers: payload ? { ...headers, 'content-length': String(payload.length) } : headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(payload);
  });
}

async function timeIt(op: () => Promise<Answer>, okStatus: (s: number) => boolean): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await op();
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const a = await op();
    samples.push(performance.now() - t0);
    if (!okStatus(a.status)) throw new Error(`raw double call answered ${a.status}: ${a.text.slice(0, 200)}`);
  }
  return median(samples);
}

/** A card-sized blocks payload, so chat.update carries about what the bot's card does. */
function cardBlocks(): string {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  return JSON.stringify([
    section('*Request R-ABC123*: create secret *Bench* (web)'),
    section('Requested by <@U111>: bench reason that is about as long as a real one'),
    section('Approvals: 1/2 — <@U222>'),
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'Expires in 59 min' }] },
    {
      type: 'actions',
      block_id: 'ivs_decision',
      elements: [
        { type: 'button', action_id: 'ivs_approve', text: { type: 'plain_text', text: 'Approve' }, value: 'R-ABC123', style: 'primary' },
        { type: 'button', action_id: 'ivs_reject', text: { type: 'plain_text', text: 'Reject' }, value: 'R-ABC123', style: 'danger' },
      ],
    },
  ]);
}

export async function measureDoubleRtt(doubles: { slack: SlackDouble; intercom: IntercomDouble; vault: VaultDouble }, channel: string): Promise<DoubleRtt> {
  const { slack, intercom, vault } = doubles;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const slackHeaders = { authorization: `Bearer ${slack.token}`, 'content-type': 'application/x-www-form-urlencoded' };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const vaultHeaders = { 'x-vault-token': VAULT_TOKEN, 'content-type': 'application/json' };
  const intercomHeaders = {
    authorization: `Bearer ${intercom.token}`,
    'intercom-version': 'Preview',
    accept: 'application/json',
    'content-type': 'application/json',
  };
  const okSlack = (s: number) => s === 200;
  const ok2xx = (s: number) => s >= 200 && s < 300;

  const parent = JSON.parse((await call(agent, 'POST', `${slack.url}chat.postMessage`, slackHeaders, form({ channel, text: 'rtt parent' }))).text) as {
    ts: string;
  };
  const kvBase = 'secret/data/intercom/identity-verification/bench-rtt';
  vault.seed(`${kvBase.replace('/data/', '/')}/read`, { secret: 'x'.repeat(43), intercom_secret_id: '1' });
  let writeSeq = 0;
  const createdIds: string[] = [];
  const out = new Map<CallKind, number>();

  out.set(
    'slack chat.update',
    await timeIt(
      () => call(agent, 'POST', `${slack.url}chat.update`, slackHeaders, form({ channel, ts: parent.ts, text: 'rtt update', blocks: cardBlocks() })),
      okSlack,
    ),
  );
  out.set(
    'slack chat.postMessage',
    await timeIt(
      () =>
        call(
          agent,
          'POST',
          `${slack.url}chat.postMessage`,
          slackHeaders,
          form({ channel, thread_ts: parent.ts, text: ':white_check_mark: Approved by <@U222> (1/2).' }),
        ),
      okSlack,
    ),
  );
  out.set('slack users.info', await timeIt(() => call(agent, 'POST', `${slack.url}users.info`, slackHeaders, form({ user: 'U222' })), okSlack));
  out.set(
    'vault sys/health',
    await timeIt(
      () => call(agent, 'GET', `${vault.url}/v1/sys/health?standbyok=true`, vaultHeaders),
      (s) => s === 200,
    ),
  );
  const probe = 'secret/data/intercom/identity-verification/default/secrets/_preflight';
  out.set(
    'vault sys/capabilities-self',
    await timeIt(
      () =>
        call(
          agent,
          'POST',
          `${vault.url}/v1/sys/capabilities-self`,
          vaultHeaders,
          JSON.stringify({ paths: [probe, probe.replace('/data/', '/metadata/'), probe.replace('secrets', 'current')] }),
        ),
      ok2xx,
    ),
  );
  out.set('vault kv read', await timeIt(() => call(agent, 'GET', `${vault.url}/v1/${kvBase}/read`, vaultHeaders), ok2xx));
  out.set(
    'vault kv write',
    await timeIt(
      () =>
        call(
          agent,
          'POST',
          `${vault.url}/v1/${kvBase}/w${++writeSeq}`,
          vaultHeaders,
          JSON.stringify({ options: { cas: 0 }, data: { secret: 'x'.repeat(43), intercom_secret_id: String(writeSeq) } }),
        ),
      ok2xx,
    ),
  );
  out.set('intercom list', await timeIt(() => call(agent, 'GET', `${intercom.url}/secure_mode_secrets`, intercomHeaders), ok2xx));
  out.set(
    'intercom create',
    await timeIt(async () => {
      const a = await call(agent, 'POST', `${intercom.url}/secure_mode_secrets`, intercomHeaders, JSON.stringify({ name: 'rtt probe', supports_web: true }));
      const id = (JSON.parse(a.text) as { id?: string }).id;
      if (id) createdIds.push(id);
      return a;
    }, ok2xx),
  );
  // The probes must not show up in /ivs list or in the approvals' Intercom listings.
  for (const id of createdIds) intercom.remove(id);
  agent.destroy();
  return out;
}

/** Which measured kind a recorded double call is; undefined when it has no raw measurement (then nothing is subtracted for it). */
export function kindOfSlackCall(method: string): CallKind | undefined {
  if (method === 'chat.update' || method === 'chat.postMessage' || method === 'users.info') return `slack ${method}`;
  return undefined;
}

export function kindOfVaultCall(method: string, path: string): CallKind | undefined {
  if (path === 'sys/health') return 'vault sys/health';
  if (path === 'sys/capabilities-self') return 'vault sys/capabilities-self';
  if (path.includes('/data/') || path.includes('/metadata/')) return method === 'GET' ? 'vault kv read' : 'vault kv write';
  return undefined;
}

export function kindOfIntercomCall(op: string): CallKind | undefined {
  if (op === 'list') return 'intercom list';
  if (op === 'create') return 'intercom create';
  return undefined;
}
