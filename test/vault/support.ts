import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Provenance } from '../../src/core/ports';
import { SecretMaterial } from '../../src/core/secret-material';
import type { CreatedSecret, Platform } from '../../src/core/types';

export const PREFIX = 'intercom/identity-verification';

/** A distinctive canary per test, so a leak is unmistakable. */
export function canary(label = 'material'): string {
  return `${label}-${randomBytes(16).toString('hex')}`;
}

export function createdSecret(id: string, raw: string, platforms: readonly Platform[] = ['web'], name = `Production [R-${id}]`): CreatedSecret {
  return { id, name, platforms, createdAt: 1734537500, material: SecretMaterial.of(raw) };
}

export const provenance: Provenance = { requestId: 'R-7F3K2Q', requester: 'U0REQUEST', approvers: ['U0APPROV1', 'U0APPROV2'], channel: 'C0SECRETS' };

/** pino writing JSON lines into an array the test can search. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}
