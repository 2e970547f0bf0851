import { platformsLeftWithout } from '../impact';
import type { ApprovalRequest, Operation } from '../request';
import type { Platform, RequestId, SecretInfo } from '../types';
import { type UseCaseDeps, workspaceOf } from './deps';
import { openWithNewId } from './open-request';

/**
 * A secret active at Intercom without material in Vault gets a delete request opened by the bot, in
 * the name of the request that left it behind. Called by the Executor (wired in app.ts); resolves to
 * the new request's id, or null when none could be opened. `origin` may itself be an orphan's delete
 * that failed: the new one is then the orphan of the same create.
 */
export async function openOrphanDelete(
  deps: UseCaseDeps,
  origin: ApprovalRequest,
  secret: Pick<SecretInfo, 'id' | 'name' | 'platforms'>,
  why: string,
): Promise<RequestId | null> {
  const orphanOf = origin.orphanOf ?? origin.id;
  const ws = workspaceOf(deps, origin);
  if (!ws) return null;
  const operation: Operation = {
    action: 'delete',
    workspace: origin.operation.workspace,
    secretId: secret.id,
    secretName: secret.name,
    platforms: secret.platforms,
    force: true,
  };
  let impact: Platform[] = [];
  try {
    impact = platformsLeftWithout(await ws.intercom.listSecrets(), secret.id);
  } catch {
    impact = [...secret.platforms];
  }
  const opened = await openWithNewId(
    deps,
    ws,
    { userId: origin.requester, teamId: origin.teamId },
    origin.channel,
    operation,
    `orphan of ${orphanOf}: ${why}; its material is not in Vault, so nobody can sign with it`,
    impact,
    Number.MAX_SAFE_INTEGER,
    false,
    // It does not expire: left undecided, the orphan would stay active with nothing open about it.
    orphanOf,
  ).catch((err: unknown) => {
    deps.log.error({ err, requestId: origin.id }, 'could not open the orphan delete request');
    return null;
  });
  // Without waiting for the card, only `opened` carries an id (a refused card cannot happen here).
  return opened?.kind === 'opened' ? opened.id : null;
}
