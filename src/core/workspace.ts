import type { Policy } from './policy';
import type { Intercom, Log, SecretVault } from './ports';

/**
 * One Intercom workspace as the core sees it (SPEC §9): its own Intercom client (token, rate limit),
 * its own Vault subtree, its own policy and timings. A request belongs to exactly one workspace
 * (`operation.workspace`) and everything done for it uses that workspace's ports and nothing else.
 */
export interface Workspace {
  readonly name: string;
  readonly intercom: Intercom;
  readonly vault: SecretVault;
  /** Who may request and approve here: an approver of another workspace is nobody here. */
  readonly policy: Policy;
  readonly requestTtlMs: number;
  readonly minOverlapMs: number;
  /** Secrets older than this are due for rotation (SPEC §10); absent: no policy. */
  readonly rotateAfterMs?: number;
  /** Log lines about this workspace carry `workspace: <name>`. */
  readonly log: Log;
}

/** The workspaces the bot serves, by name. */
export type Workspaces = ReadonlyMap<string, Workspace>;
