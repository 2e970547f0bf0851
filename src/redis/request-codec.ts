import { z } from 'zod';
import { StoreUnavailableError } from '../core/errors';
import { FINAL_STATES, OPEN_STATES, type ApprovalRequest, type RotationProgress } from '../core/request';
import { PLATFORMS } from '../core/types';

/**
 * How an ApprovalRequest lives in its Redis hash. Fields the Lua scripts read or change are plain
 * hash fields; the parts that never change after create travel as one JSON `body`. Progress
 * breadcrumbs are `progress.<key>` fields so HSET merges them without any JSON in Lua.
 */

const PROGRESS_PREFIX = 'progress.';

const platforms = z.array(z.enum(PLATFORMS));

const operation = z.discriminatedUnion('action', [
  z.object({ action: z.literal('create'), workspace: z.string(), name: z.string(), platforms }),
  z.object({
    action: z.literal('delete'),
    workspace: z.string(),
    secretId: z.string(),
    secretName: z.string(),
    platforms,
    force: z.boolean(),
  }),
  z.object({
    action: z.literal('rotate'),
    workspace: z.string(),
    secretId: z.string(),
    secretName: z.string(),
    platforms,
    compromised: z.literal(true).optional(),
  }),
]);

const body = z.object({
  operation,
  fingerprint: z.string(),
  teamId: z.string(),
  channel: z.string(),
  reason: z.string(),
  impact: platforms,
  createdAt: z.number(),
});

const rotation = z.object({
  step: z.enum(['successor', 'retire']),
  successor: z.object({ id: z.string(), name: z.string(), createdAt: z.number() }).optional(),
  successorCreatedAt: z.number().optional(),
  finishRequestedBy: z.string().optional(),
});

const state = z.enum([...OPEN_STATES, ...FINAL_STATES]);

/** Field/value pairs for HSET when the request is created. */
export function encodeNewRequest(request: ApprovalRequest, rotationOf: string | undefined): string[] {
  const fields: Record<string, string> = {
    state: request.state,
    requester: request.requester,
    approvals: request.approvals.join(' '),
    approvals_required: String(request.approvalsRequired),
    created_at: String(request.createdAt),
    expires_at: String(request.expiresAt),
    updated_at: String(request.updatedAt),
    workspace: request.operation.workspace,
    action: request.operation.action,
    rotation_of: rotationOf ?? '',
    lease_owner: '',
    lease_until: '0',
    body: JSON.stringify({
      operation: request.operation,
      fingerprint: request.fingerprint,
      teamId: request.teamId,
      channel: request.channel,
      reason: request.reason,
      impact: request.impact,
      createdAt: request.createdAt,
    }),
  };
  if (request.card) {
    fields.card_channel = request.card.channel;
    fields.card_ts = request.card.ts;
  }
  if (request.rotation) fields.rotation = JSON.stringify(request.rotation);
  if (request.outcome !== undefined) fields.outcome = request.outcome;
  if (request.rejection) {
    fields.rejection_by = request.rejection.by;
    fields.rejection_reason = request.rejection.reason;
  }
  if (request.cancelledBy !== undefined) fields.cancelled_by = request.cancelledBy;
  // A hash field, not in the body: create, approve and expire read it in Lua (it never expires).
  if (request.orphanOf !== undefined) fields.orphan_of = request.orphanOf;
  Object.assign(fields, encodeProgress(request.progress));
  return Object.entries(fields).flat();
}

export function encodeProgress(progress: Readonly<Record<string, string>>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(progress)) fields[PROGRESS_PREFIX + k] = v;
  return fields;
}

function nonsense(id: string, why: string): StoreUnavailableError {
  return new StoreUnavailableError(`request ${id} in Redis is unreadable: ${why}`);
}

function number(fields: Record<string, string>, name: string, id: string): number {
  const value = Number(fields[name]);
  if (fields[name] === undefined || !Number.isFinite(value)) throw nonsense(id, `field ${name} is not a number`);
  return value;
}

function json(raw: string, id: string, name: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw nonsense(id, `field ${name} is not JSON`);
  }
}

/** The request from its hash fields; throws StoreUnavailableError if the hash is not one of ours. */
export function decodeRequest(id: string, fields: Record<string, string>): ApprovalRequest {
  const parsedBody = body.safeParse(json(fields.body ?? '', id, 'body'));
  if (!parsedBody.success) throw nonsense(id, 'body does not match');
  const parsedState = state.safeParse(fields.state);
  if (!parsedState.success) throw nonsense(id, 'unknown state');
  const requester = fields.requester;
  if (!requester) throw nonsense(id, 'no requester');

  const progress: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k.startsWith(PROGRESS_PREFIX)) progress[k.slice(PROGRESS_PREFIX.length)] = v;
  }

  const b = parsedBody.data;
  const request: {
    -readonly [K in keyof ApprovalRequest]: ApprovalRequest[K];
  } = {
    id,
    operation: b.operation,
    fingerprint: b.fingerprint,
    requester,
    teamId: b.teamId,
    channel: b.channel,
    reason: b.reason,
    state: parsedState.data,
    approvals: (fields.approvals ?? '').split(' ').filter((a) => a !== ''),
    approvalsRequired: number(fields, 'approvals_required', id),
    createdAt: b.createdAt,
    expiresAt: number(fields, 'expires_at', id),
    updatedAt: number(fields, 'updated_at', id),
    impact: b.impact,
    progress,
  };
  if (fields.card_channel && fields.card_ts) request.card = { channel: fields.card_channel, ts: fields.card_ts };
  if (fields.rejection_by !== undefined) request.rejection = { by: fields.rejection_by, reason: fields.rejection_reason ?? '' };
  if (fields.cancelled_by !== undefined) request.cancelledBy = fields.cancelled_by;
  if (fields.outcome !== undefined) request.outcome = fields.outcome;
  if (fields.orphan_of) request.orphanOf = fields.orphan_of;
  const decodedRotation = decodeRotation(id, fields);
  if (decodedRotation) request.rotation = decodedRotation;
  return request;
}

/** The stored rotation JSON, overridden by the fields startRetireStep sets atomically in Lua. */
function decodeRotation(id: string, fields: Record<string, string>): RotationProgress | undefined {
  let base: RotationProgress | undefined;
  if (fields.rotation !== undefined) {
    const parsed = rotation.safeParse(json(fields.rotation, id, 'rotation'));
    if (!parsed.success) throw nonsense(id, 'rotation does not match');
    base = stripUndefined(parsed.data);
  }
  const step = fields.rotation_step;
  if (step !== 'successor' && step !== 'retire') return base;
  const merged: { -readonly [K in keyof RotationProgress]: RotationProgress[K] } = { ...base, step };
  if (fields.finish_requested_by) merged.finishRequestedBy = fields.finish_requested_by;
  return merged;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** HGETALL's flat [field, value, ...] list as an object. */
export function fieldsFromList(list: unknown): Record<string, string> {
  if (!Array.isArray(list)) throw new StoreUnavailableError('Redis answered with something that is not a hash');
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) {
    const k: unknown = list[i];
    const v: unknown = list[i + 1];
    if (typeof k !== 'string' || typeof v !== 'string') throw new StoreUnavailableError('Redis answered with a malformed hash');
    fields[k] = v;
  }
  return fields;
}
