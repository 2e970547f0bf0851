import { describe, expect, it } from 'vitest';
import type { MaterialStatus } from '../../../src/core/ports';
import type { SecretInfo } from '../../../src/core/types';
import { isOrphan, renderSecretList, requestIdInName } from '../../../src/slack/views/secret-list';
import { allText, expectNoLiveMarkupFrom, expectWithinSlackLimits, HOSTILE, NOW } from './fixtures';

const DAY_S = 24 * 3600;
const nowS = NOW / 1000;

function secret(id: string, name: string, platforms: SecretInfo['platforms'], ageDays: number): SecretInfo {
  return { id, name, platforms, createdAt: nowS - ageDays * DAY_S };
}

describe('the secret list', () => {
  it('with no secrets says so clearly', () => {
    const view = renderSecretList([], { now: NOW, workspace: 'default', material: new Map() });
    expect(view.text).toBe('No identity verification secrets in Intercom workspace default.');
    expect(allText(view)).toContain('*No secrets.*');
    expectWithinSlackLimits(view);
  });

  it('with one secret shows id, name, platforms, age, date and that Vault holds its material', () => {
    const view = renderSecretList([secret('102', 'Production Web', ['web', 'ios'], 3)], {
      now: NOW,
      workspace: 'default',
      material: new Map([['102', 'present']]),
    });
    const text = allText(view);
    expect(text).toContain(`\`102\` · \`Production Web\` · web, ios · created 3 days ago (<!date^${nowS - 3 * DAY_S}^{date_short_pretty} {time}|`);
    expect(text).toContain(':white_check_mark: in Vault');
    expect(text).toContain('*1* secret · web: *1* · ios: *1* · android: *0*');
    expect(view.text).toBe('1 identity verification secret in default');
    expectWithinSlackLimits(view);
  });

  it('says NOT in Vault and deleted in Vault for secrets made outside the bot, without calling them orphans', () => {
    const view = renderSecretList([secret('1', 'Legacy', ['web'], 400), secret('2', 'Old', ['ios'], 10)], {
      now: NOW,
      workspace: 'default',
      material: new Map<string, MaterialStatus>([
        ['1', 'missing'],
        ['2', 'deleted'],
      ]),
    });
    const text = allText(view);
    expect(text).toContain('`1` · `Legacy` · web · created 1 year ago');
    expect(text).toContain(':warning: *NOT in Vault*');
    expect(text).toContain(':warning: *deleted in Vault*');
    expect(text).not.toContain('ORPHAN');
  });

  it('flags an orphan (a request id in the name, no material) loudly, in the line, a banner and the fallback', () => {
    const view = renderSecretList([secret('102', 'Production Web', ['web'], 30), secret('205', 'Production Web [R-7F3K2Q]', ['web'], 0)], {
      now: NOW,
      workspace: 'default',
      material: new Map<string, MaterialStatus>([
        ['102', 'present'],
        ['205', 'missing'],
      ]),
    });
    const text = allText(view);
    expect(text).toContain(':rotating_light: *NOT in Vault — ORPHAN*');
    expect(text).toContain(':rotating_light: *1 ORPHAN:* `205` was created by a request but Vault holds no material');
    expect(text).toContain('Delete it with `/ivs delete 205`.');
    expect(view.text).toContain('1 ORPHAN');
  });

  it('says when Vault could not be asked instead of claiming anything', () => {
    const view = renderSecretList([secret('102', 'P', ['web'], 1)], { now: NOW, workspace: 'default' });
    const text = allText(view);
    expect(text).toContain('Vault could not be asked');
    expect(text).not.toContain('in Vault ·');
    expect(text).not.toContain('ORPHAN');
  });

  it('says Vault status unknown for an id Vault did not answer for', () => {
    const view = renderSecretList([secret('102', 'P', ['web'], 1)], { now: NOW, workspace: 'default', material: new Map() });
    expect(allText(view)).toContain('Vault status unknown');
  });

  it('escapes names', () => {
    const view = renderSecretList([secret('9', HOSTILE, ['web'], 1)], { now: NOW, workspace: 'default', material: new Map() });
    expectNoLiveMarkupFrom(allText(view));
  });

  it('lists secrets oldest first', () => {
    const view = renderSecretList([secret('b', 'New', ['web'], 1), secret('a', 'Old', ['web'], 9)], {
      now: NOW,
      workspace: 'default',
    });
    const text = allText(view);
    expect(text.indexOf('`Old`')).toBeLessThan(text.indexOf('`New`'));
  });

  it('with 60 long-named secrets splits into sections within Slack limits and shows every secret', () => {
    const many = Array.from({ length: 60 }, (_, i) => secret(String(1000 + i), `${'&<>'.repeat(40)} ${i}`, ['web', 'ios', 'android'], i));
    const material = new Map<string, MaterialStatus>(many.map((s) => [s.id, 'present']));
    const view = renderSecretList(many, { now: NOW, workspace: 'default', material });
    expectWithinSlackLimits(view);
    const sections = view.blocks.filter((b) => b.type === 'section');
    expect(sections.length).toBeGreaterThan(3);
    const text = allText(view);
    for (const s of many) expect(text).toContain(`\`${s.id}\``);
    expect(text).toContain('*60* secrets · web: *60* · ios: *60* · android: *60*');
    expect(text).not.toContain('more secrets not shown');
  });

  it('with more secrets than 50 blocks can hold, says how many are not shown', () => {
    const many = Array.from({ length: 800 }, (_, i) => secret(`id${i}`, `${'<'.repeat(100)} ${i}`, ['web'], i));
    const view = renderSecretList(many, { now: NOW, workspace: 'default', material: new Map() });
    expectWithinSlackLimits(view);
    expect(allText(view)).toMatch(/…and \d+ more secrets not shown/);
  });
});

describe('orphan detection', () => {
  it('reads the request id the bot put into a name', () => {
    expect(requestIdInName('Production Web [R-7F3K2Q]')).toBe('R-7F3K2Q');
    expect(requestIdInName('Production Web')).toBeUndefined();
  });

  it('is an orphan only with a request id and material missing or deleted', () => {
    const tagged = secret('1', 'X [R-7F3K2Q]', ['web'], 0);
    expect(isOrphan(tagged, 'missing')).toBe(true);
    expect(isOrphan(tagged, 'deleted')).toBe(true);
    expect(isOrphan(tagged, 'present')).toBe(false);
    expect(isOrphan(tagged, undefined)).toBe(false);
    expect(isOrphan(secret('2', 'X', ['web'], 0), 'missing')).toBe(false);
  });
});
