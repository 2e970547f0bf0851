/**
 * The sandbox control API as the page uses it (SANDBOX-API.md; README "Sandbox"). The page uses
 * nothing else: what it can do, a test or a demo script can do through the same calls.
 */

export interface Person {
  readonly name: string;
  readonly userId: string;
  readonly title: string;
}

export interface Channel {
  readonly name: string;
  readonly id: string;
  readonly allowed: boolean;
  /** The Intercom workspace `/ivs` serves in this channel. */
  readonly workspace?: string;
}

export interface Replica {
  readonly name: string;
  readonly alive: boolean;
  readonly pid?: number | null;
  /** Request ids whose execution lease this replica holds. */
  readonly executing?: readonly string[];
}

export interface SandboxState {
  readonly people: readonly Person[];
  readonly channels: readonly Channel[];
  readonly workspaces: readonly string[];
  readonly replicas: readonly Replica[];
  readonly faults: Readonly<Record<string, boolean>>;
  readonly clock: { readonly skippedMs: number; readonly now: number };
  readonly seq: number;
  /** Optional: user-group handles by id, when the server tells them. */
  readonly groups?: ReadonlyArray<{ readonly id: string; readonly handle?: string; readonly name?: string }>;
}

export interface Message {
  readonly ts: string;
  readonly user: string;
  readonly userName: string;
  readonly isBot: boolean;
  readonly text?: string;
  readonly blocks?: unknown[];
  readonly ephemeral: boolean;
  readonly edited: boolean;
  readonly replyCount: number;
  readonly lastReplyTs?: string;
  readonly threadTs?: string;
  readonly isCommand?: boolean;
  /** When the sandbox saw it, ms on its clock (added by the server; ts is the Slack double's ordering key). */
  readonly at?: number;
}

export interface Thread {
  readonly parent: Message;
  readonly replies: readonly Message[];
}

export interface OpenView {
  readonly id: string;
  readonly errors?: Record<string, string>;
  readonly [key: string]: unknown;
}

export interface IntercomPanel {
  readonly workspaces: ReadonlyArray<{
    readonly name: string;
    readonly secrets: ReadonlyArray<{
      readonly id: string;
      readonly name: string;
      readonly platforms: readonly string[];
      readonly createdAt: number;
      readonly deletedAt?: number;
      readonly deleted?: boolean;
    }>;
  }>;
}

export interface VaultEntry {
  readonly path: string;
  readonly workspace?: string;
  readonly version: number;
  readonly versions: ReadonlyArray<{ readonly version: number; readonly deleted: boolean; readonly destroyed: boolean; readonly createdTime?: string }>;
  readonly fingerprint?: string | null;
  readonly intercomId?: string | null;
  readonly customMetadata?: Readonly<Record<string, unknown>> | null;
  readonly deleted: boolean;
  readonly changedSeq?: number;
}

export interface VaultPanel {
  readonly entries: readonly VaultEntry[];
}

export interface AuditPanel {
  readonly entries: ReadonlyArray<{
    readonly id: string;
    readonly requestId: string;
    readonly type: string;
    readonly actor?: string;
    readonly at: number;
    readonly hash?: string;
    readonly prevHash?: string;
    readonly detail?: Readonly<Record<string, unknown>>;
  }>;
  readonly chain: { readonly ok: true } | { readonly ok: false; readonly problem?: string };
}

export interface ConfirmFromServer {
  readonly title?: unknown;
  readonly text?: unknown;
  readonly confirm?: unknown;
  readonly deny?: unknown;
}

/** A refusal from the API: its one-sentence `error`, and the rest of its body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' }, cache: 'no-store' };
  if (method === 'POST') {
    // The control API takes only JSON posts (a cross-site form cannot send one), so even an empty one says so.
    init.body = JSON.stringify(body ?? {});
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `The sandbox answered ${res.status} with something that is not JSON.`, {});
  }
  if (!res.ok) {
    const obj = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const error = typeof obj['error'] === 'string' ? obj['error'] : `The sandbox answered ${res.status}.`;
    throw new ApiError(res.status, error, obj);
  }
  return parsed as T;
}

const q = encodeURIComponent;

export const api = {
  state: () => call<SandboxState>('GET', '/api/state'),
  messages: (channel: string, as: string) => call<{ messages: Message[] }>('GET', `/api/channels/${q(channel)}/messages?as=${q(as)}`),
  thread: (channel: string, ts: string, as: string) => call<Thread>('GET', `/api/channels/${q(channel)}/threads/${q(ts)}?as=${q(as)}`),
  modal: (as: string) => call<{ view: OpenView | null }>('GET', `/api/modal?as=${q(as)}`),
  intercom: () => call<IntercomPanel>('GET', '/api/panels/intercom'),
  vault: () => call<VaultPanel>('GET', '/api/panels/vault'),
  audit: () => call<AuditPanel>('GET', '/api/panels/audit'),
  command: (as: string, channel: string, text: string) => call<{ ok: boolean }>('POST', '/api/command', { as, channel, text }),
  click: (as: string, channel: string, ts: string, button: string, confirm: boolean) =>
    call<{ ok: boolean }>('POST', '/api/click', { as, channel, ts, button, confirm }),
  submit: (as: string, values: unknown) => call<{ ok: boolean; errors?: Record<string, string> }>('POST', '/api/modal/submit', { as, values }),
  close: (as: string) => call<unknown>('POST', '/api/modal/close', { as }),
  fault: (name: string, on: boolean) => call<{ faults: Record<string, boolean> }>('POST', '/api/faults', { name, on }),
  skip: (by: string) => call<unknown>('POST', '/api/time/skip', { by }),
  replica: (name: string, what: 'kill' | 'restart') => call<unknown>('POST', `/api/replicas/${q(name)}/${what}`),
};
