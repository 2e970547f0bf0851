/**
 * The sandbox page's Block Kit and mrkdwn renderer, in a real headless Chromium: one test per block,
 * element and mrkdwn form the bot sends, comparing the DOM it builds; injection attempts stay text;
 * unknown types show as "unsupported …"; and the bot's own views render with no raw markup left.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser, readSandboxCss } from '../../sandbox/web/build/page';
import { KNOWN_EMOJI } from '../../sandbox/web/render/emoji';
import { createRequestModal, rejectReasonModal } from '../../src/slack/views/modals';
import { renderRequestCard } from '../../src/slack/views/request-card';
import { renderSecretList } from '../../src/slack/views/secret-list';
import { renderThreadEvent } from '../../src/slack/views/thread-event';
import { renderUsage } from '../../src/slack/views/usage';
import { renderAuditHistory } from '../../src/slack/views/audit-history';
import { createOp, HOSTILE, HOUR, makeRequest, NOW, rotateOp } from '../slack/views/fixtures';
import { launchBrowser, type Browser } from '../../sandbox/web/build/chromium';
import type { Ivs } from './render-entry';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser({ width: 900, height: 700 });
  page = await browser.context.newPage();
  const [js, css] = await Promise.all([bundleForBrowser(join(__dirname, 'render-entry.ts')), readSandboxCss()]);
  await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body><div id="out"></div></body></html>');
  await page.addStyleTag({ content: css });
  await page.addScriptTag({ content: js });
  await page.evaluate(() => {
    (window as unknown as { pwned: boolean }).pwned = false;
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

interface PlainContext {
  users: Array<[string, string]>;
  channels: Array<[string, string]>;
  groups: Array<[string, string]>;
  now: number;
}

const CONTEXT: PlainContext = {
  users: [
    ['U0ALICE', 'alice'],
    ['U111', 'alice'],
  ],
  channels: [['C0OPS', 'ops']],
  groups: [['S0APPROVERS', 'approvers']],
  now: Date.UTC(2026, 0, 1, 12, 0, 0),
};

/** The HTML the renderer builds for one mrkdwn string. */
async function mrkdwn(text: string): Promise<string> {
  return page.evaluate(
    ({ text, c }) => {
      const ivs = (window as unknown as { ivs: Ivs }).ivs;
      const ctx = { users: new Map(c.users), channels: new Map(c.channels), groups: new Map(c.groups), now: c.now } as never;
      const box = document.createElement('div');
      box.append(ivs.renderMrkdwn(text, ctx));
      return box.innerHTML;
    },
    { text, c: CONTEXT },
  );
}

/** Renders blocks into #out and returns facts about the result via `probe` (a function body over `root`). */
async function blocks<T>(value: unknown, probe: (root: HTMLElement) => T): Promise<T> {
  return page.evaluate(
    ({ value, c, probeSource }) => {
      const ivs = (window as unknown as { ivs: Ivs }).ivs;
      const ctx = { users: new Map(c.users), channels: new Map(c.channels), groups: new Map(c.groups), now: c.now } as never;
      const out = document.getElementById('out') as HTMLElement;
      out.replaceChildren();
      const clicks: unknown[] = [];
      (window as unknown as { clicks: unknown[] }).clicks = clicks;
      out.append(ivs.renderBlocks(value, ctx, { onButton: (action: unknown) => clicks.push(action) }));
      // eslint-disable-next-line no-new-func
      return new Function('root', `return (${probeSource})(root)`)(out) as T;
    },
    { value, c: CONTEXT, probeSource: probe.toString() },
  );
}

async function pwned(): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { pwned: boolean }).pwned);
}

const line = (html: string) => `<span class="mk-line">${html}</span>`;

describe('mrkdwn renders', () => {
  it('bold, italic and strike', async () => {
    expect(await mrkdwn('*bold* _italic_ ~strike~')).toBe(
      line('<strong class="mk-strong">bold</strong> <em class="mk-em">italic</em> <s class="mk-s">strike</s>'),
    );
  });

  it('nested emphasis, and emphasis that spans a mention', async () => {
    expect(await mrkdwn('*bold _and italic_*')).toBe(line('<strong class="mk-strong">bold <em class="mk-em">and italic</em></strong>'));
    expect(await mrkdwn('*<@U0ALICE>*')).toBe(line('<strong class="mk-strong"><span class="mk-mention mk-user" data-user-id="U0ALICE">@alice</span></strong>'));
  });

  it('markers inside words or next to spaces as typed', async () => {
    expect(await mrkdwn('snake_case_name and 2 * 3 * 4 and a*b*c')).toBe(line('snake_case_name and 2 * 3 * 4 and a*b*c'));
  });

  it('inline code, whose insides are not formatted', async () => {
    expect(await mrkdwn('run `/ivs create &lt;web&gt; *x*` now')).toBe(line('run <code class="mk-code">/ivs create &lt;web&gt; *x*</code> now'));
  });

  it('preformatted blocks over several lines', async () => {
    expect(await mrkdwn('before\n```\nline 1\n*line* 2\n```\nafter')).toBe(`${line('before\n')}<pre class="mk-pre">line 1\n*line* 2</pre>${line('\nafter')}`);
  });

  it('quotes: consecutive lines starting with > are one quote; &gt; at the start is text', async () => {
    expect(await mrkdwn('*Reason*\n> old one\n> leaked\n&gt; not a quote')).toBe(
      `${line('<strong class="mk-strong">Reason</strong>')}<blockquote class="mk-quote">old one\nleaked</blockquote>${line('&gt; not a quote')}`,
    );
  });

  it('links with and without a label, opening in a new tab without referrer', async () => {
    expect(await mrkdwn('<https://example.com/a?b=1&amp;c=2|the docs>')).toBe(
      line(
        '<a class="mk-link" href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer" title="https://example.com/a?b=1&amp;c=2">the docs</a>',
      ),
    );
    expect(await mrkdwn('<https://example.com>')).toContain('>https://example.com</a>');
    expect(await mrkdwn('<mailto:sec@example.com|security>')).toContain('href="mailto:sec@example.com"');
  });

  it('a link to a javascript: or data: URL as text with no href', async () => {
    const html = await mrkdwn('<javascript:window.pwned=true|click me> <data:text/html,hi|data>');
    expect(html).not.toContain('href');
    expect(html).toContain('mk-link-refused');
    expect(html).toContain('>click me</a>');
  });

  it('user, channel and user-group mentions by name', async () => {
    expect(await mrkdwn('<@U0ALICE> <@U0NOBODY> <@W0X|wanda>')).toBe(
      line(
        '<span class="mk-mention mk-user" data-user-id="U0ALICE">@alice</span> <span class="mk-mention mk-user" data-user-id="U0NOBODY">@U0NOBODY</span> <span class="mk-mention mk-user" data-user-id="W0X">@wanda</span>',
      ),
    );
    expect(await mrkdwn('<#C0OPS> <#C0GEN|general>')).toBe(
      line(
        '<span class="mk-mention mk-channel" data-channel-id="C0OPS">#ops</span> <span class="mk-mention mk-channel" data-channel-id="C0GEN">#general</span>',
      ),
    );
    expect(await mrkdwn('<!subteam^S0APPROVERS> <!subteam^S0SRE|@sre>')).toBe(
      line(
        '<span class="mk-mention mk-group" data-group-id="S0APPROVERS">@approvers</span> <span class="mk-mention mk-group" data-group-id="S0SRE">@sre</span>',
      ),
    );
  });

  it('@channel, @here and @everyone as highlighted mentions', async () => {
    expect(await mrkdwn('<!channel> <!here> <!everyone>')).toBe(
      line(
        '<span class="mk-mention mk-broadcast">@channel</span> <span class="mk-mention mk-broadcast">@here</span> <span class="mk-mention mk-broadcast">@everyone</span>',
      ),
    );
  });

  it('dates in UTC relative to the sandbox clock, with the fallback when the timestamp is bad', async () => {
    const noon = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000;
    expect(await mrkdwn(`<!date^${noon}^{date_short_pretty} {time}|2026-01-01 12:00 UTC>`)).toBe(
      line('<time class="mk-date" datetime="2026-01-01T12:00:00.000Z" title="2026-01-01 12:00:00 UTC">Today 12:00 PM</time>'),
    );
    expect(await mrkdwn(`<!date^${noon + 86400 + 65}^{date_short_pretty} {time_secs}|x>`)).toContain('>Tomorrow 12:01:05 PM</time>');
    expect(await mrkdwn(`<!date^${noon - 40 * 86400}^{date_num} · {date} · {date_long} · {ago}|x>`)).toContain(
      '>2025-11-22 · November 22nd, 2025 · Saturday, November 22nd, 2025 · 40 days ago</time>',
    );
    expect(await mrkdwn('<!date^soon^{date}|the fallback &amp; more>')).toBe(line('<time class="mk-date">the fallback &amp; more</time>'));
  });

  it('&amp; &lt; &gt; as the characters, and an escaped <!channel> as text that pings nobody', async () => {
    expect(await mrkdwn('a &amp; b &lt;c&gt; &lt;!channel&gt; &quot;')).toBe(line('a &amp; b &lt;c&gt; &lt;!channel&gt; &amp;quot;'));
  });

  it('emoji shortcodes the bot uses as Unicode, unknown ones as typed', async () => {
    expect(await mrkdwn(':white_check_mark: done :not_an_emoji: 10:02:03')).toBe(
      line('<span class="mk-emoji" title=":white_check_mark:">✅</span> done :not_an_emoji: 10:02:03'),
    );
  });

  it('every emoji shortcode in src/slack/ is in the table', () => {
    const dir = join(__dirname, '../../src/slack');
    const files = [
      ...readdirSync(join(dir, 'views')).map((f) => join(dir, 'views', f)),
      ...readdirSync(join(dir, 'listeners')).map((f) => join(dir, 'listeners', f)),
    ];
    const used = new Set<string>();
    for (const file of files) for (const m of readFileSync(file, 'utf8').matchAll(/:([a-z_]+):/g)) used.add(m[1] as string);
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !KNOWN_EMOJI.includes(name))).toEqual([]);
  });
});

describe('nothing typed becomes markup', () => {
  it('HTML in mrkdwn, in escaped text, in link labels and in code stays text', async () => {
    const html = await mrkdwn(
      '<img src=x onerror="window.pwned=true"> &lt;script&gt;window.pwned=true&lt;/script&gt; <https://ok.example|<b>x</b>> `<img src=y onerror=window.pwned=true>` ```<svg onload="window.pwned=true">```',
    );
    await page.evaluate((h) => {
      (document.getElementById('out') as HTMLElement).innerHTML = h; // re-parse what was built: still inert
    }, html);
    const tags = await page.evaluate(() => Array.from(document.querySelectorAll('#out *')).map((n) => n.tagName.toLowerCase()));
    expect(tags.filter((t) => !['span', 'a', 'code', 'pre'].includes(t))).toEqual([]);
    expect(await pwned()).toBe(false);
  });

  it('HTML in plain text, field, hint, placeholder, option and error stays text', async () => {
    const evil = '<img src=x onerror="window.pwned=true">';
    const found = await page.evaluate((evil) => {
      const ivs = (window as unknown as { ivs: Ivs }).ivs;
      const ctx = { users: new Map(), channels: new Map(), groups: new Map(), now: 0 } as never;
      const t = (text: string) => ({ type: 'plain_text', text });
      const view = {
        type: 'modal',
        title: t(evil),
        submit: t(evil),
        close: t(evil),
        errors: { a: evil, ghost: evil },
        blocks: [
          { type: 'header', text: t(evil) },
          { type: 'section', text: t(evil), fields: [t(evil), { type: 'mrkdwn', text: evil }] },
          { type: 'input', block_id: 'a', label: t(evil), hint: t(evil), element: { type: 'plain_text_input', action_id: 'a', placeholder: t(evil) } },
          { type: 'input', block_id: 'b', label: t(evil), element: { type: 'checkboxes', action_id: 'b', options: [{ text: t(evil), value: evil }] } },
          { type: evil },
        ],
      };
      const out = document.getElementById('out') as HTMLElement;
      out.replaceChildren(ivs.renderModal(view, ctx));
      out.append(ivs.renderConfirm({ title: evil, text: { type: 'mrkdwn', text: evil }, confirm: evil, deny: evil }, ctx, { onConfirm() {}, onDeny() {} }));
      return { imgs: out.querySelectorAll('img').length, text: out.textContent ?? '' };
    }, evil);
    expect(found.imgs).toBe(0);
    expect(found.text).toContain(evil);
    expect(found.text).toContain(`unsupported block: ${evil}`);
    expect(await pwned()).toBe(false);
  });

  it('the page code has no HTML sinks: every text goes in through textContent', () => {
    const root = join(__dirname, '../../sandbox/web');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (entry.name.endsWith('.ts') && !dir.endsWith('build')) files.push(join(dir, entry.name));
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThanOrEqual(5);
    const sinks = files.filter((f) => /\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function/.test(readFileSync(f, 'utf8')));
    expect(sinks).toEqual([]);
  });
});

describe('blocks render', () => {
  it('header: plain text, emoji shortcodes replaced, as a heading', async () => {
    const got = await blocks([{ type: 'header', text: { type: 'plain_text', text: 'R-7F3K2Q · Create :key: &amp;', emoji: true } }], (root) => {
      const h = root.querySelector('.bk-header') as HTMLElement;
      return { text: h.textContent, role: h.getAttribute('role') };
    });
    expect(got).toEqual({ text: 'R-7F3K2Q · Create 🔑 &amp;', role: 'heading' });
  });

  it('section: mrkdwn text, a grid of fields and a button accessory', async () => {
    const got = await blocks(
      [
        {
          type: 'section',
          block_id: 'ivs_summary',
          text: { type: 'mrkdwn', text: '<@U0ALICE> asks to *create*' },
          fields: [
            { type: 'mrkdwn', text: '*Action*\nCreate secret' },
            { type: 'plain_text', text: '*not bold*' },
          ],
          accessory: { type: 'button', action_id: 'more', text: { type: 'plain_text', text: 'More' }, value: 'v' },
        },
      ],
      (root) => ({
        blockId: (root.querySelector('.bk-section') as HTMLElement).dataset['blockId'],
        text: root.querySelector('.bk-section-text')?.innerHTML,
        fields: Array.from(root.querySelectorAll('.bk-field')).map((f) => f.innerHTML),
        accessory: root.querySelector('.bk-accessory button')?.textContent,
      }),
    );
    expect(got).toEqual({
      blockId: 'ivs_summary',
      text: line('<span class="mk-mention mk-user" data-user-id="U0ALICE">@alice</span> asks to <strong class="mk-strong">create</strong>'),
      fields: [line('<strong class="mk-strong">Action</strong>\nCreate secret'), '*not bold*'],
      accessory: 'More',
    });
  });

  it('context: small mrkdwn and plain items; an image element shows as unsupported', async () => {
    const got = await blocks(
      [
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'Intercom workspace `default`' },
            { type: 'plain_text', text: 'plain' },
            { type: 'image', image_url: 'https://x.example/a.png', alt_text: 'a' },
          ],
        },
      ],
      (root) => Array.from(root.querySelectorAll('.bk-context > *')).map((n) => n.textContent),
    );
    expect(got).toEqual(['Intercom workspace default', 'plain', 'unsupported element: image']);
  });

  it('divider as a rule', async () => {
    expect(await blocks([{ type: 'divider' }], (root) => root.innerHTML)).toBe('<div class="bk-blocks"><hr class="bk-divider bk-block"></div>');
  });

  it('actions: buttons with primary, danger and default style; a click reports the button and its confirm dialog', async () => {
    const confirm = {
      title: { type: 'plain_text', text: 'Approve R-1?' },
      text: { type: 'mrkdwn', text: 'You approve: *this*.' },
      confirm: { type: 'plain_text', text: 'Approve' },
      deny: { type: 'plain_text', text: 'Cancel' },
      style: 'danger',
    };
    const got = await blocks(
      [
        {
          type: 'actions',
          block_id: 'ivs_decision',
          elements: [
            { type: 'button', action_id: 'ivs_approve', text: { type: 'plain_text', text: 'Approve' }, value: 'R-1', style: 'primary', confirm },
            { type: 'button', action_id: 'ivs_reject', text: { type: 'plain_text', text: 'Reject' }, value: 'R-1', style: 'danger' },
            { type: 'button', action_id: 'ivs_withdraw', text: { type: 'plain_text', text: 'Withdraw my approval' }, value: 'R-1' },
            { type: 'overflow', action_id: 'o', options: [] },
          ],
        },
      ],
      (root) => {
        const buttons = Array.from(root.querySelectorAll('button'));
        (buttons[0] as HTMLButtonElement).click();
        return {
          classes: buttons.map((b) => b.className),
          texts: buttons.map((b) => b.textContent),
          unsupported: root.querySelector('.bk-unsupported')?.textContent,
          clicks: (window as unknown as { clicks: unknown[] }).clicks,
        };
      },
    );
    expect(got.classes).toEqual(['bk-button bk-primary', 'bk-button bk-danger', 'bk-button']);
    expect(got.texts).toEqual(['Approve', 'Reject', 'Withdraw my approval']);
    expect(got.unsupported).toBe('unsupported element: overflow');
    expect(got.clicks).toEqual([
      {
        text: 'Approve',
        actionId: 'ivs_approve',
        blockId: 'ivs_decision',
        value: 'R-1',
        confirm: { title: 'Approve R-1?', text: { type: 'mrkdwn', text: 'You approve: *this*.' }, confirm: 'Approve', deny: 'Cancel', style: 'danger' },
      },
    ]);
  });

  it('input: a labelled text field (single and multiline, placeholder, max length), optional mark and hint', async () => {
    const got = await blocks(
      [
        {
          type: 'input',
          block_id: 'name',
          label: { type: 'plain_text', text: 'Name' },
          hint: { type: 'plain_text', text: 'As Intercom lists it' },
          element: { type: 'plain_text_input', action_id: 'name', max_length: 80, placeholder: { type: 'plain_text', text: 'Production Web' } },
        },
        {
          type: 'input',
          block_id: 'reason',
          optional: true,
          label: { type: 'plain_text', text: 'Reason' },
          element: { type: 'plain_text_input', action_id: 'reason', multiline: true },
        },
      ],
      (root) => {
        const input = root.querySelector('input') as HTMLInputElement;
        const label = root.querySelector('label') as HTMLLabelElement;
        return {
          labelFor: label.htmlFor === input.id,
          placeholder: input.placeholder,
          max: input.maxLength,
          hint: root.querySelector('.bk-hint')?.textContent,
          textarea: root.querySelectorAll('textarea').length,
          labels: Array.from(root.querySelectorAll('.bk-input-label')).map((l) => l.textContent),
        };
      },
    );
    expect(got).toEqual({
      labelFor: true,
      placeholder: 'Production Web',
      max: 80,
      hint: 'As Intercom lists it',
      textarea: 1,
      labels: ['Name', 'Reason (optional)'],
    });
  });

  it('input: checkboxes, static_select and radio_buttons with their initial options', async () => {
    const opt = (v: string) => ({ text: { type: 'plain_text', text: v.toUpperCase() }, value: v });
    const got = await blocks(
      [
        {
          type: 'input',
          block_id: 'p',
          label: { type: 'plain_text', text: 'Platforms' },
          element: { type: 'checkboxes', action_id: 'p', options: [opt('web'), opt('ios')], initial_options: [opt('ios')] },
        },
        {
          type: 'input',
          block_id: 's',
          label: { type: 'plain_text', text: 'Workspace' },
          element: { type: 'static_select', action_id: 's', options: [opt('us'), opt('eu')], initial_option: opt('eu') },
        },
        {
          type: 'input',
          block_id: 'r',
          label: { type: 'plain_text', text: 'Mode' },
          element: { type: 'radio_buttons', action_id: 'r', options: [opt('a'), opt('b')] },
        },
      ],
      (root) => ({
        checkboxes: Array.from(root.querySelectorAll<HTMLInputElement>('[data-kind=checkboxes] input')).map((b) => `${b.value}:${b.checked}`),
        labels: Array.from(root.querySelectorAll('.bk-option-text')).map((n) => n.textContent),
        select: (root.querySelector('select') as HTMLSelectElement).value,
        selectOptions: Array.from(root.querySelectorAll('option')).map((o) => o.textContent),
        radios: root.querySelectorAll('[data-kind=radio] input[type=radio]').length,
      }),
    );
    expect(got).toEqual({
      checkboxes: ['web:false', 'ios:true'],
      labels: ['WEB', 'IOS', 'A', 'B'],
      select: 'eu',
      selectOptions: ['Choose an option', 'US', 'EU'],
      radios: 2,
    });
  });

  it('unknown blocks and malformed values show as unsupported, never vanish', async () => {
    const got = await blocks(
      [
        { type: 'image', image_url: 'https://x.example/a.png' },
        { type: 'rich_text', elements: [] },
        'oops',
        { type: 'section', text: { type: 'fancy', text: 'x' } },
      ],
      (root) => Array.from(root.querySelectorAll('.bk-unsupported')).map((n) => n.textContent),
    );
    expect(got).toEqual(['unsupported block: image', 'unsupported block: rich_text', 'unsupported block: string', 'unsupported element: fancy']);
  });
});

describe('modals and confirm dialogs render', () => {
  it("the create modal: title, Cancel and Request approval, its three inputs; values read back like Slack's state.values", async () => {
    const view = { ...createRequestModal(), id: 'V1', errors: { platforms: 'Choose at least one platform.' } };
    const got = await page.evaluate((view) => {
      const ivs = (window as unknown as { ivs: Ivs }).ivs;
      const ctx = { users: new Map(), channels: new Map(), groups: new Map(), now: 0 } as never;
      const submitted: unknown[] = [];
      const modal = ivs.renderModal(view, ctx, { onSubmit: (v: unknown) => submitted.push(v), onClose: () => submitted.push('closed') });
      const out = document.getElementById('out') as HTMLElement;
      out.replaceChildren(modal);
      (modal.querySelector('input[type=text]') as HTMLInputElement).value = 'Web 2027';
      (modal.querySelector('input[value=web]') as HTMLInputElement).checked = true;
      (modal.querySelector('textarea') as HTMLTextAreaElement).value = 'yearly';
      (modal.querySelector('.bk-modal-submit') as HTMLButtonElement).click();
      (modal.querySelector('.bk-modal-close') as HTMLButtonElement).click();
      const error = modal.querySelector('.bk-has-error .bk-error') as HTMLElement;
      const group = modal.querySelector('[data-kind=checkboxes]') as HTMLElement;
      return {
        title: modal.querySelector('.bk-modal-title')?.textContent,
        buttons: Array.from(modal.querySelectorAll('.bk-modal-foot button')).map((b) => b.textContent),
        inputs: Array.from(modal.querySelectorAll('.bk-input')).map((n) => (n as HTMLElement).dataset['blockId']),
        error: { text: error.textContent, role: error.getAttribute('role'), inBlock: (error.closest('.bk-input') as HTMLElement).dataset['blockId'] },
        labelled: group.getAttribute('aria-labelledby') !== null,
        submitted,
      };
    }, view as never);
    expect(got).toEqual({
      title: 'New secret',
      buttons: ['Cancel', 'Request approval'],
      inputs: ['name', 'platforms', 'reason'],
      error: { text: 'Choose at least one platform.', role: 'alert', inBlock: 'platforms' },
      labelled: true,
      submitted: [{ name: { name: 'Web 2027' }, platforms: { platforms: ['web'] }, reason: { reason: 'yearly' } }, 'closed'],
    });
  });

  it('typed values survive a re-render with errors', async () => {
    const got = await page.evaluate((view) => {
      const ivs = (window as unknown as { ivs: Ivs }).ivs;
      const ctx = { users: new Map(), channels: new Map(), groups: new Map(), now: 0 } as never;
      const first = ivs.renderModal(view, ctx);
      (first.querySelector('textarea') as HTMLTextAreaElement).value = 'because';
      const values = ivs.collectValues(first);
      const second = ivs.renderModal({ ...(view as object), errors: { reason: 'Too long.' } }, ctx);
      ivs.restoreValues(second, values);
      return { value: (second.querySelector('textarea') as HTMLTextAreaElement).value, error: second.querySelector('.bk-error')?.textContent };
    }, rejectReasonModal('R-7F3K2Q', 'create') as never);
    expect(got).toEqual({ value: 'because', error: 'Too long.' });
  });

  it('a confirm dialog: title, mrkdwn text, deny and the styled confirm button', async () => {
    const got = await page.evaluate(() => {
      const ivs = (window as unknown as { ivs: Ivs }).ivs;
      const ctx = { users: new Map(), channels: new Map(), groups: new Map(), now: 0 } as never;
      const said: string[] = [];
      const d = ivs.renderConfirm(
        { title: 'Approve R-1?', text: { type: 'mrkdwn', text: 'You approve *it*.' }, confirm: 'Approve', deny: 'Cancel', style: 'danger' },
        ctx,
        { onConfirm: () => said.push('yes'), onDeny: () => said.push('no') },
      );
      (d.querySelector('.bk-confirm-ok') as HTMLButtonElement).click();
      (d.querySelector('.bk-confirm-deny') as HTMLButtonElement).click();
      return {
        role: d.getAttribute('role'),
        title: d.querySelector('.bk-modal-title')?.textContent,
        text: d.querySelector('.bk-confirm-text')?.innerHTML,
        ok: d.querySelector('.bk-confirm-ok')?.className,
        said,
      };
    });
    expect(got).toEqual({
      role: 'alertdialog',
      title: 'Approve R-1?',
      text: '<span class="mk-line">You approve <strong class="mk-strong">it</strong>.</span>',
      ok: 'bk-button bk-confirm-ok bk-danger',
      said: ['yes', 'no'],
    });
  });
});

describe("the bot's own views render with no raw markup and nothing unsupported", () => {
  const audit = (type: string, detail: Record<string, unknown>) => ({ entryId: '1-0', requestId: 'R-7F3K2Q', type, actor: 'U222', at: NOW, detail }) as never;
  const views: Array<[string, unknown]> = [
    [
      'a pending create card with a hostile name',
      renderRequestCard(makeRequest({ operation: createOp(HOSTILE), reason: `${HOSTILE}\nsecond line` }), { now: NOW }).blocks,
    ],
    [
      'a rotation awaiting its finish',
      renderRequestCard(
        makeRequest({
          operation: rotateOp,
          state: 'awaiting_finish',
          rotation: { step: 'successor', successor: { id: '105', name: 'Web [R-7F3K2Q]' }, successorCreatedAt: NOW - HOUR },
        } as never),
        { now: NOW, minOverlapMs: HOUR },
      ).blocks,
    ],
    ['a failed card', renderRequestCard(makeRequest({ state: 'failed', outcome: `Vault is sealed: ${HOSTILE}` }), { now: NOW }).blocks],
    [
      'the secret list',
      renderSecretList([{ id: '101', name: 'Web [R-AAAAAA]', platforms: ['web'], createdAt: NOW / 1000 - 86400 }], {
        now: NOW,
        workspace: 'default',
        material: new Map([['101', 'missing']]),
        listedAt: NOW,
      }).blocks,
    ],
    [
      'the audit history',
      renderAuditHistory('R-7F3K2Q' as never, { entries: [audit('approved', { approvals: 1, required: 1 })], chain: { ok: true } } as never).blocks,
    ],
    ['the create modal', createRequestModal().blocks],
    ['the create modal with a choice of workspaces (static_select)', createRequestModal({ workspaces: ['us', 'eu'] }).blocks],
    ['the reject modal', rejectReasonModal('R-7F3K2Q', 'create').blocks],
  ];
  const texts: Array<[string, string]> = [
    ['the usage', renderUsage()],
    [
      'a created event',
      renderThreadEvent(
        makeRequest({ operation: createOp() }),
        audit('created', { intercomId: '104', vaultPath: 'secret/data/x/secrets/104', vaultVersion: 1 }),
      ),
    ],
    ['a failed event', renderThreadEvent(makeRequest(), audit('failed', { step: 'vault preflight', error: 'sealed <b>', undone: 'nothing' }))],
  ];

  for (const [name, value] of views) {
    it(name, async () => {
      const got = await blocks(value, (root) => ({
        text: root.textContent ?? '',
        unsupported: root.querySelectorAll('.bk-unsupported').length,
        pings: root.querySelectorAll('.mk-broadcast, [data-user-id=U0BADGUY]').length,
        links: root.querySelectorAll('a[href]').length,
      }));
      expect(got.unsupported).toBe(0);
      expect(got.pings).toBe(0);
      expect(got.links).toBe(0);
      // What a person typed shows as they typed it; everything else the bot wrote must be rendered.
      expect(got.text.split(HOSTILE).join('')).not.toMatch(/<[@#!]|&(amp|lt|gt);|:[a-z_]+:|```/);
    });
  }
  for (const [name, value] of texts) {
    it(name, async () => {
      const html = await mrkdwn(value);
      const text = await page.evaluate((h) => {
        const box = document.createElement('div');
        box.innerHTML = h;
        return box.textContent ?? '';
      }, html);
      expect(text).not.toMatch(/<[@#!]|&(amp|lt|gt);|:[a-z_]+:|`/);
      expect(text.length).toBeGreaterThan(10);
    });
  }
});
