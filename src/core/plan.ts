import { countByPlatform, platformsLeftWithout } from './impact';
import type { Platform, SecretInfo } from './types';

export type PlanSpec =
  | { readonly action: 'create'; readonly name: string; readonly platforms: readonly Platform[] }
  | { readonly action: 'delete'; readonly secretId: string; readonly force: boolean }
  | { readonly action: 'rotate'; readonly secretId: string; readonly compromised?: boolean };

export interface Plan {
  readonly action: PlanSpec['action'];
  readonly before: Record<Platform, number>;
  readonly after: Record<Platform, number>;
  /** Guard findings; any `blocking` one means the request would be refused at execution. */
  readonly checks: readonly { readonly ok: boolean; readonly blocking: boolean; readonly text: string }[];
  readonly steps: readonly string[];
}

/** `/ivs plan`: what a request would do, computed from the current listing. No side effects. */
export function planOperation(secrets: readonly SecretInfo[], spec: PlanSpec, approvalsRequired: number, minOverlap: string): Plan {
  const before = countByPlatform(secrets);
  const approvals = `${approvalsRequired} approval${approvalsRequired === 1 ? '' : 's'} from someone other than the requester`;
  if (spec.action === 'create') {
    const after = countByPlatform([...secrets, { id: 'new', name: spec.name, platforms: spec.platforms, createdAt: 0 }]);
    return {
      action: 'create',
      before,
      after,
      checks: [{ ok: true, blocking: false, text: 'Vault preflight runs before Intercom is touched' }],
      steps: [`needs ${approvals}`, 'creates the secret at Intercom, stores its material in Vault, repoints current/<platform>'],
    };
  }
  const target = secrets.find((s) => s.id === spec.secretId);
  if (!target) {
    return { action: spec.action, before, after: before, checks: [{ ok: false, blocking: true, text: `no secret with id ${spec.secretId}` }], steps: [] };
  }
  if (spec.action === 'delete') {
    const impact = platformsLeftWithout(secrets, target.id);
    const after = countByPlatform(secrets.filter((s) => s.id !== target.id));
    const guard =
      impact.length === 0
        ? { ok: true, blocking: false, text: 'impact guard: every platform keeps a secret' }
        : {
            ok: spec.force,
            blocking: !spec.force,
            text: `impact guard: ${impact.join(', ')} would be left with no secret${spec.force ? ' (acknowledged by --force)' : ' — refused without --force'}`,
          };
    return {
      action: 'delete',
      before,
      after,
      checks: [guard],
      steps: [`needs ${approvals}`, 'deletes at Intercom, marks the Vault entry deleted, repoints current/<platform>'],
    };
  }
  if (spec.compromised) {
    return {
      action: 'rotate',
      before,
      after: before,
      checks: [
        { ok: true, blocking: false, text: 'one rotation per secret at a time' },
        { ok: false, blocking: false, text: `COMPROMISED: ${target.id} is treated as leaked; a reason is required to open it` },
      ],
      steps: [
        `step 1 needs ${approvals}: creates a successor for ${target.platforms.join(', ')} and stores it in Vault`,
        `finishing is allowed as soon as the successor exists (no ${minOverlap} overlap wait): roll it out to every signer first`,
        `step 2 needs its own approval from someone other than whoever asks to finish: deletes ${target.id}, and every session signed with it breaks at once`,
      ],
    };
  }
  return {
    action: 'rotate',
    before,
    after: before,
    checks: [{ ok: true, blocking: false, text: 'one rotation per secret at a time' }],
    steps: [
      `step 1 needs ${approvals}: creates a successor for ${target.platforms.join(', ')} and stores it in Vault (during the overlap each platform has one more secret)`,
      `then roll the successor out to every signer; finishing is allowed after ${minOverlap}`,
      'step 2 needs its own approval from someone other than whoever asks to finish: deletes the old secret',
    ],
  };
}
