import { VaultError } from '../core/errors';
import type { Platform } from '../core/types';

/**
 * SPEC §5's KV v2 layout, built in one place (contract vault.md §7.5 rule f):
 * `<mount>/data/<prefix>/<workspace>/secrets/<id>` and `…/current/<platform>`.
 */
export interface KvLayout {
  secretKey(id: string): string;
  currentKey(platform: Platform): string;
  /** A representative key under `secrets/` or `current/` for the preflight capability check. */
  probeKey(folder: 'secrets' | 'current'): string;
  data(key: string): string;
  metadata(key: string): string;
  delete(key: string): string;
}

const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/g, '');
export const PROBE_ID = '_preflight';
/** Intercom ids are short numeric strings; anything that could walk the path is refused. */
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export function kvLayout(opts: { kvMount: string; pathPrefix: string; workspace: string }): KvLayout {
  const mount = trimSlashes(opts.kvMount);
  const base = [opts.pathPrefix, opts.workspace].map(trimSlashes).filter(Boolean).join('/');
  return {
    secretKey(id) {
      if (!SAFE_ID.test(id) || id.includes('..')) throw new VaultError('invalid', `not a usable Intercom secret id: ${JSON.stringify(id.slice(0, 40))}`);
      return `${base}/secrets/${id}`;
    },
    currentKey: (platform) => `${base}/current/${platform}`,
    probeKey: (folder) => `${base}/${folder}/${PROBE_ID}`,
    data: (key) => `${mount}/data/${key}`,
    metadata: (key) => `${mount}/metadata/${key}`,
    delete: (key) => `${mount}/delete/${key}`,
  };
}
