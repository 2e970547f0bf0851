import { IntercomError, VaultError } from '../../src/core/errors';
import type {
  AuditEntry,
  AuditEvent,
  AuditLog,
  CardPosting,
  Directory,
  Intercom,
  Log,
  MaterialStatus,
  Notice,
  Outbox,
  Provenance,
  SecretVault,
  SlackUser,
} from '../../src/core/ports';
import type { ApprovalRequest } from '../../src/core/request';
import { SecretMaterial } from '../../src/core/secret-material';
import type { CreatedSecret, Platform, RequestId, SecretInfo } from '../../src/core/types';
import type { CardPostSink, RecordedCardPost } from './memory-request-store';

/*
 * The core's other ports in memory, for the fast tests of the executor and the workflows. They keep
 * what the HTTP doubles keep (secrets, Vault entries, what was told) and fail on demand the way the
 * adapters report failures (IntercomError, VaultError), so the core decides exactly as in e2e, in
 * microseconds. The doubles themselves are proven against the contracts in test/emulators.
 */

/** A one-shot or lasting fault: what the next call(s) do instead of answering. */
type Fault = () => Promise<never> | never;

/** Intercom's secrets in memory; `faults` say what the next calls do instead. */
export class MemoryIntercom implements Intercom {
  readonly secrets = new Map<string, SecretInfo>();
  /** Every call, in order: `list`, `create <name>`, `delete <id>`. */
  readonly calls: string[] = [];
  private nextId = 200;
  private readonly faults: Record<'list' | 'delete', Fault[]> = { list: [], delete: [] };
  /** Faults of the next creates; `reachesIntercom`: the secret is created all the same (only the answer fails). */
  private readonly createFaults: { fault: Fault; reachesIntercom: boolean }[] = [];
  /** Runs inside the next create, before it answers (a replica stalls there, say). */
  onCreate: (() => Promise<void>) | undefined;

  constructor(initial: readonly SecretInfo[] = []) {
    for (const s of initial) this.secrets.set(s.id, s);
  }

  /** The next `times` calls of `what` fail with `fault` (a create that fails so creates nothing). */
  failNext(what: 'list' | 'create' | 'delete', fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) {
      if (what === 'create') this.createFaults.push({ fault, reachesIntercom: false });
      else this.faults[what].push(fault);
    }
  }

  /** The next create reaches Intercom (the secret exists) but its answer is lost: IntercomError('ambiguous'). */
  loseNextCreateAnswer(): void {
    this.createFaults.push({
      fault: () => {
        throw new IntercomError('ambiguous', 'the answer was lost');
      },
      reachesIntercom: true,
    });
  }

  async listSecrets(): Promise<SecretInfo[]> {
    this.calls.push('list');
    const fault = this.faults.list.shift();
    if (fault) await fault();
    return [...this.secrets.values()];
  }

  async createSecret(input: { name: string; platforms: readonly Platform[] }): Promise<CreatedSecret> {
    this.calls.push(`create ${input.name}`);
    const info: SecretInfo = { id: String(this.nextId++), name: input.name, platforms: [...input.platforms], createdAt: 1_700_000_000 };
    const failure = this.createFaults.shift();
    if (failure) {
      if (failure.reachesIntercom) this.secrets.set(info.id, info);
      await failure.fault();
    }
    await this.onCreate?.();
    this.secrets.set(info.id, info);
    return { ...info, material: SecretMaterial.of(`material-of-${info.id}`) };
  }

  async deleteSecret(id: string): Promise<'deleted' | 'already_gone'> {
    this.calls.push(`delete ${id}`);
    const fault = this.faults.delete.shift();
    if (fault) await fault();
    return this.secrets.delete(id) ? 'deleted' : 'already_gone';
  }
}

export const intercomUnavailable: Fault = () => {
  throw new IntercomError('unavailable', 'Intercom answered 503', { status: 503 });
};

/** Vault's KV layout in memory: `secrets/<id>` entries and `current/<platform>` pointers. */
export class MemoryVault implements SecretVault {
  readonly entries = new Map<string, { status: MaterialStatus; provenance: Provenance }>();
  readonly currents = new Map<Platform, { id: string | null; version: number }>();
  readonly calls: string[] = [];
  private readonly storeFaults: Fault[] = [];
  /** Runs inside the next storeSecret, before the write lands (a replica stalls there, say). */
  onStore: (() => Promise<void>) | undefined;

  /** The next `times` writes of material fail (Vault unreachable). */
  failNextStores(times: number, kind: VaultError['kind'] = 'unreachable'): void {
    for (let i = 0; i < times; i++)
      this.storeFaults.push(() => {
        throw new VaultError(kind, `Vault is ${kind}`);
      });
  }

  /** Vault already holds these secrets' material (written by an earlier create). */
  holdMaterialOf(...ids: string[]): void {
    for (const id of ids)
      this.entries.set(id, { status: 'present', provenance: { requestId: 'R-EARLY0', requester: 'U_REQ', approvers: ['U_APP'], channel: 'C_OPS' } });
  }

  /** Thrown by every preflight while set (a sealed Vault, say). */
  preflightFault: Error | undefined;

  async preflight(): Promise<void> {
    this.calls.push('preflight');
    if (this.preflightFault) throw this.preflightFault;
  }

  async storeSecret(secret: CreatedSecret, provenance: Provenance): Promise<{ path: string; version: number }> {
    this.calls.push(`store ${secret.id}`);
    const fault = this.storeFaults.shift();
    if (fault) await fault();
    await this.onStore?.();
    if (this.entries.get(secret.id)?.status === 'present') throw new VaultError('conflict', `secrets/${secret.id} already holds data`);
    this.entries.set(secret.id, { status: 'present', provenance });
    return { path: `secrets/${secret.id}`, version: 1 };
  }

  async repointCurrent(platform: Platform, target: SecretInfo | null): Promise<{ path: string; version?: number }> {
    this.calls.push(`repoint ${platform} ${target?.id ?? 'none'}`);
    const version = (this.currents.get(platform)?.version ?? 0) + 1;
    this.currents.set(platform, { id: target?.id ?? null, version });
    return { path: `current/${platform}`, version };
  }

  async currentTarget(platform: Platform): Promise<{ id: string | null; version: number }> {
    return this.currents.get(platform) ?? { id: null, version: 0 };
  }

  async materialStatus(ids: readonly string[]): Promise<Map<string, MaterialStatus>> {
    return new Map(ids.map((id) => [id, this.entries.get(id)?.status ?? 'missing']));
  }

  async markDeleted(id: string): Promise<{ path: string }> {
    this.calls.push(`markDeleted ${id}`);
    const entry = this.entries.get(id);
    if (entry) this.entries.set(id, { ...entry, status: 'deleted' });
    return { path: `secrets/${id}` };
  }

  async readiness(): Promise<{ ok: boolean; detail: string }> {
    return { ok: true, detail: 'in memory' };
  }
}

/** The audit stream in memory (no hash chain: the Redis audit log's own tests prove that). */
export class MemoryAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  private held: Promise<void> | undefined;

  /** Appends wait until the returned function is called, as a slow Redis holds them. */
  hold(): () => void {
    let release: () => void = () => undefined;
    this.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.held = undefined;
      release();
    };
  }

  async append(event: AuditEvent): Promise<void> {
    if (this.held) await this.held;
    this.events.push(event);
  }

  /** The event types of a request, in order. */
  typesOf(id: RequestId): string[] {
    return this.events.filter((e) => e.requestId === id).map((e) => e.type);
  }

  async history(id: RequestId): Promise<{ entries: AuditEntry[]; chain: { ok: true } }> {
    const entries = this.events.filter((e) => e.requestId === id).map((e, i) => ({ ...e, entryId: `${i}-0`, prevHash: '', hash: '' }) satisfies AuditEntry);
    return { entries, chain: { ok: true } };
  }
}

/** What the bot would tell Slack, recorded in order (the card posts of create included). */
export type RecordedNotice = { readonly requestId: RequestId; readonly channel: string; readonly notice: Notice } | RecordedCardPost;

export class MemoryOutbox implements Outbox, CardPostSink {
  readonly recorded: RecordedNotice[] = [];

  recordCardPost(post: RecordedCardPost): void {
    this.recorded.push(post);
  }

  async record(request: ApprovalRequest, notices: readonly Notice[]): Promise<void> {
    for (const notice of notices) this.recorded.push({ requestId: request.id, channel: request.channel, notice });
  }

  async cardPosting(): Promise<CardPosting> {
    return { kind: 'posted' };
  }

  /** The thread replies told about a request, as their audit events. */
  repliesOf(id: RequestId): AuditEvent[] {
    return this.recorded.flatMap((r) => ('notice' in r && r.requestId === id && r.notice.kind === 'reply' ? [r.notice.event] : []));
  }
}

/** Everyone is a person of team T1, unless listed in `gone`; groups are empty. */
export class MemoryDirectory implements Directory {
  readonly gone = new Set<string>();
  async user(id: string): Promise<SlackUser | null> {
    return { id, teamId: 'T1', isBot: false, deleted: this.gone.has(id) };
  }
  async groupMembers(): Promise<readonly string[]> {
    return [];
  }
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly obj: object;
}

/** A Log that keeps its lines, so tests can assert on what was said (and that nothing leaked into it). */
export function memoryLog(): Log & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (obj: object, msg = '') =>
      void lines.push({ level, msg, obj });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
