import type { SecretCatalog } from '../core/catalog';
import type { Intercom } from '../core/ports';

/** What the Slack layer needs of one workspace: where it is served, and what lists and plans read. */
export interface ServedWorkspace {
  readonly name: string;
  readonly channels: readonly string[];
  readonly intercom: Intercom;
  readonly catalog: SecretCatalog;
  readonly approvalsRequired: number;
  readonly minOverlapMs: number;
  /** SPEC §10: secrets older than this are due for rotation (lists and plans mark them); absent: no policy. */
  readonly rotateAfterMs?: number;
}

/**
 * Which workspaces a channel serves (SPEC §9). A channel may serve several; `/ivs` commands there
 * name the workspace as their first word.
 */
export class ServedWorkspaces {
  private readonly byName: ReadonlyMap<string, ServedWorkspace>;

  constructor(readonly all: readonly ServedWorkspace[]) {
    this.byName = new Map(all.map((w) => [w.name, w]));
  }

  get(name: string): ServedWorkspace | undefined {
    return this.byName.get(name);
  }

  /** A typed word as a workspace name (names from IVS_CONFIG are lower case; people may not type them so). */
  resolve(word: string): string | undefined {
    if (this.byName.has(word)) return word;
    const lower = word.toLowerCase();
    return this.all.find((w) => w.name.toLowerCase() === lower)?.name;
  }

  /** The workspaces served in `channel`, in the order of the configuration. */
  in(channel: string | undefined): ServedWorkspace[] {
    return channel === undefined ? [] : this.all.filter((w) => w.channels.includes(channel));
  }

  /** Every channel of every workspace, each once. */
  channels(): string[] {
    return [...new Set(this.all.flatMap((w) => w.channels))];
  }
}

/**
 * The optional workspace word in front of a command (`/ivs eu rotate 102`). A subcommand word always
 * wins (workspace names from IVS_CONFIG cannot be one; IVS_WORKSPACE in the environment could).
 */
export function splitWorkspaceWord(
  text: string,
  resolve: (word: string) => string | undefined,
  isCommand: (word: string) => boolean,
): { workspace?: string; rest: string } {
  const match = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(text);
  const word = match?.[1];
  if (word === undefined || isCommand(word.toLowerCase())) return { rest: text };
  const workspace = resolve(word);
  return workspace === undefined ? { rest: text } : { workspace, rest: match?.[2] ?? '' };
}
