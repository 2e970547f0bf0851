import { IntercomError, LeaseLostError, RetryLaterError, VaultError } from '../errors';
import { intercomName, requestIdInName } from '../request-id';
import type { CreatedSecret, Platform, SecretInfo } from '../types';
import { describeError, failed, platformList, repointCurrents, type StepContext, type StepResult } from './step';

const VAULT_WRITE_ATTEMPTS = 3;
const VAULT_RETRY_DELAYS_MS = [300, 1_000];
/** Intercom may take a moment to list a secret it just created (contract §1.6). */
const RECONCILE_RELIST_DELAY_MS = 1_500;

export interface CreateSpec {
  readonly name: string;
  readonly platforms: readonly Platform[];
}

export type CreateOutcome =
  | { readonly ok: true; readonly secret: SecretInfo; readonly vaultPath: string; readonly vaultVersion: number; readonly warnings: string[] }
  | { readonly ok: false; readonly result: StepResult };

/**
 * SPEC §4 step 4: preflight Vault, POST once, material straight into Vault (bounded retries, held
 * only in memory), compensate at Intercom if Vault finally refuses, reconcile ambiguous POSTs by
 * listing. Used by `/ivs create` and by a rotation's first step.
 */
export async function createSecretIntoVault(ctx: StepContext, spec: CreateSpec): Promise<CreateOutcome> {
  const { request } = ctx;
  // Every takeover looks before it sends: the breadcrumbs may be gone (a Redis failover, an AOF that
  // lost its last second) while the POST they announced reached Intercom.
  if (ctx.recovering) {
    const recovered = await recoverCreate(ctx, spec);
    if (recovered !== 'nothing_sent') return recovered;
    // Nothing was sent before: from here it is a first attempt, under the checks a first attempt has.
    if (ctx.approvalWithdrawn) return { ok: false, result: failed(`re-check at execution refused it: ${ctx.approvalWithdrawn}; nothing was created`) };
    if (ctx.clock.now() >= request.expiresAt)
      return { ok: false, result: failed('re-check at execution refused it: the request expired before it could start; nothing was created') };
  }

  const name = intercomName(spec.name, request.id);
  // On a replica before the POST where Redis has one: a failover then rarely loses it (and a takeover
  // that finds no breadcrumb still lists Intercom before it sends anything). Written while Vault is
  // checked: the POST waits for both. Should the check fail, the breadcrumb stays behind on a step
  // that sent nothing; a takeover (only after a crash right then) lists Intercom, finds nothing,
  // and says nothing was created.
  // (Its failure is held as a value until then, so it is never an unhandled rejection meanwhile.)
  const announcing = ctx.progress({ phase: 'posting', intercomName: name }, { replicated: true }).then(
    () => undefined,
    (err: unknown) => ({ err }),
  );
  try {
    await ctx.vault.preflight();
  } catch (err) {
    await announcing;
    return { ok: false, result: failed(`Vault is not ready (${describeError(err)}): nothing was created at Intercom`) };
  }
  const unannounced = await announcing;
  // Not on record (the lease was lost, or Redis is unreachable): nothing is sent, as before.
  if (unannounced) throw unannounced.err;
  let created: CreatedSecret;
  try {
    created = await ctx.intercom.createSecret({ name, platforms: spec.platforms });
  } catch (err) {
    if (err instanceof IntercomError && err.kind === 'ambiguous') return reconcileAmbiguous(ctx, name, err);
    return { ok: false, result: failed(`Intercom refused the create (${describeError(err)}): nothing was created`) };
  }
  // From here the material exists only in this process: it goes to Vault whatever Redis says, so
  // the breadcrumb is written while the material is (nothing waits for it before the Vault write).
  // When it cannot be written (Redis unreachable, or the lease taken over) the secret is still found
  // by its name at recovery and, with its material in Vault, finished instead of orphaned.
  const recordingCreated = ctx.progress({ phase: 'created', intercomSecretId: created.id }).then(
    () => undefined,
    (err: unknown) => err,
  );

  const provenance = { requestId: request.id, requester: request.requester, approvers: request.approvals, channel: request.channel };
  let stored: { path: string; version: number } | undefined;
  let lastError: unknown;
  for (let attempt = 1; attempt <= VAULT_WRITE_ATTEMPTS && !stored; attempt++) {
    try {
      stored = await ctx.vault.storeSecret(created, provenance);
    } catch (err) {
      lastError = err;
      ctx.log.warn({ err, requestId: request.id, attempt }, 'Vault write failed');
      // A CAS conflict will not go away by retrying: something already sits at that path.
      if (err instanceof VaultError && (err.kind === 'conflict' || err.kind === 'denied')) break;
      const delay = VAULT_RETRY_DELAYS_MS[attempt - 1];
      if (delay !== undefined && attempt < VAULT_WRITE_ATTEMPTS) await ctx.clock.sleep(delay);
    }
  }
  const unrecorded = await recordingCreated;
  if (unrecorded) ctx.log.warn({ err: unrecorded, requestId: request.id }, 'could not record the created secret; its material went to Vault all the same');
  if (!stored) return compensate(ctx, created, lastError);
  const createdEvent = {
    type: 'created',
    detail: { intercomId: created.id, name: created.name, platforms: platformList(created.platforms), vaultPath: stored.path, vaultVersion: stored.version },
  } as const;
  if (unrecorded instanceof LeaseLostError) {
    // Another replica holds the request now: the material is safe, the rest is its to finish. The
    // thread still hears what happened here (telling needs no lease), whatever that replica concluded.
    await ctx.tell(createdEvent);
    throw unrecorded;
  }

  await ctx.progress({ phase: 'stored', vaultPath: stored.path });
  const info: SecretInfo = { id: created.id, name: created.name, platforms: created.platforms, createdAt: created.createdAt };
  await ctx.tell(createdEvent);
  const warnings = await repointAfterCreate(ctx, info);
  return { ok: true, secret: info, vaultPath: stored.path, vaultVersion: stored.version, warnings };
}

async function repointAfterCreate(ctx: StepContext, created: SecretInfo): Promise<string[]> {
  let active: SecretInfo[];
  try {
    active = await ctx.intercom.listSecrets();
  } catch {
    active = [created];
  }
  if (!active.some((s) => s.id === created.id)) active = [...active, created];
  return repointCurrents(ctx, created.platforms, active);
}

/** The Vault write finally failed: a secret whose material is not in Vault must not stay active. */
async function compensate(ctx: StepContext, created: CreatedSecret, cause: unknown): Promise<CreateOutcome> {
  const why = `Vault write failed (${describeError(cause)})`;
  try {
    const gone = await ctx.intercom.deleteSecret(created.id);
    // The data may have reached Vault before the write failed (its metadata update did, say): what
    // stays there must not look like the live material of an active secret.
    await ctx.vault.markDeleted(created.id, new Date(ctx.clock.now())).catch((err: unknown) => {
      ctx.log.warn({ err, requestId: ctx.request.id, intercomId: created.id }, 'could not mark the rolled-back secret deleted in Vault');
    });
    await ctx.tell({ type: 'rolled_back', detail: { intercomId: created.id, result: gone } });
    return { ok: false, result: failed(`${why}; the new Intercom secret ${created.id} was deleted again (rolled back)`) };
  } catch (err) {
    const info: SecretInfo = { id: created.id, name: created.name, platforms: created.platforms, createdAt: created.createdAt };
    const deleteRequest = await ctx.openOrphanDelete(info, `${why} and the compensating delete failed`);
    await ctx.tell({ type: 'orphan', detail: { intercomId: created.id, deleteRequestId: deleteRequest ?? '' } });
    return {
      ok: false,
      result: failed(
        `${why}, and deleting the new Intercom secret ${created.id} failed too (${describeError(err)}): it is active without material` +
          (deleteRequest ? `; delete request ${deleteRequest} opened` : '; delete it by hand'),
      ),
    };
  }
}

/** Timeout, reset, 5xx or unparseable 201: list (twice) and look for our request id in the name. */
async function reconcileAmbiguous(ctx: StepContext, name: string, cause: IntercomError): Promise<CreateOutcome> {
  ctx.log.warn({ err: cause, requestId: ctx.request.id }, 'ambiguous create, reconciling by listing');
  let found: SecretInfo | undefined;
  try {
    found = await findByRequestId(ctx, name);
    if (!found) {
      await ctx.clock.sleep(RECONCILE_RELIST_DELAY_MS);
      found = await findByRequestId(ctx, name);
    }
  } catch (err) {
    throw new RetryLaterError(`the create's outcome is unknown (${describeError(cause)}) and Intercom could not be listed (${describeError(err)})`);
  }
  if (!found)
    return {
      ok: false,
      result: failed(`Intercom did not answer the create (${describeError(cause)}) and lists no secret for this request: nothing was created`),
    };
  return orphaned(ctx, found, `Intercom created secret ${found.id} but its answer, and with it the material, was lost`);
}

async function orphaned(ctx: StepContext, secret: SecretInfo, why: string): Promise<CreateOutcome> {
  const deleteRequest = await ctx.openOrphanDelete(secret, why);
  await ctx.tell({ type: 'orphan', detail: { intercomId: secret.id, deleteRequestId: deleteRequest ?? '' } });
  return { ok: false, result: failed(`${why}; delete request ${deleteRequest ?? '(could not be opened)'} opened for the orphan`) };
}

/** The request's secret at Intercom, if any, and whether Vault holds its material. */
async function lookForCreated(ctx: StepContext, name: string): Promise<{ found: SecretInfo | undefined; status: string | undefined }> {
  let found: SecretInfo | undefined;
  try {
    found = await findByRequestId(ctx, name);
  } catch (err) {
    throw new RetryLaterError(`recovery could not list Intercom (${describeError(err)}) to see whether the create happened`);
  }
  if (!found) return { found, status: undefined };
  return { found, status: (await ctx.vault.materialStatus([found.id])).get(found.id) };
}

async function findByRequestId(ctx: StepContext, name: string): Promise<SecretInfo | undefined> {
  const secrets = await ctx.intercom.listSecrets();
  return secrets.find((s) => s.name === name || requestIdInName(s.name) === ctx.request.id);
}

/**
 * SPEC §4 step 4.5: an interrupted create. Material in Vault → finish; at Intercom only → orphan;
 * nothing at Intercom and no breadcrumb of a POST → 'nothing_sent' (the caller creates).
 *
 * The executor this takeover fenced off (its lease ran out, so Redis refuses its breadcrumbs) may be
 * alive and still writing: a POST it sent ends within its Intercom timeout, and the material it got
 * reaches Vault within its Vault attempts. So until `holderWindowMs` has passed since the first
 * takeover looked, neither "nothing was created" nor "orphan" is concluded: recovery looks again.
 */
async function recoverCreate(ctx: StepContext, spec: CreateSpec): Promise<CreateOutcome | 'nothing_sent'> {
  const { request } = ctx;
  const name = request.progress['intercomName'] ?? intercomName(spec.name, request.id);
  const recorded = Number(request.progress['firstLookAt']);
  const firstLook = Number.isFinite(recorded) ? recorded : ctx.clock.now();
  if (!Number.isFinite(recorded)) await ctx.progress({ firstLookAt: String(firstLook) });
  let look = await lookForCreated(ctx, name);
  const pending = look.found === undefined || look.status !== 'present';
  const waitMs = firstLook + ctx.holderWindowMs - ctx.clock.now();
  if (pending && waitMs > 0) {
    // Wait here, the lease renewed meanwhile, rather than conclude while the fenced-off executor
    // may still be sending or storing; then look once more.
    await ctx.tell({
      type: 'retrying',
      detail: {
        why: look.found
          ? `secret ${look.found.id} exists but its material is not in Vault yet; the interrupted executor may still be storing it, looking again shortly`
          : 'Intercom lists no secret for this request yet, but the interrupted executor may still be sending it; looking again shortly',
      },
    });
    await ctx.clock.sleep(waitMs);
    look = await lookForCreated(ctx, name);
  }
  const found = look.found;
  if (!found) {
    if (!request.progress['phase']) return 'nothing_sent';
    return { ok: false, result: failed('interrupted before Intercom created anything: nothing was created') };
  }
  if (look.status !== 'present') return orphaned(ctx, found, `secret ${found.id} was created but the replica died before its material reached Vault`);
  const path = ctx.request.progress['vaultPath'] ?? `secrets/${found.id}`;
  await ctx.tell({
    type: 'created',
    detail: { intercomId: found.id, name: found.name, platforms: platformList(found.platforms), vaultPath: path, recovered: true },
  });
  const warnings = await repointAfterCreate(ctx, found);
  return { ok: true, secret: found, vaultPath: path, vaultVersion: 1, warnings };
}
