/**
 * The sandbox page: a Slack-like channel view of the real bot, acted on as one of four people, with
 * "the other side of the wall" (Intercom, Vault, audit, faults) below it. It reads and acts only
 * through the control API (api.ts) and re-reads what it shows whenever the server's `seq` moves
 * (Server-Sent Events at /api/events), so it updates live without reloading.
 *
 * Plain DOM, no framework: the page is a handful of regions, each re-rendered from its JSON only
 * when that JSON changed (so focus and typed text survive updates elsewhere).
 */
import { collectValues, readConfirm, renderBlocks, renderConfirm, renderModal, restoreValues, type ButtonAction, type ConfirmSpec } from '../render/blocks';
import { formatSlackDate, renderMrkdwn, type RenderContext } from '../render/mrkdwn';
import {
  api,
  ApiError,
  type AuditPanel,
  type IntercomPanel,
  type Message,
  type OpenView,
  type SandboxState,
  type Thread,
  type VaultEntry,
  type VaultPanel,
} from './api';

type Tab = 'intercom' | 'vault' | 'audit' | 'faults';

const FAULTS: Record<string, { label: string; detail: string }> = {
  vault_sealed: { label: 'Vault sealed', detail: 'Preflight fails: nothing is created at Intercom.' },
  vault_write_failing: { label: 'Vault writes failing', detail: 'A new secret is rolled back at Intercom.' },
  intercom_429: { label: 'Intercom answers 429', detail: 'Rate limited: waits for X-RateLimit-Reset.' },
  intercom_5xx: { label: 'Intercom answers 5xx', detail: 'A create is reconciled by listing, never retried blindly.' },
  intercom_hang_next_create: { label: 'Intercom never answers the next create', detail: 'The ambiguous create is reconciled by name.' },
  slack_down: { label: 'Slack down', detail: 'The Web API refuses every call for now.' },
  redis_stopped: { label: 'Redis stopped', detail: 'Every replica fails closed until it is back.' },
};

const SKIPS = ['5m', '1h', '1d'];

/** Known user groups when the server does not name them (the sandbox's approvers group). */
const DEFAULT_GROUPS: Array<[string, string]> = [['S0APPROVERS', 'approvers']];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text: string, className: string, onClick: (b: HTMLButtonElement) => void): HTMLButtonElement {
  const b = el('button', className, text);
  b.type = 'button';
  b.addEventListener('click', () => onClick(b));
  return b;
}

function durationText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1000)} s`;
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d} d` : '', h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const FOCUS_KEYS = ['ts', 'fault', 'tab', 'replica', 'person', 'channel', 'secretId', 'path'];

/**
 * Re-renders `region` with `render` and puts the keyboard focus back on the same control (found by
 * its owner's data key and its own text), so live updates never throw a keyboard user out.
 */
function keepFocus(region: HTMLElement, render: () => void): void {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !region.contains(active)) {
    render();
    return;
  }
  let owner: HTMLElement | null = active;
  let key: [string, string] | undefined;
  for (; owner && owner !== region; owner = owner.parentElement) {
    const found = FOCUS_KEYS.find((k) => owner?.dataset[k] !== undefined);
    if (found) {
      key = [found, owner.dataset[found] ?? ''];
      break;
    }
  }
  const tag = active.tagName;
  const text = active.textContent ?? '';
  render();
  if (!key) return;
  const [name, value] = key;
  const attr = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const newOwner = Array.from(region.querySelectorAll<HTMLElement>(`[data-${attr}]`)).find((n) => n.dataset[name] === value);
  if (!newOwner) return;
  const candidates = [newOwner, ...Array.from(newOwner.querySelectorAll<HTMLElement>(tag))].filter((n) => n.tagName === tag);
  (candidates.find((n) => (n.textContent ?? '') === text) ?? candidates[0])?.focus();
}

class SandboxPage {
  private as: string;
  private channel: string;
  private thread: string | undefined;
  private tab: Tab = 'vault';
  private state: SandboxState | undefined;
  private modal: OpenView | null = null;
  private confirmOpen: HTMLElement | undefined;
  private returnFocus: HTMLElement | null = null;
  private readonly seen = new Map<string, string>();
  private vaultSeq = -1;
  private readonly fingerprints = new Map<string, { current: string; was?: string }>();
  private refreshing = false;
  private again = false;
  private live: 'on' | 'off' | 'connecting' = 'connecting';
  private history: string[] = [];
  private historyAt = -1;
  private lastError = '';

  private readonly root: HTMLElement;
  private readonly asSelect = el('select');
  private readonly clock = el('span', 'clock');
  private readonly liveDot = el('span', 'live', 'connecting');
  private readonly banners = el('div', 'banners');
  private readonly main = el('div', 'main');
  private readonly sidebar = el('nav', 'sidebar');
  private readonly channelPane = el('section', 'pane channel');
  private readonly channelHead = el('div', 'pane-head');
  private readonly channelMessages = el('div', 'messages');
  private readonly threadPane = el('aside', 'pane thread');
  private readonly composerInput = el('input');
  private readonly composerStatus = el('div', 'status');
  private readonly composerAs = el('span', 'as');
  private readonly wall = el('section', 'wall');
  private readonly wallTabs = el('div', 'wall-head');
  private readonly wallBody = el('div', 'wall-body');
  private readonly overlay = el('div', 'overlay');
  private readonly toast = el('div', 'toast');

  constructor(root: HTMLElement) {
    this.root = root;
    const params = new URLSearchParams(location.hash.slice(1));
    this.as = params.get('as') ?? 'alice';
    this.channel = params.get('channel') ?? 'ops';
    this.thread = params.get('thread') ?? undefined;
    const tab = params.get('tab');
    if (tab === 'intercom' || tab === 'vault' || tab === 'audit' || tab === 'faults') this.tab = tab;
    this.layout();
  }

  private ctx(): RenderContext {
    const users = new Map<string, string>();
    for (const p of this.state?.people ?? []) users.set(p.userId, p.name);
    const channels = new Map<string, string>();
    for (const c of this.state?.channels ?? []) channels.set(c.id, c.name);
    const groups = new Map<string, string>(DEFAULT_GROUPS);
    for (const g of this.state?.groups ?? []) groups.set(g.id, (g.handle ?? g.name ?? g.id).replace(/^@/, ''));
    return { users, channels, groups, now: this.state?.clock.now ?? Date.now() };
  }

  // ---------- Layout (built once) ----------

  private layout(): void {
    const top = el('header', 'topbar');
    const brand = el('div', 'brand', 'ivs-bot sandbox');
    brand.append(el('small', undefined, 'everything here is a stand-in · times in UTC'));
    const asLabel = el('label', undefined, 'Act as');
    this.asSelect.id = 'act-as';
    this.asSelect.setAttribute('aria-label', 'Act as');
    this.asSelect.addEventListener('change', () => this.setAs(this.asSelect.value));
    asLabel.append(this.asSelect);
    const skip = el('div', 'skip');
    skip.setAttribute('role', 'group');
    skip.setAttribute('aria-label', 'Skip ahead');
    skip.append(el('span', undefined, '⏩ skip'));
    for (const by of SKIPS) {
      const b = button(`+${by}`, 'skip-button', () => void this.act(() => api.skip(by), `Skipped ${by}.`));
      b.dataset['skip'] = by;
      b.title = `Move the bots' and stand-ins' clocks ${by} ahead`;
      skip.append(b);
    }
    top.append(brand, el('div', 'spacer'), asLabel, skip, this.clock, this.liveDot);

    this.channelPane.append(this.channelHead, this.channelMessages, this.composer());
    this.channelMessages.setAttribute('aria-live', 'polite');
    this.channelMessages.setAttribute('aria-label', 'Messages');
    this.channelMessages.tabIndex = 0;
    this.threadPane.setAttribute('aria-label', 'Thread');
    this.threadPane.hidden = true;
    this.main.append(this.sidebar, this.channelPane, this.threadPane);

    this.wall.setAttribute('aria-label', 'The other side of the wall: what Slack users never see');
    this.wall.append(this.wallTabs, this.wallBody);
    this.overlay.hidden = true;
    this.toast.setAttribute('role', 'status');
    this.root.replaceChildren(top, this.banners, this.main, this.wall, this.overlay, this.toast);

    // Tab stays inside an open dialog, as in Slack.
    this.overlay.addEventListener('keydown', (event) => {
      if (event.key !== 'Tab') return;
      const dialog = Array.from(this.overlay.querySelectorAll<HTMLElement>('.bk-modal')).find((d) => !d.hidden);
      if (!dialog) return;
      const focusable = Array.from(dialog.querySelectorAll<HTMLElement>('button, input, textarea, select, a[href]')).filter((n) => !n.hasAttribute('disabled'));
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (!first || !last) return;
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      if (this.confirmOpen) {
        event.preventDefault();
        this.closeConfirm();
      } else if (this.modal) {
        event.preventDefault();
        void this.act(() => api.close(this.as));
      } else if (this.thread) {
        this.openThread(undefined);
      }
    });
  }

  private composer(): HTMLElement {
    const box = el('div', 'composer');
    const form = el('form');
    this.composerInput.type = 'text';
    this.composerInput.id = 'composer';
    this.composerInput.autocomplete = 'off';
    this.composerInput.spellcheck = false;
    this.composerInput.setAttribute('aria-label', 'Type a command, like /ivs help');
    const send = el('button', 'send', 'Send');
    send.type = 'submit';
    form.append(this.composerInput, send);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    this.composerInput.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowUp' && this.history.length > 0 && (this.composerInput.value === '' || this.historyAt >= 0)) {
        event.preventDefault();
        this.historyAt = Math.min(this.history.length - 1, this.historyAt + 1);
        this.composerInput.value = this.history[this.history.length - 1 - this.historyAt] ?? '';
      } else if (event.key === 'ArrowDown' && this.historyAt >= 0) {
        event.preventDefault();
        this.historyAt -= 1;
        this.composerInput.value = this.historyAt >= 0 ? (this.history[this.history.length - 1 - this.historyAt] ?? '') : '';
      }
    });
    this.composerStatus.setAttribute('role', 'alert');
    box.append(form, this.composerAs, this.composerStatus);
    return box;
  }

  private async send(): Promise<void> {
    const text = this.composerInput.value.trim();
    if (text === '') return;
    this.composerStatus.textContent = '';
    try {
      await api.command(this.as, this.channel, text);
      this.history.push(text);
      this.historyAt = -1;
      this.composerInput.value = '';
    } catch (err) {
      this.composerStatus.textContent = err instanceof Error ? err.message : 'The command could not be sent.';
    }
    void this.refresh();
  }

  // ---------- Navigation ----------

  private saveHash(): void {
    const p = new URLSearchParams({ as: this.as, channel: this.channel, tab: this.tab });
    if (this.thread) p.set('thread', this.thread);
    history.replaceState(null, '', `#${p.toString()}`);
  }

  private setAs(name: string): void {
    if (name === this.as) return;
    this.as = name;
    this.asSelect.value = name;
    this.saveHash();
    this.showToast(`Acting as ${name}`);
    void this.refresh();
  }

  private setChannel(name: string): void {
    this.channel = name;
    this.thread = undefined;
    this.saveHash();
    void this.refresh();
  }

  private openThread(ts: string | undefined): void {
    this.thread = ts;
    this.saveHash();
    if (!ts) {
      this.renderThread(undefined);
      this.channelPane.querySelector<HTMLElement>('.replies')?.focus();
    }
    void this.refresh().then(() => {
      if (ts) this.threadPane.querySelector<HTMLElement>('.close')?.focus();
    });
  }

  // ---------- Data ----------

  start(): void {
    this.saveHash();
    void this.refresh();
    this.listen();
  }

  private listen(): void {
    const source = new EventSource('/api/events');
    let lastSeq = -1;
    source.onopen = () => this.setLive('on');
    source.onmessage = (event) => {
      this.setLive('on');
      try {
        const seq = (JSON.parse(String(event.data)) as { seq?: unknown }).seq;
        if (typeof seq === 'number' && seq !== lastSeq) {
          lastSeq = seq;
          void this.refresh();
        }
      } catch {
        // not ours
      }
    };
    source.onerror = () => this.setLive('off'); // EventSource reconnects by itself
  }

  private setLive(live: 'on' | 'off' | 'connecting'): void {
    if (this.live === live) return;
    this.live = live;
    this.liveDot.className = `live ${live}`;
    this.liveDot.textContent = live === 'on' ? 'live' : live === 'off' ? 'reconnecting…' : 'connecting';
    this.renderBanners();
  }

  /** Re-reads everything shown; calls that arrive while one runs fold into one more. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.again = false;
        await this.load();
      } while (this.again);
    } finally {
      this.refreshing = false;
      document.body.dataset['seq'] = String(this.state?.seq ?? '');
    }
  }

  private async load(): Promise<void> {
    const as = this.as;
    const channel = this.channel;
    const thread = this.thread;
    try {
      const [state, messages, threadData, modal, intercom, vault, audit] = await Promise.all([
        api.state(),
        api.messages(channel, as),
        thread
          ? api.thread(channel, thread, as).catch((err: unknown) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err)))
          : Promise.resolve(undefined),
        api.modal(as),
        api.intercom(),
        api.vault(),
        api.audit(),
      ]);
      this.lastError = '';
      this.state = state;
      if (this.changed('state', state)) this.renderChrome();
      if (this.changed('messages', [as, channel, messages.messages])) this.renderMessages(messages.messages);
      if (threadData === null && this.thread === thread) this.thread = undefined;
      if (this.changed('thread', [as, threadData ?? null])) this.renderThread(threadData ?? undefined);
      if (this.changed('modal', modal.view)) this.renderModalView(modal.view);
      if (this.changed('wall', [this.tab, intercom, vault, audit, state.faults])) this.renderWall(intercom, vault, audit);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : 'The sandbox did not answer.';
      this.renderBanners();
    }
  }

  /** True when `value` differs from what region `key` shows now (and remembers it). */
  private changed(key: string, value: unknown): boolean {
    const json = JSON.stringify(value);
    if (this.seen.get(key) === json) return false;
    this.seen.set(key, json);
    return true;
  }

  private async act(what: () => Promise<unknown>, done?: string): Promise<boolean> {
    try {
      await what();
      if (done) this.showToast(done);
      return true;
    } catch (err) {
      this.showToast(err instanceof Error ? err.message : 'That did not work.');
      return false;
    } finally {
      void this.refresh();
    }
  }

  private toastTimer: ReturnType<typeof setTimeout> | undefined;
  private showToast(text: string): void {
    this.toast.textContent = text;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      this.toast.textContent = '';
    }, 3500);
  }

  // ---------- Top bar, banners, sidebar ----------

  private renderChrome(): void {
    const state = this.state;
    if (!state) return;
    this.asSelect.replaceChildren(
      ...state.people.map((p) => {
        const o = el('option', undefined, `${p.name} — ${p.title}`);
        o.value = p.name;
        o.selected = p.name === this.as;
        return o;
      }),
    );
    this.clock.textContent = formatSlackDate('{date_short} {time}', state.clock.now, state.clock.now) + ' UTC';
    this.clock.title = 'The sandbox clock (the bots and the stand-ins use it)';
    this.renderBanners();
    this.renderSidebar();
    this.renderChannelHead();
    const person = state.people.find((p) => p.name === this.as);
    this.composerAs.textContent = person ? `You are ${person.name} (${person.title}). Enter sends; ↑ recalls.` : '';
    this.composerInput.placeholder = `/ivs … in #${this.channel} as ${this.as}  (try /ivs help)`;
  }

  private renderBanners(): void {
    const out: HTMLElement[] = [];
    const state = this.state;
    if (state && state.clock.skippedMs > 0) {
      const b = el('div', 'banner time');
      b.dataset['banner'] = 'time';
      b.append('⏩ ', el('strong', undefined, `+${durationText(state.clock.skippedMs)} skipped`), ': the sandbox clock runs ahead of real time.');
      out.push(b);
    }
    const on = state ? Object.entries(state.faults).filter(([, v]) => v) : [];
    if (on.length > 0) {
      const b = el('div', 'banner fault');
      b.dataset['banner'] = 'fault';
      b.append('⚠️ Fault on: ', on.map(([k]) => FAULTS[k]?.label ?? k).join(' · '));
      out.push(b);
    }
    const dead = state?.replicas.filter((r) => !r.alive) ?? [];
    if (dead.length > 0) {
      const b = el('div', 'banner replica');
      b.dataset['banner'] = 'replica';
      b.textContent = `Replica ${dead.map((r) => r.name).join(' and ')} ${dead.length === 1 ? 'is' : 'are'} down.`;
      out.push(b);
    }
    if (this.lastError) {
      out.push(el('div', 'banner error', `The sandbox did not answer: ${this.lastError}`));
    } else if (this.live === 'off') {
      out.push(el('div', 'banner error', 'Live updates lost; reconnecting…'));
    }
    this.banners.replaceChildren(...out);
  }

  private renderSidebar(): void {
    const state = this.state;
    if (!state) return;
    const items: HTMLElement[] = [el('h2', undefined, 'Channels')];
    if (state.workspaces.length > 1) items.push(el('div', 'note workspaces', `Intercom workspaces: ${state.workspaces.join(', ')}`));
    for (const c of state.channels) {
      const b = button('', 'side-item', () => this.setChannel(c.name));
      b.dataset['channel'] = c.name;
      b.append(el('span', 'hash', '#'), el('span', undefined, c.name));
      if (!c.allowed) b.append(el('span', 'note', 'bot not allowed'));
      else if (c.workspace) b.append(el('span', 'note', c.workspace));
      b.setAttribute('aria-current', String(c.name === this.channel));
      items.push(b);
    }
    items.push(el('h2', undefined, 'People'));
    for (const p of state.people) {
      const b = button('', 'side-item person', () => this.setAs(p.name));
      b.dataset['person'] = p.name;
      b.append(el('span', 'dot'), el('span', undefined, p.name), el('span', 'role', p.title));
      b.setAttribute('aria-current', String(p.name === this.as));
      b.title = `Act as ${p.name}`;
      items.push(b);
    }
    items.push(el('h2', undefined, 'Bot replicas'));
    for (const r of state.replicas) {
      const row = el('div', `replica ${r.alive ? 'alive' : 'dead'}`);
      row.dataset['replica'] = r.name;
      const label = el('span', 'state', `${r.name} ${r.alive ? 'running' : 'down'}`);
      if (r.pid) label.append(el('span', 'pid', ` pid ${r.pid}`));
      if (r.alive && r.executing && r.executing.length > 0) label.append(el('span', 'executing', `executing ${r.executing.join(', ')}`));
      const action = r.alive
        ? button('Kill', 'kill', () => void this.act(() => api.replica(r.name, 'kill'), `Replica ${r.name} killed (SIGKILL).`))
        : button('Restart', 'restart', () => void this.act(() => api.replica(r.name, 'restart'), `Replica ${r.name} restarting.`));
      action.setAttribute('aria-label', `${r.alive ? 'Kill' : 'Restart'} replica ${r.name}`);
      row.append(label, action);
      items.push(row);
    }
    keepFocus(this.sidebar, () => this.sidebar.replaceChildren(...items));
  }

  private renderChannelHead(): void {
    const c = this.state?.channels.find((x) => x.name === this.channel);
    const title = el('h1', undefined, `# ${this.channel}`);
    const sub = el(
      'span',
      'sub',
      c
        ? c.allowed
          ? `ivs-bot works here${c.workspace ? ` · Intercom workspace ${c.workspace}` : ''}`
          : 'not in IVS_CHANNELS: the bot answers only you, and refuses'
        : '',
    );
    this.channelHead.replaceChildren(title, sub);
  }

  // ---------- Messages ----------

  private renderMessages(messages: readonly Message[]): void {
    const box = this.channelMessages;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40 || box.childElementCount === 0;
    const nodes = messages.map((m) => this.renderMessage(m, { inThread: false }));
    if (nodes.length === 0) nodes.push(el('div', 'empty', `Nothing in #${this.channel} yet. Type /ivs help below.`));
    keepFocus(box, () => box.replaceChildren(...nodes));
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  private renderMessage(m: Message, where: { inThread: boolean }): HTMLElement {
    const ctx = this.ctx();
    const row = el('div', 'msg');
    row.dataset['ts'] = m.ts;
    if (m.ephemeral) row.classList.add('ephemeral');
    if (m.isCommand) row.classList.add('command');
    if (m.isBot) row.classList.add('bot');
    if (this.thread === m.ts && !where.inThread) row.classList.add('highlight');
    if (m.ephemeral) {
      const only = el('div', 'only-you', 'Only visible to you');
      row.append(el('span'), only);
    }
    const avatar = el(
      'div',
      `avatar ${m.isBot ? 'bot' : `u-${['alice', 'bob', 'carol', 'mallory'].includes(m.userName) ? m.userName : 'other'}`}`,
      m.isBot ? 'IVS' : (m.userName[0] ?? '?').toUpperCase(),
    );
    avatar.setAttribute('aria-hidden', 'true');
    const body = el('div', 'msg-body');
    const head = el('div', 'msg-head');
    head.append(el('span', 'msg-name', m.userName));
    if (m.isBot) head.append(el('span', 'app-tag', 'APP'));
    // `at` is when the sandbox saw it (its clock); the Slack double's ts is only an ordering key.
    const at = typeof m.at === 'number' ? m.at : Number(m.ts.split('.')[0]) * 1000;
    const time = el('time', 'msg-time', Number.isFinite(at) ? formatSlackDate('{time}', at, ctx.now) : '');
    if (Number.isFinite(at)) {
      time.dateTime = new Date(at).toISOString();
      time.title = utc(at);
    }
    head.append(time);
    if (m.isCommand) head.append(el('span', 'command-tag', 'slash command'));
    if (m.edited) head.append(el('span', 'edited', '(edited)'));
    body.append(head);

    if (m.isCommand) {
      body.append(el('div', 'plain', m.text ?? ''));
    } else if (Array.isArray(m.blocks) && m.blocks.length > 0) {
      body.append(renderBlocks(m.blocks, ctx, { onButton: (action, b) => void this.press(m, action, b) }));
    } else if (m.text !== undefined) {
      const text = el('div', 'mrkdwn');
      text.append(renderMrkdwn(m.text, ctx));
      body.append(text);
    }
    if (!where.inThread && m.replyCount > 0) {
      const replies = button('', 'replies', () => this.openThread(this.thread === m.ts ? undefined : m.ts));
      replies.setAttribute('aria-expanded', String(this.thread === m.ts));
      replies.append(el('span', undefined, `${m.replyCount} ${m.replyCount === 1 ? 'reply' : 'replies'}`));
      replies.append(el('span', 'last', this.thread === m.ts ? 'Hide thread' : 'View thread'));
      body.append(replies);
    }
    row.append(avatar, body);
    return row;
  }

  private renderThread(thread: Thread | undefined): void {
    this.main.classList.toggle('with-thread', thread !== undefined);
    this.threadPane.hidden = thread === undefined;
    for (const r of Array.from(this.channelMessages.querySelectorAll<HTMLElement>('.msg'))) r.classList.toggle('highlight', r.dataset['ts'] === this.thread);
    for (const r of Array.from(this.channelMessages.querySelectorAll<HTMLElement>('.replies'))) {
      r.setAttribute('aria-expanded', String(r.closest<HTMLElement>('.msg')?.dataset['ts'] === this.thread));
    }
    if (!thread) {
      this.threadPane.replaceChildren();
      return;
    }
    const head = el('div', 'pane-head');
    head.append(el('h1', undefined, 'Thread'), el('span', 'sub', `# ${this.channel}`));
    const close = button('×', 'close', () => this.openThread(undefined));
    close.setAttribute('aria-label', 'Close the thread');
    head.append(close);
    const list = el('div', 'messages');
    list.setAttribute('aria-live', 'polite');
    list.tabIndex = 0;
    const parent = this.renderMessage(thread.parent, { inThread: true });
    parent.classList.add('thread-parent');
    list.append(parent);
    if (thread.replies.length > 0) list.append(el('div', 'reply-count', `${thread.replies.length} ${thread.replies.length === 1 ? 'reply' : 'replies'}`));
    for (const r of thread.replies) list.append(this.renderMessage(r, { inThread: true }));
    const old = this.threadPane.querySelector('.messages');
    const atBottom = !old || old.scrollHeight - old.scrollTop - old.clientHeight < 40;
    keepFocus(this.threadPane, () => this.threadPane.replaceChildren(head, list));
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // ---------- Buttons, confirm dialogs, modals ----------

  private async press(m: Message, action: ButtonAction, b: HTMLButtonElement): Promise<void> {
    if (action.confirm) {
      this.openConfirm(action.confirm, b, () => void this.click(m, action, b, true));
      return;
    }
    await this.click(m, action, b, false);
  }

  private async click(m: Message, action: ButtonAction, b: HTMLButtonElement, confirmed: boolean): Promise<void> {
    b.disabled = true;
    try {
      await api.click(this.as, this.channel, m.ts, action.text, confirmed);
    } catch (err) {
      // The server knows of a confirm dialog the page did not: show it, then click again.
      if (err instanceof ApiError && err.status === 409 && err.body['confirm']) {
        const spec = readConfirm(err.body['confirm']);
        if (spec) {
          b.disabled = false;
          this.openConfirm(spec, b, () => void this.click(m, action, b, true));
          return;
        }
      }
      this.showToast(err instanceof Error ? err.message : 'The click did not reach the bot.');
    } finally {
      b.disabled = false;
      void this.refresh();
    }
  }

  private openConfirm(spec: ConfirmSpec, from: HTMLElement, onOk: () => void): void {
    this.returnFocus = from;
    const dialog = renderConfirm(spec, this.ctx(), {
      onConfirm: () => {
        this.closeConfirm();
        onOk();
      },
      onDeny: () => this.closeConfirm(),
    });
    this.confirmOpen = dialog;
    this.showOverlay();
    dialog.querySelector<HTMLElement>('.bk-confirm-ok')?.focus();
  }

  private closeConfirm(): void {
    this.confirmOpen = undefined;
    this.showOverlay();
    this.returnFocus?.focus();
  }

  private renderModalView(view: OpenView | null): void {
    const before = this.modal;
    const old = this.overlay.querySelector<HTMLElement>('.bk-modal:not(.bk-confirm)');
    const typed = old && before && view && before.id === view.id ? collectValues(old) : undefined;
    this.modal = view;
    if (view && !before) this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.showOverlay(typed);
    if (!view && before) (this.returnFocus ?? this.composerInput).focus();
  }

  private modalNode: HTMLElement | undefined;

  private showOverlay(typed?: ReturnType<typeof collectValues>): void {
    const view = this.modal;
    const children: HTMLElement[] = [];
    if (view) {
      const sameView = this.modalNode?.dataset['viewJson'] === JSON.stringify(view);
      if (!sameView || !this.modalNode) {
        const node = renderModal(view, this.ctx(), {
          onSubmit: (values) => void this.submit(values),
          onClose: () => void this.act(() => api.close(this.as)),
        });
        node.dataset['viewJson'] = JSON.stringify(view);
        node.dataset['viewId'] = view.id;
        if (typed) restoreValues(node, typed);
        const firstWrong = node.querySelector<HTMLElement>('.bk-has-error input, .bk-has-error textarea, .bk-has-error select');
        this.modalNode = node;
        queueMicrotask(() => (firstWrong ?? node.querySelector<HTMLElement>('input, textarea, select, button'))?.focus());
      }
      children.push(this.modalNode);
    } else {
      this.modalNode = undefined;
    }
    if (this.confirmOpen) children.push(this.confirmOpen);
    this.overlay.replaceChildren(...children);
    this.overlay.hidden = children.length === 0;
    if (view && this.confirmOpen && this.modalNode) this.modalNode.hidden = true;
    else if (this.modalNode) this.modalNode.hidden = false;
  }

  private async submit(values: ReturnType<typeof collectValues>): Promise<void> {
    try {
      const answer = await api.submit(this.as, values);
      if (!answer.ok && answer.errors && this.modalNode && this.modal) {
        // Show the errors at once; the next read of /api/modal carries the same.
        const typed = collectValues(this.modalNode);
        this.modal = { ...this.modal, errors: answer.errors };
        this.modalNode = undefined;
        this.showOverlay(typed);
      }
    } catch (err) {
      this.showToast(err instanceof Error ? err.message : 'The form could not be sent.');
    }
    void this.refresh();
  }

  // ---------- The other side of the wall ----------

  private renderWall(intercom: IntercomPanel, vault: VaultPanel, audit: AuditPanel): void {
    keepFocus(this.wall, () => this.renderWallNow(intercom, vault, audit));
  }

  private renderWallNow(intercom: IntercomPanel, vault: VaultPanel, audit: AuditPanel): void {
    const tabs: Array<[Tab, string, number]> = [
      ['intercom', 'Intercom', 0],
      ['vault', 'Vault', 0],
      ['audit', 'Audit', audit.chain.ok ? 0 : 1],
      ['faults', 'Faults', Object.values(this.state?.faults ?? {}).filter(Boolean).length],
    ];
    const head: HTMLElement[] = [el('span', 'wall-title', 'Other side of the wall')];
    const tablist = el('div');
    tablist.setAttribute('role', 'tablist');
    tablist.setAttribute('aria-label', 'What Slack users never see');
    for (const [id, label, badge] of tabs) {
      const t = button(label, 'tab', () => {
        this.tab = id;
        this.saveHash();
        this.seen.delete('wall');
        void this.refresh();
      });
      t.setAttribute('role', 'tab');
      t.id = `tab-${id}`;
      t.dataset['tab'] = id;
      t.setAttribute('aria-selected', String(this.tab === id));
      t.setAttribute('aria-controls', 'wall-panel');
      t.addEventListener('keydown', (event) => {
        const order = tabs.map((x) => x[0]);
        const i = order.indexOf(id);
        const next =
          event.key === 'ArrowRight' ? order[(i + 1) % order.length] : event.key === 'ArrowLeft' ? order[(i + order.length - 1) % order.length] : undefined;
        if (next) {
          event.preventDefault();
          this.tab = next;
          this.saveHash();
          this.seen.delete('wall');
          void this.refresh().then(() => document.getElementById(`tab-${next}`)?.focus());
        }
      });
      if (badge > 0) t.append(el('span', 'badge', String(badge)));
      tablist.append(t);
    }
    head.push(tablist, el('span', 'wall-note', 'Material never leaves the server: fingerprints are the first 8 hex of its SHA-256.'));
    this.wallTabs.replaceChildren(...head);
    this.wallBody.id = 'wall-panel';
    this.wallBody.setAttribute('role', 'tabpanel');
    this.wallBody.setAttribute('aria-labelledby', `tab-${this.tab}`);
    this.wallBody.dataset['panel'] = this.tab;

    // Fingerprint history and change marks are kept even while another tab shows.
    const changedPaths = this.trackVault(vault);
    switch (this.tab) {
      case 'intercom':
        this.wallBody.replaceChildren(...this.intercomPanel(intercom));
        break;
      case 'vault':
        this.wallBody.replaceChildren(...this.vaultPanel(vault, changedPaths));
        break;
      case 'audit':
        this.wallBody.replaceChildren(...this.auditPanel(audit));
        break;
      case 'faults':
        this.wallBody.replaceChildren(this.faultsPanel());
        break;
    }
  }

  private trackVault(vault: VaultPanel): Set<string> {
    const changed = new Set<string>();
    const first = this.vaultSeq < 0;
    let maxSeq = this.vaultSeq;
    for (const e of vault.entries) {
      const fp = e.fingerprint ?? '';
      const known = this.fingerprints.get(e.path);
      if (!known) this.fingerprints.set(e.path, { current: fp });
      else if (known.current !== fp) this.fingerprints.set(e.path, { current: fp, was: known.current });
      const seq = e.changedSeq ?? 0;
      if (!first && seq > this.vaultSeq) changed.add(e.path);
      if (!first && !known) changed.add(e.path);
      maxSeq = Math.max(maxSeq, seq);
    }
    this.vaultSeq = Math.max(maxSeq, 0);
    return changed;
  }

  /** Intercom rows already shown (undefined before the first render, so nothing flashes on load). */
  private intercomSeen: Set<string> | undefined;

  private intercomPanel(panel: IntercomPanel): HTMLElement[] {
    const out: HTMLElement[] = [];
    const seen = new Set<string>();
    for (const ws of panel.workspaces) {
      const h = el('h3', undefined, 'Intercom · workspace ');
      h.append(el('code', undefined, ws.name), ` · ${ws.secrets.filter((s) => s.deletedAt === undefined).length} active`);
      out.push(h);
      const table = this.table(['id', 'name', 'platforms', 'created', 'state']);
      const body = table.tBodies[0] as HTMLTableSectionElement;
      const newestFirst = [...ws.secrets].sort((a, b) => b.createdAt - a.createdAt || Number(b.id) - Number(a.id));
      for (const s of newestFirst) {
        const tr = el('tr');
        tr.dataset['secretId'] = s.id;
        tr.dataset['workspace'] = ws.name;
        const gone = s.deletedAt !== undefined || s.deleted === true;
        if (gone) tr.classList.add('gone');
        const key = `${ws.name}/${s.id}/${gone}`;
        if (this.intercomSeen !== undefined && !this.intercomSeen.has(key)) tr.classList.add('changed');
        seen.add(key);
        tr.append(
          this.cell(s.id, 'mono'),
          this.cell(s.name),
          this.cell(s.platforms.join(', ')),
          this.cell(utc(s.createdAt * 1000)),
          this.cell(gone ? `deleted${s.deletedAt !== undefined ? ` ${utc(s.deletedAt * 1000)}` : ''}` : 'active', 'state'),
        );
        body.append(tr);
      }
      if (ws.secrets.length === 0) body.append(this.emptyRow(5, 'No secrets.'));
      out.push(table);
    }
    this.intercomSeen = seen;
    return out;
  }

  private vaultPanel(panel: VaultPanel, changed: Set<string>): HTMLElement[] {
    const groups = new Map<string, VaultEntry[]>();
    for (const e of panel.entries) {
      const m = /^(.*\/)((?:secrets|current)\/[^/]+)$/.exec(e.path);
      const prefix = m?.[1] ?? '';
      const list = groups.get(prefix) ?? [];
      list.push(e);
      groups.set(prefix, list);
    }
    const out: HTMLElement[] = [];
    if (panel.entries.length === 0) out.push(el('div', 'empty', 'Vault holds nothing under the prefix yet.'));
    for (const [prefix, entries] of groups) {
      const h = el('h3', undefined, 'Vault KV v2 · ');
      h.append(el('code', undefined, prefix));
      out.push(h);
      const table = this.table(['path', 'version', 'fingerprint', 'intercom id', 'versions', 'metadata', 'state']);
      const body = table.tBodies[0] as HTMLTableSectionElement;
      const sorted = [...entries].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
      for (const e of sorted) {
        const rel = e.path.slice(prefix.length);
        const tr = el('tr');
        tr.dataset['path'] = rel;
        if (e.workspace) tr.dataset['workspace'] = e.workspace;
        if (e.deleted) tr.classList.add('gone');
        if (changed.has(e.path)) tr.classList.add('changed');
        const fpCell = el('td');
        if (e.fingerprint) fpCell.append(el('span', 'fp', e.fingerprint));
        else fpCell.append('—');
        const was = this.fingerprints.get(e.path)?.was;
        if (was && was !== e.fingerprint) fpCell.append(el('span', 'was', `was ${was}`));
        const versions = e.versions.map((v) => `v${v.version}${v.destroyed ? ' destroyed' : v.deleted ? ' deleted' : ''}`).join(', ');
        const meta = el('td');
        const kv = el('div', 'kv');
        for (const [k, v] of Object.entries(e.customMetadata ?? {})) kv.append(el('span', undefined, `${k}=${String(v)}`));
        meta.append(kv);
        tr.append(
          this.cell(rel, 'mono'),
          this.cell(`v${e.version}`),
          fpCell,
          this.cell(e.intercomId ?? '—', 'mono'),
          this.cell(versions),
          meta,
          this.cell(e.deleted ? 'deleted' : 'live', 'state'),
        );
        body.append(tr);
      }
      out.push(table);
    }
    return out;
  }

  private auditPanel(panel: AuditPanel): HTMLElement[] {
    const chain = panel.chain.ok
      ? el('div', 'chain ok', `✓ Hash chain verified (${panel.entries.length} entries)`)
      : el('div', 'chain broken', `✗ Hash chain BROKEN${'problem' in panel.chain && panel.chain.problem ? `: ${panel.chain.problem}` : ''}`);
    chain.dataset['chain'] = panel.chain.ok ? 'ok' : 'broken';
    const table = this.table(['at', 'request', 'event', 'actor', 'detail', 'hash', 'prev']);
    const body = table.tBodies[0] as HTMLTableSectionElement;
    const names = this.ctx().users;
    for (const e of [...panel.entries].reverse()) {
      const tr = el('tr');
      tr.append(
        this.cell(utc(e.at)),
        this.cell(e.requestId, 'mono'),
        this.cell(e.type),
        this.cell(e.actor ? (names.get(e.actor) ?? e.actor) : 'bot'),
        this.cell(detailText(e.detail)),
        this.cell((e.hash ?? '').slice(0, 12), 'mono'),
        this.cell((e.prevHash ?? '').slice(0, 12), 'mono'),
      );
      body.append(tr);
    }
    if (panel.entries.length === 0) body.append(this.emptyRow(7, 'No audit entries yet.'));
    return [chain, table];
  }

  private faultsPanel(): HTMLElement {
    const box = el('div', 'faults');
    const faults = this.state?.faults ?? {};
    for (const [name, on] of Object.entries(faults)) {
      const label = el('label', `fault ${on ? 'on' : ''}`);
      label.dataset['fault'] = name;
      const input = el('input');
      input.type = 'checkbox';
      input.setAttribute('role', 'switch');
      input.checked = on;
      input.addEventListener(
        'change',
        () => void this.act(() => api.fault(name, input.checked), `${FAULTS[name]?.label ?? name}: ${input.checked ? 'on' : 'off'}.`),
      );
      const words = el('span');
      words.append(el('div', 'what', FAULTS[name]?.label ?? name), el('div', 'detail', FAULTS[name]?.detail ?? name));
      label.append(input, words);
      box.append(label);
    }
    return box;
  }

  private table(headers: string[]): HTMLTableElement {
    const table = el('table', 'data');
    const head = el('thead');
    const tr = el('tr');
    for (const h of headers) tr.append(el('th', undefined, h));
    head.append(tr);
    table.append(head, el('tbody'));
    return table;
  }

  private cell(text: string, className?: string): HTMLTableCellElement {
    return el('td', className, text);
  }

  private emptyRow(span: number, text: string): HTMLTableRowElement {
    const tr = el('tr');
    const td = el('td', undefined, text);
    td.colSpan = span;
    tr.append(td);
    return tr;
  }
}

function detailText(detail: unknown): string {
  if (typeof detail !== 'object' || detail === null) return '';
  const text = Object.entries(detail as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return text.length > 140 ? `${text.slice(0, 139)}…` : text;
}

/** `current/*` first (what signers read), then `secrets/*`, newest first. */
function rank(path: string): number {
  if (/\/current\/[^/]+$/.test(path)) return 0;
  const id = Number(/\/secrets\/(\d+)$/.exec(path)?.[1]);
  return Number.isFinite(id) ? 1e9 - id : 2e9;
}

export function startSandboxPage(root: HTMLElement): void {
  new SandboxPage(root).start();
}
