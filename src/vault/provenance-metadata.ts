import type { Provenance } from '../core/ports';

/** KV v2 custom_metadata limit per value, in bytes (contract vault.md §3.3). */
export const MAX_VALUE_BYTES = 512;

/**
 * The provenance of SPEC §5 as custom_metadata: strings only, no empty values (Vault rejects them),
 * approvers as one comma-joined string that fits the 512-byte limit.
 */
export function provenanceMetadata(p: Provenance): Record<string, string> {
  const entries: Array<[string, string]> = [
    ['request_id', p.requestId],
    ['requester', p.requester],
    ['approvers', joinWithinLimit(p.approvers)],
    ['slack_channel', p.channel],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v.length > 0).map(([k, v]) => [k, truncateBytes(v, MAX_VALUE_BYTES)]));
}

/** Whole ids only; when they do not all fit, as many as fit plus `+N more`. */
export function joinWithinLimit(ids: readonly string[], limit = MAX_VALUE_BYTES): string {
  const all = ids.join(',');
  if (Buffer.byteLength(all) <= limit) return all;
  for (let keep = ids.length - 1; keep >= 0; keep -= 1) {
    const suffix = `+${ids.length - keep} more`;
    const joined = [...ids.slice(0, keep), suffix].join(',');
    if (Buffer.byteLength(joined) <= limit) return joined;
  }
  return `+${ids.length} more`;
}

function truncateBytes(value: string, limit: number): string {
  if (Buffer.byteLength(value) <= limit) return value;
  let out = value;
  while (Buffer.byteLength(out) > limit) out = out.slice(0, -1);
  return out;
}
