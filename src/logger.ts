import pino, { type DestinationStream, type Logger } from 'pino';
import type { Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/bolt';

/**
 * Shapes of credentials we never want in a log line, whoever produced them: Slack tokens, Vault
 * tokens, bearer headers, and base64url runs of the length Intercom's material has.
 */
const SECRET_SHAPES: readonly RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]+/g,
  /xapp-[A-Za-z0-9-]+/g,
  /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/g,
  /\b[Bb]earer\s+[A-Za-z0-9._~+/=-]+/g,
  /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
];

const REDACT_PATHS = [
  'token',
  'secret',
  'password',
  'authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-vault-token"]',
  'headers["x-vault-token"]',
  'signingSecret',
  '*.signingSecret',
];

export function makeScrubber(knownSecrets: readonly string[]): (text: string) => string {
  const known = knownSecrets.filter((s) => s.length >= 6);
  return (text: string) => {
    let out = text;
    for (const secret of known) out = out.split(secret).join('[redacted]');
    for (const shape of SECRET_SHAPES) out = out.replace(shape, '[redacted]');
    return out;
  };
}

/**
 * What an HTTP client hangs on its errors: the request it sent (headers with tokens, bodies), the
 * socket, the whole response. Never worth a log line, and the most likely place for a secret.
 */
const ERROR_BAGGAGE = new Set(['config', 'request', 'response', 'original', 'options', 'headers', 'body', 'data', 'agent', 'socket']);

function scrubDeep(value: unknown, scrub: (t: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than anyone logs on purpose: cut it off rather than let it through unscrubbed.
  if (depth > 6) return '[truncated]';
  if (value instanceof Error) {
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!ERROR_BAGGAGE.has(k)) own[k] = v;
    return {
      type: value.name,
      message: scrub(value.message),
      stack: value.stack ? scrub(value.stack) : undefined,
      ...(scrubDeep(own, scrub, depth + 1) as object),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrub, depth + 1));
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // What JSON.stringify would write (AxiosHeaders with a bearer token, say) is scrubbed like the rest.
    let json: unknown;
    try {
      json = (toJSON as () => unknown).call(value);
    } catch {
      return '[unserialisable]';
    }
    return json === value ? '[unserialisable]' : scrubDeep(json, scrub, depth + 1);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, scrub, depth + 1);
  return out;
}

export interface LoggerOptions {
  level: string;
  /** Exact credential values from the config: redacted wherever they appear. */
  secrets: readonly string[];
  destination?: DestinationStream;
}

/** pino, JSON lines, with redaction by construction: paths, known values and secret shapes. */
export function createLogger(opts: LoggerOptions): Logger {
  const scrub = makeScrubber(opts.secrets);
  return pino(
    {
      level: opts.level,
      base: { service: 'ivs-bot' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        // Every argument of every log call passes the scrubber before pino serialises it.
        logMethod(args, method) {
          return method.apply(this, args.map((a) => scrubDeep(a, scrub)) as Parameters<typeof method>);
        },
      },
      serializers: { err: (err: unknown) => scrubDeep(err, scrub) },
    },
    opts.destination,
  );
}

/** Bolt's logger interface on top of pino; Bolt's own setLevel is ignored (LOG_LEVEL rules). */
export function boltLogger(logger: Logger): BoltLogger {
  const fold =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...msgs: unknown[]) => {
      const errors = msgs.filter((m): m is Error => m instanceof Error);
      const text = msgs
        .filter((m) => !(m instanceof Error))
        .map((m) => (typeof m === 'string' ? m : JSON.stringify(m)))
        .join(' ');
      if (errors[0]) logger[level]({ err: errors[0], component: 'bolt' }, text || errors[0].message);
      else logger[level]({ component: 'bolt' }, text);
    };
  return {
    debug: fold('debug'),
    info: fold('info'),
    warn: fold('warn'),
    error: fold('error'),
    setLevel: () => undefined,
    getLevel: () => logger.level as BoltLogLevel,
    setName: () => undefined,
  };
}
