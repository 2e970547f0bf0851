import { describe, expect, it } from 'vitest';
import { auditOutOfOrder, checkInvariants, INVARIANTS, type AuditedEvent, type Snapshot } from '../../drill/invariants';
import type { ApprovalRequest, RequestState } from '../../src/core/request';

// The drill's checker, handed fabricated worlds: a clean one passes, and each kind of damage the
// drill exists to find is reported under its own invariant.

const MATERIAL_A = 'a'.repeat(43);
const MATERIAL_B = 'b'.repeat(43);

function request(
  id: string,
  state: RequestState,
  operation: ApprovalRequest['operation'] = { action: 'create', workspace: 'default', name: 'Drill 1', platforms: ['web'] },
): ApprovalRequest {
  return {
    id,
    operation,
    fingerprint: 'abcd-0123',
    requester: 'U0ALICE',
    teamId: 'T0DRILL',
    channel: 'C0DRILL',
    reason: '',
    state,
    approvals: ['U0BOB', 'U0CAROL'],
    approvalsRequired: 2,
    createdAt: 1,
    expiresAt: 2,
    updatedAt: 1,
    card: { channel: 'C0DRILL', ts: '1.000100' },
    impact: [],
    progress: {},
  };
}

const REPLIES = {
  requested: '`default` · :memo: <@U0ALICE> requested to create …',
  approved: '`default` · :white_check_mark: Approved by <@U0BOB> (1/2).',
  executing: '`default` · :gear: Executing…',
  created: '`default` · :key: Created Intercom secret `101`.',
  succeeded: '`default` · :tada: *Succeeded*.',
  orphan: "`default` · :rotating_light: *ORPHAN:* Intercom secret `101` carries this request's id but Vault holds no material for it.",
};

/** Audit entries of these types, 5 s apart. */
function events(...types: string[]): AuditedEvent[] {
  return types.map((type, i) => ({ type, at: 1_000_000 + i * 5_000 }));
}

/** One seeded secret (100, web) and one request R-AAAAAA that created secret 101 (web, newer), all in order. */
function cleanWorld(): Snapshot {
  return {
    intercom: [
      { id: '100', name: 'Production Web', platforms: ['web'], createdAt: 1_000, material: MATERIAL_A, deleted: false },
      { id: '101', name: 'Drill 1 [R-AAAAAA]', platforms: ['web'], createdAt: 2_000, material: MATERIAL_B, deleted: false },
    ],
    seededIds: new Set(['100']),
    vaultSecrets: new Map([
      ['100', { material: MATERIAL_A, deleted: false }],
      ['101', { material: MATERIAL_B, deleted: false }],
    ]),
    vaultCurrent: { web: { id: '101', material: MATERIAL_B }, ios: null, android: null },
    requests: [{ request: request('R-AAAAAA', 'succeeded'), leaseOwner: undefined }],
    leases: [],
    outboxDue: 0,
    chain: { ok: true },
    audit: new Map([['R-AAAAAA', events('requested', 'approved', 'approved', 'executing', 'created', 'succeeded')]]),
    threads: new Map([['R-AAAAAA', [REPLIES.requested, REPLIES.approved, REPLIES.approved, REPLIES.executing, REPLIES.created, REPLIES.succeeded]]]),
    materials: [MATERIAL_A, MATERIAL_B],
    haystacks: { 'replica A logs': '{"msg":"created","intercomId":"101"}', Redis: 'ivs:req:R-AAAAAA' },
  };
}

/** The violations of the one invariant numbered `n` (1-based), and that every other one is clean. */
function only(s: Snapshot, n: number): readonly string[] {
  const all = checkInvariants(s);
  for (const [i, list] of all.entries()) if (i !== n - 1) expect(list, INVARIANTS[i]).toEqual([]);
  return all[n - 1] ?? [];
}

describe('the drill checker', () => {
  it('finds nothing wrong in a clean world', () => {
    expect(checkInvariants(cleanWorld()).flat()).toEqual([]);
  });

  it('reports a request that caused two Intercom creates', () => {
    const s = cleanWorld();
    const twice: Snapshot = {
      ...s,
      intercom: [...s.intercom, { id: '102', name: 'Drill 1 [R-AAAAAA]', platforms: ['web'], createdAt: 2_000, material: 'c'.repeat(43), deleted: true }],
    };
    expect(only(twice, 1)).toEqual(['R-AAAAAA caused 2 Intercom creates (101, 102)']);
  });

  it('reports a create no request explains', () => {
    const s = cleanWorld();
    const stray: Snapshot = {
      ...s,
      intercom: [...s.intercom, { id: '103', name: 'Drill 9 [R-ZZZZZZ]', platforms: ['ios'], createdAt: 3_000, material: 'd'.repeat(43), deleted: true }],
    };
    expect(only(stray, 1)).toEqual(['Intercom secret 103 names R-ZZZZZZ, which Redis does not know']);
  });

  it('reports an active created secret whose material is missing from Vault', () => {
    const s = cleanWorld();
    const vaultSecrets = new Map(s.vaultSecrets);
    vaultSecrets.delete('101');
    // current/web then cannot name 101 either: the seeded 100 is the newest with material.
    const missing: Snapshot = { ...s, vaultSecrets, vaultCurrent: { ...s.vaultCurrent, web: { id: '100', material: MATERIAL_A } } };
    expect(only(missing, 2)).toEqual(['active Intercom secret 101 (R-AAAAAA): no Vault entry, and no open orphan delete nor a thread saying so']);
  });

  it('accepts a missing material when an orphan delete is open and the thread says so (only invariant 4 then objects)', () => {
    const s = cleanWorld();
    const vaultSecrets = new Map(s.vaultSecrets);
    vaultSecrets.delete('101');
    const orphanDelete = request('R-BBBBBB', 'pending', {
      action: 'delete',
      workspace: 'default',
      secretId: '101',
      secretName: 'Drill 1',
      platforms: ['web'],
      force: true,
    });
    const orphan: Snapshot = {
      ...s,
      vaultSecrets,
      vaultCurrent: { ...s.vaultCurrent, web: { id: '100', material: MATERIAL_A } },
      requests: [...s.requests, { request: orphanDelete, leaseOwner: undefined }],
      audit: new Map([...s.audit, ['R-BBBBBB', events('requested')], ['R-AAAAAA', [...(s.audit.get('R-AAAAAA') ?? []), { type: 'orphan', at: 1_030_000 }]]]),
      threads: new Map([...s.threads, ['R-BBBBBB', [REPLIES.requested]], ['R-AAAAAA', [...(s.threads.get('R-AAAAAA') ?? []), REPLIES.orphan]]]),
    };
    expect(only(orphan, 4)).toEqual(['R-BBBBBB (delete) is pending']);
  });

  it('reports material in Vault that is not what Intercom minted', () => {
    const s = cleanWorld();
    const other: Snapshot = {
      ...s,
      vaultSecrets: new Map([...s.vaultSecrets, ['101', { material: 'e'.repeat(43), deleted: false }]]),
      vaultCurrent: { ...s.vaultCurrent, web: { id: '100', material: MATERIAL_A } },
    };
    expect(only(other, 2)).toEqual(['active Intercom secret 101 (R-AAAAAA): Vault holds other material, and no open orphan delete nor a thread saying so']);
  });

  it('reports a current/<platform> that hands out an older secret, or nothing', () => {
    const s = cleanWorld();
    expect(only({ ...s, vaultCurrent: { ...s.vaultCurrent, web: { id: '100', material: MATERIAL_A } } }, 3)).toEqual([
      'current/web hands out 100, not the newest active one with material, 101',
    ]);
    expect(only({ ...s, vaultCurrent: { ...s.vaultCurrent, web: null } }, 3)).toEqual([
      'current/web is empty, but 101 is the newest active web secret with material',
    ]);
    expect(only({ ...s, vaultCurrent: { ...s.vaultCurrent, ios: { id: '100', material: MATERIAL_A } } }, 3)).toEqual([
      'current/ios hands out 100, but no active ios secret has material',
    ]);
  });

  it('reports a request left executing with its lease', () => {
    const s = cleanWorld();
    const stuck: Snapshot = { ...s, requests: [{ request: request('R-AAAAAA', 'executing'), leaseOwner: '4242-abc' }], leases: ['R-AAAAAA'] };
    expect(only(stuck, 4)).toEqual(['R-AAAAAA (create) is executing', 'R-AAAAAA still names lease owner 4242-abc', 'lease set still holds R-AAAAAA']);
  });

  it('reports a thread that misses an event, tells one twice, or a broken chain', () => {
    const s = cleanWorld();
    const thread = s.threads.get('R-AAAAAA') ?? [];
    expect(only({ ...s, threads: new Map([['R-AAAAAA', thread.filter((t) => t !== REPLIES.created)]]) }, 5)).toEqual([
      'R-AAAAAA: the thread misses created: thread tells [requested, approved, approved, executing, succeeded], audit has [requested, approved, approved, executing, created, succeeded]',
    ]);
    expect(only({ ...s, threads: new Map([['R-AAAAAA', [...thread, REPLIES.succeeded]]]) }, 5)).toEqual([
      'R-AAAAAA: a "succeeded" reply the audit stream does not have: thread tells [requested, approved, approved, executing, created, succeeded, succeeded], audit has [requested, approved, approved, executing, created, succeeded]',
    ]);
    expect(only({ ...s, chain: { ok: false, why: 'hash mismatch (at 1-0)' } }, 5)).toEqual(['audit chain does not verify: hash mismatch (at 1-0)']);
    expect(only({ ...s, threads: new Map() }, 5)).toEqual(['R-AAAAAA: no card in the channel']);
  });

  it('reports a final request whose final event is missing from both the stream and the thread', () => {
    const s = cleanWorld();
    const cut = (s.audit.get('R-AAAAAA') ?? []).filter((e) => e.type !== 'succeeded');
    const thread = (s.threads.get('R-AAAAAA') ?? []).filter((t) => t !== REPLIES.succeeded);
    expect(only({ ...s, audit: new Map([['R-AAAAAA', cut]]), threads: new Map([['R-AAAAAA', thread]]) }, 5)).toEqual([
      'R-AAAAAA is succeeded, but the audit stream has no succeeded or abandoned event',
    ]);
  });

  it('reports a thread that tells an event before one that happened earlier', () => {
    const s = cleanWorld();
    const swapped = [REPLIES.requested, REPLIES.approved, REPLIES.approved, REPLIES.created, REPLIES.executing, REPLIES.succeeded];
    expect(only({ ...s, threads: new Map([['R-AAAAAA', swapped]]) }, 5)).toEqual([
      'R-AAAAAA: a "executing" reply out of order: thread tells [requested, approved, approved, created, executing, succeeded], audit has [requested, approved, approved, executing, created, succeeded]',
    ]);
  });

  it('takes events of the same moment in either order, and counts stream entries appended out of their time order as a note', () => {
    const s = cleanWorld();
    // Two approvals on two replicas 15 ms apart, the second appended first, then the execution it caused.
    const raced: AuditedEvent[] = [
      { type: 'requested', at: 1_000_000 },
      { type: 'approved', at: 1_005_015 },
      { type: 'executing', at: 1_005_030 },
      { type: 'approved', at: 1_005_000 },
      { type: 'created', at: 1_006_000 },
      { type: 'succeeded', at: 1_006_100 },
    ];
    const late: AuditedEvent[] = raced.map((e, i) => (i === 3 ? { ...e, at: 1_002_000 } : e));
    expect(checkInvariants({ ...s, audit: new Map([['R-AAAAAA', raced]]) }).flat()).toEqual([]);
    expect(auditOutOfOrder({ audit: new Map([['R-AAAAAA', raced]]) })).toBe(0);
    expect(auditOutOfOrder({ audit: new Map([['R-AAAAAA', late]]) })).toBe(1);
  });

  it('reports material found in a log line, in any of its encodings', () => {
    const s = cleanWorld();
    const hex = Buffer.from(MATERIAL_B, 'base64url').toString('hex');
    expect(only({ ...s, haystacks: { ...s.haystacks, 'replica B logs': `{"msg":"oops","v":"${hex}"}` } }, 6)).toEqual([
      `replica B logs contains ${hex.slice(0, 6)}…`,
    ]);
  });
});
