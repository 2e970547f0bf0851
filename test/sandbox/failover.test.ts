import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, everything, openRequest, replyMatching, startSandbox, until, type Client, type Sandbox } from './support';

// Failover in the sandbox, through the control API: its own sandbox, because the takeover runs on
// the real clock (a 15 s lease, then the 30 s holder window) and should not hold up the other
// control-API tests behind it.

let sandbox: Sandbox;
let api: Client;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  api = client(sandbox.url);
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
}, 30_000);

describe('the sandbox with one replica killed', () => {
  it('killing the replica that executes a create: the other one recovers it (the orphan is reported and a delete request opened)', async () => {
    const { card } = await openRequest(api, 'alice', '/ivs create android Crash Demo');
    await api.post('/api/faults', { name: 'intercom_hang_next_create', on: true });
    await api.post('/api/click', { as: 'bob', channel: 'ops', ts: card.ts, button: 'Approve', confirm: true });
    type R = { name: string; alive: boolean; executing: string[] };
    const executing = await until('a replica executing the create', async () =>
      (await api.get<{ replicas: R[] }>('/api/state')).replicas.find((r) => r.executing.length > 0),
    );
    // Intercom made the secret and never answered: kill the one waiting for the answer.
    await until('the hung create', async () =>
      (await api.get<{ faults: Record<string, boolean> }>('/api/state')).faults['intercom_hang_next_create'] ? undefined : true,
    );
    const killed = await api.post<{ replicas: R[] }>(`/api/replicas/${executing.name}/kill`, {});
    expect(killed.body.replicas.find((r) => r.name === executing.name)?.alive).toBe(false);

    await replyMatching(api, card, 'alice', /Recovered/, 60_000);
    // The takeover waits out the dead executor's POST before it concludes: then the orphan is reported
    // (the secret Intercom made, with no material in Vault) and a delete request is opened for it.
    const orphan = await replyMatching(api, card, 'alice', /ORPHAN/, 90_000);
    expect(everything(orphan)).toMatch(/Delete request .*R-[0-9A-Z]{6}.* opened/);
    const restarted = await api.post<{ replicas: R[] }>(`/api/replicas/${executing.name}/restart`, {});
    expect(restarted.body.replicas.every((r) => r.alive)).toBe(true);
  }, 150_000);
});
