import { createHash } from 'node:crypto';
import type { IntercomDouble } from '../../emulators/intercom';
import type { VaultDouble } from '../../emulators/vault';
import type { AuditLog } from '../../src/core/ports';

/**
 * The other side of the wall: what Intercom, Vault and the audit stream hold. Material never leaves
 * here: Vault entries show the first 8 hex digits of its SHA-256 instead.
 */

export interface Workspace {
  readonly name: string;
  readonly intercom: IntercomDouble;
  /** `<mount>/<prefix>/<workspace>`, where the bot keeps this workspace's material. */
  readonly vaultBase: string;
}

export function fingerprint(material: string): string {
  return createHash('sha256').update(material).digest('hex').slice(0, 8);
}

export function intercomPanel(workspaces: readonly Workspace[]) {
  return {
    workspaces: workspaces.map((w) => ({
      name: w.name,
      secrets: w.intercom.secrets().map((s) => ({
        id: s.id,
        name: s.name,
        platforms: [...s.platforms],
        createdAt: s.createdAt,
        deleted: s.deleted,
        ...(s.deletedAt !== undefined ? { deletedAt: s.deletedAt } : {}),
      })),
    })),
  };
}

export interface VaultEntry {
  path: string;
  workspace?: string;
  /** The part after the workspace: `secrets/104`, `current/web`. */
  key: string;
  version: number;
  versions: Array<{ version: number; deleted: boolean; destroyed: boolean; createdTime: string; deletionTime?: string }>;
  fingerprint?: string;
  intercomId?: string;
  customMetadata: Record<string, string>;
  deleted: boolean;
  changedSeq: number;
}

/** Remembers when each path last changed, in the sandbox's change sequence. */
export class VaultPanel {
  private readonly changed = new Map<string, { stamp: string; seq: number }>();

  constructor(
    private readonly vault: VaultDouble,
    private readonly workspaces: readonly Workspace[],
    private readonly now: () => number,
  ) {}

  entries(seq: number): VaultEntry[] {
    const now = this.now();
    // Workspaces in the file's order (us before eu), paths sorted within each; anything else last.
    const rank = (full: string) => {
      const i = this.workspaces.findIndex((w) => full.startsWith(`${w.vaultBase}/`));
      return i < 0 ? this.workspaces.length : i;
    };
    const paths = [...this.vault.paths()].sort((a, b) => rank(a) - rank(b));
    return paths.flatMap((full): VaultEntry[] => {
      const meta = this.vault.metadata(full);
      if (!meta) return [];
      const mount = full.split('/')[0] ?? 'secret';
      const rest = full.slice(mount.length + 1);
      const workspace = this.workspaces.find((w) => full.startsWith(`${w.vaultBase}/`));
      const versions = Object.entries(meta.versions)
        .map(([n, v]) => {
          const deleted = v.deletion_time !== '' && Date.parse(v.deletion_time) <= now;
          return {
            version: Number(n),
            deleted,
            destroyed: v.destroyed,
            createdTime: v.created_time,
            ...(v.deletion_time !== '' ? { deletionTime: v.deletion_time } : {}),
          };
        })
        .sort((a, b) => a.version - b.version);
      const latest = versions.find((v) => v.version === meta.current_version);
      const data = this.vault.read(full);
      const material = data?.['secret'];
      const intercomId = data?.['intercom_secret_id'];
      const stamp = JSON.stringify([meta.current_version, meta.updated_time, versions.map((v) => [v.deleted, v.destroyed]), meta.custom_metadata]);
      const known = this.changed.get(full);
      if (!known || known.stamp !== stamp) this.changed.set(full, { stamp, seq });
      return [
        {
          path: `${mount}/data/${rest}`,
          ...(workspace ? { workspace: workspace.name } : {}),
          key: workspace ? full.slice(workspace.vaultBase.length + 1) : rest,
          version: meta.current_version,
          versions,
          ...(typeof material === 'string' ? { fingerprint: fingerprint(material) } : {}),
          ...(typeof intercomId === 'string' ? { intercomId } : {}),
          customMetadata: { ...(meta.custom_metadata ?? {}) },
          deleted: !latest || latest.deleted || latest.destroyed,
          changedSeq: this.changed.get(full)?.seq ?? seq,
        },
      ];
    });
  }
}

export interface AuditPanelEntry {
  id: string;
  requestId: string;
  type: string;
  actor?: string;
  at: number;
  hash: string;
  prevHash: string;
  detail?: unknown;
}

type StreamReader = (key: string) => Promise<Array<[string, string[]]>>;

/** The whole stream, and the chain verdict of the bot's own verifier (src/redis/audit-log.ts). */
export async function auditPanel(
  read: StreamReader,
  audit: AuditLog,
  streamKey: string,
): Promise<{ entries: AuditPanelEntry[]; chain: { ok: true } | { ok: false; problem: string } }> {
  const [raw, verdict] = await Promise.all([read(streamKey), audit.history('')]);
  const entries = raw.map(([id, flat]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
    let detail: unknown;
    try {
      detail = JSON.parse(f['detail'] ?? 'null');
    } catch {
      detail = f['detail'];
    }
    return {
      id,
      requestId: f['requestId'] ?? '',
      type: f['type'] ?? '',
      ...(f['actor'] ? { actor: f['actor'] } : {}),
      at: Number(f['at'] ?? 0),
      hash: f['hash'] ?? '',
      prevHash: f['prev'] ?? '',
      detail,
    };
  });
  const chain = verdict.chain.ok ? ({ ok: true } as const) : ({ ok: false, problem: `${verdict.chain.why} (at entry ${verdict.chain.brokenAt})` } as const);
  return { entries, chain };
}
